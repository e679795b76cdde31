"""`provision backup ...`: snapshots of the servers (directory, mail store, /etc) and their restore."""
from __future__ import annotations

from pathlib import Path

import typer

from .. import errors
from ..backup import ops
from ..render.console import console, print_json, table
from .common import InventoryOpt, JsonOpt, LimitOpt

app = typer.Typer(help="Back up and restore the servers (directory, mail store, configuration).",
                  no_args_is_help=True)


def _show(title: str, results: list[ops.BackupHostResult]) -> None:
    rows = []
    for r in results:
        if not r.ok:
            rows.append([r.host, "-", "-", "-", "-", "-", f"[red]{r.error}[/]"])
        for s in r.snapshots:
            rows.append([r.host, s.snapshot, s.entries if s.entries is not None else "-",
                         s.messages if s.messages is not None else "-", f"{s.bytes / 1e6:.1f} MB",
                         f"{s.age_hours()} h", ", ".join(r.removed) and f"pruned {', '.join(r.removed)}"])
        if r.ok and not r.snapshots:
            rows.append([r.host, "[yellow]none[/]", "-", "-", "-", "-", ""])
    console.print(table(title, ["host", "snapshot", "entries", "messages", "size", "age", "note"], rows))


@app.command("run")
def run(inventory: Path = InventoryOpt, limit: str = LimitOpt, json: bool = JsonOpt) -> int:
    """Take a snapshot on every selected server now (the role also takes one daily, by cron)."""
    results = ops.run(inventory, limit)
    print_json(results) if json else _show(f"backup run {inventory}", results)
    return errors.OK if all(r.ok for r in results) else errors.FAILED


@app.command("list")
def list_(inventory: Path = InventoryOpt, limit: str = LimitOpt, json: bool = JsonOpt) -> int:
    """Snapshots kept on every selected server, oldest first."""
    results = ops.list_snapshots(inventory, limit)
    print_json(results) if json else _show(f"backups {inventory}", results)
    return errors.OK if all(r.ok for r in results) else errors.FAILED


@app.command("restore")
def restore(host: str = typer.Option(..., "--host", help="Server to restore (inventory host name)."),
            source: str = typer.Option(..., "--from", help="Snapshot name from `provision backup list`, "
                                                            "or 'latest'."),
            what: str = typer.Option("ldap,mail", "--what", help="ldap, mail, or both (comma-separated)."),
            mailbox: str = typer.Option(None, "--mailbox", help="Restore only this mailbox (uid@domain)."),
            inventory: Path = InventoryOpt, json: bool = JsonOpt) -> int:
    """Restore a server's directory and/or mail store from one of its snapshots.

    The directory's current database is moved aside on the server, never deleted; mail is extracted
    over the current store (messages received since the snapshot stay)."""
    r = ops.restore(inventory, host, source, [w.strip() for w in what.split(",") if w.strip()], mailbox)
    if json:
        print_json(r)
    else:
        console.print(table(f"restore {host} from {r.snapshot}", ["host", "snapshot", "entries", "messages",
                                                                  "previous database", "result"],
                            [[r.host, r.snapshot, r.entries if r.entries is not None else "-",
                              r.messages if r.messages is not None else "-", r.previous_database or "-",
                              "[green]restored[/]" if r.ok else f"[red]{r.error}[/]"]]))
    return errors.OK if r.ok else errors.FAILED
