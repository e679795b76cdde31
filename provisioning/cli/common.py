"""Options and helpers shared by the sub-commands."""
from __future__ import annotations

import os
from pathlib import Path

import typer

from ..model import Province, load_province

DEFAULT_INVENTORY = Path(os.environ.get("PROVISION_INVENTORY", "inventory/lab"))

InventoryOpt = typer.Option(
    DEFAULT_INVENTORY, "-i", "--inventory",
    help="Province inventory directory (hosts.yml + province.yml). Default: the lab province, or $PROVISION_INVENTORY.",
)
LimitOpt = typer.Option(None, "--limit", "-l", help="Unit code, host name or host pattern (comma-separated).")
JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")


def province(inventory: Path) -> Province:
    """Load the province; an invalid one raises InventoryError, which the CLI maps to exit code 2."""
    return load_province(inventory)
