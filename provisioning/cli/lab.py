"""`provision lab ...`: the lab province on this machine (root)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import List, Optional

import typer

from .. import errors
from ..lab import Lab
from ..render.console import console, print_json, table

app = typer.Typer(help="Build, inspect and remove the lab province on this machine (needs root).",
                  no_args_is_help=True)

NameOpt = typer.Option(os.environ.get("PROVISION_LAB", "lab"), "--name", "-n",
                       help="Lab name (several labs can run side by side). Default: lab, or $PROVISION_LAB.")


def _lab(name: str) -> Lab:
    return Lab(name, log=lambda m: console.print(f"[dim]{m}[/]", highlight=False))


def _show(status, json: bool) -> int:
    if json:
        print_json({"name": status.name, "exists": status.exists, "network": status.network,
                    "inventory": status.inventory, "healthy": status.healthy, "hosts": status.hosts})
    elif not status.exists:
        console.print(f"lab {status.name}: not up")
    else:
        console.print(table(f"lab {status.name}  {status.network}  inventory {status.inventory}",
                            ["host", "kind", "unit", "debian", "address", "running", "ssh"],
                            [(h.name, f"{h.kind} ({h.vendor})" if h.vendor else h.kind, h.unit,
                              f"{h.debian} ({h.release})" if h.release else "", h.ip,
                              "yes" if h.running else "no", "[green]answers[/]" if h.ssh else f"[red]{h.detail}[/]")
                             for h in status.hosts]))
    return errors.OK if status.healthy or not status.exists else errors.FAILED


@app.command("up")
def up(name: str = NameOpt,
       units: int = typer.Option(2, "--units", help="Unit servers (units besides the integration center)."),
       workstations: int = typer.Option(1, "--workstations", help="Workstations per unit (center included)."),
       switches: int = typer.Option(1, "--switches", help="Simulated switches per unit."),
       switch_vendors: str = typer.Option("cisco", "--switch-vendors",
                                          help="Vendors the switches take in turn: cisco, huawei, h3c "
                                               "(comma-separated, e.g. cisco,huawei,h3c)."),
       debian: str = typer.Option("13", "--debian",
                                  help="Debian release of the hosts: 12, 13, or mixed (integration center on 13, "
                                       "unit servers alternating 12 and 13 from the first unit on, workstations "
                                       "like their unit's server)."),
       inventory_out: Optional[Path] = typer.Option(None, "--inventory-out",
                                                    help="Where to write the lab province (default inventory/NAME)."),
       json: bool = typer.Option(False, "--json")) -> int:
    """Build the lab (safe to run again: repairs stopped hosts)."""
    vendors = [v.strip().lower() for v in switch_vendors.split(",") if v.strip()]
    status = _lab(name).up(units=units, workstations=workstations, switches=switches, inventory_dir=inventory_out,
                           switch_vendors=vendors, debian=debian.strip().lower())
    rc = _show(status, json)
    if not json and status.healthy:
        console.print(f"[green]lab {name} is up[/]: try `provision inventory check -i {status.inventory}`")
    return rc


@app.command("status")
def status(name: str = NameOpt, json: bool = typer.Option(False, "--json")) -> int:
    """Show each lab host and whether its sshd answers (exit 1 if one does not)."""
    return _show(_lab(name).status(), json)


@app.command("down")
def down(name: str = NameOpt) -> int:
    """Remove the lab: processes, mounts, namespaces, links, state and its generated inventory."""
    removed = _lab(name).down()
    console.print(f"lab {name}: removed {len(removed)} item(s)" if removed else f"lab {name}: nothing to remove")
    return errors.OK


@app.command("ssh")
def ssh(host: str, command: List[str] = typer.Argument(None), name: str = NameOpt) -> int:
    """Open a shell on a lab host, or run COMMAND there."""
    lab = _lab(name)
    args = lab.ssh_args(host) + ([" ".join(command)] if command else [])
    return subprocess.call(args if command else [args[0], "-t", *args[1:]])


@app.command("stop")
def stop(host: str, name: str = NameOpt) -> int:
    """Stop one lab host (kill its init): it becomes unreachable, its files stay."""
    _lab(name).stop_host(host)
    console.print(f"{host} stopped")
    return errors.OK


@app.command("start")
def start(host: str, name: str = NameOpt) -> int:
    """Start a stopped lab host again."""
    _lab(name).start_host(host)
    console.print(f"{host} started")
    return errors.OK
