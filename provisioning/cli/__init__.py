"""The `provision` command: sub-commands grouped by user job.

Exit codes: 0 ok, 1 the operation failed (a host, a service, a check), 2 bad input (nothing changed).
"""
from __future__ import annotations

import sys

import click
import typer

from .. import errors
from ..model import InventoryError
from ..render.console import err_console, error
from . import accounts, audit, backup, compliance, console, deploy, inventory, lab, pki, report, verify

app = typer.Typer(
    help="Provincial e-government infrastructure: audit unit LANs, deploy baseline services, "
         "keep identities and mailboxes in step with HR, report the directive's progress.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(inventory.app, name="inventory")
app.add_typer(audit.app, name="audit")
app.add_typer(lab.app, name="lab")
app.add_typer(report.app, name="report")
app.add_typer(backup.app, name="backup")
app.add_typer(accounts.app, name="accounts")
app.add_typer(console.app, name="console")
app.add_typer(pki.app, name="pki")
app.command("deploy")(deploy.run)
app.command("verify")(verify.run)
app.command("compliance")(compliance.run)


# typer >= 0.2x raises its own copies of click's exceptions; older typer raises click's.
_EXIT = (click.exceptions.Exit, typer.Exit)
_ABORT = (click.exceptions.Abort, typer.Abort)
_USAGE = (click.ClickException, typer.TyperException)


def main(argv: list[str] | None = None) -> int:
    try:
        rv = app(args=argv, standalone_mode=False, prog_name="provision")
    except _EXIT as e:
        rv = e.exit_code
    except _ABORT:
        error("aborted")
        rv = errors.FAILED
    except _USAGE as e:  # bad flags or arguments: usage message, exit 2
        if hasattr(e, "show"):
            e.show()
        else:
            error(str(e))
        rv = errors.BAD_INPUT
    except InventoryError as e:
        err_console.print(f"[bold red]invalid inventory: {len(e.issues)} problem(s)[/]")
        for issue in e.issues:
            err_console.print(f"  {issue}", highlight=False, markup=False)
        rv = errors.BAD_INPUT
    except errors.BadInput as e:
        error(str(e))
        rv = errors.BAD_INPUT
    except errors.OperationFailed as e:
        error(str(e))
        rv = errors.FAILED
    code = rv if isinstance(rv, int) else 0
    if argv is None:
        sys.exit(code)
    return code
