"""Options and helpers shared by the sub-commands."""
from __future__ import annotations

import os
from pathlib import Path

import typer

from ..errors import BadInput
from ..model import Province, load_province
from ..render import i18n

DEFAULT_INVENTORY = Path(os.environ.get("PROVISION_INVENTORY", "inventory/lab"))

InventoryOpt = typer.Option(
    DEFAULT_INVENTORY, "-i", "--inventory",
    help="Province inventory directory (hosts.yml + province.yml). Default: the lab province, or $PROVISION_INVENTORY.",
)


def _check_lang(value: str) -> str:
    """Checked while the flags are parsed, before any work: a bad value is a one-line BadInput (exit 2)."""
    if value not in i18n.LANGS:
        raise BadInput(f"--lang {value!r}: unsupported language (use {' or '.join(i18n.LANGS)})")
    return value


# The one --lang and the one --limit of every command. The --limit grammar is Province.select's: comma-separated
# unit codes, host names or host-name patterns; a selector that matches nothing is a BadInput naming it.
LangOpt = typer.Option(i18n.DEFAULT_LANG, "--lang", callback=_check_lang,
                       help="Language of the output (tables, files, sheets): vi (default) or en.")
LimitOpt = typer.Option(None, "--limit", "-l",
                        help="Unit codes, host names or host-name patterns such as '*-sw01' (comma-separated).")
JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")


def province(inventory: Path) -> Province:
    """Load the province; an invalid one raises InventoryError, which the CLI maps to exit code 2."""
    return load_province(inventory)
