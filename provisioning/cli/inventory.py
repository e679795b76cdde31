"""`provision inventory ...`: validate and show a province."""
from __future__ import annotations

import ipaddress
from pathlib import Path

import typer
from rich.tree import Tree

from .. import errors
from ..model import HostRole, InventoryError, Province, UnitKind, load_province
from ..render.console import console, err_console, print_json
from .common import InventoryOpt, JsonOpt

app = typer.Typer(help="Check and show the province model (units, hosts, groups).", no_args_is_help=True)

KIND_LABEL = {UnitKind.integration_center: "integration center", UnitKind.department: "department/board",
              UnitKind.commune: "commune/ward", UnitKind.other: "other"}


def warnings_for(p: Province) -> list[str]:
    """Facts that do not make the inventory invalid but that the directive cares about."""
    out = []
    for u in p.units.values():
        if not u.admin:
            out.append(f"unit {u.code} ({u.name}): no network administrator named")
        if not any(h.role == HostRole.server for h in u.hosts) and u.kind != UnitKind.integration_center:
            out.append(f"unit {u.code} ({u.name}): no unit server in the inventory")
    out += _address_warnings(p)
    return out


def _address_warnings(p: Province) -> list[str]:
    """A host whose IP address lies in another unit's WAN range, or outside its own unit's ranges, is
    usually a copy-paste slip; logins and mail use are counted per unit by these ranges."""
    out = []
    owners = [(net, u) for u in p.units.values() for net in u.wan]
    for h in sorted(p.hosts.values(), key=lambda h: h.name):
        try:
            ip = ipaddress.ip_address(h.address)
        except ValueError:
            continue                                   # a DNS name: nothing to compare
        unit = p.units[h.unit]
        other = next((u for net, u in owners if u.code != unit.code and ip in net), None)
        if other:
            out.append(f"host {h.name} (unit {unit.code}): address {ip} is in the WAN range of unit {other.code} "
                       f"({other.name})")
        elif unit.wan and not any(ip in net for net in unit.wan):
            out.append(f"host {h.name} (unit {unit.code}): address {ip} is outside the unit's WAN ranges "
                       f"({', '.join(map(str, unit.wan))})")
    return out


def province_summary(p: Province) -> dict:
    return {
        "valid": True,
        "inventory": str(p.inventory_dir),
        "province": p.info,
        "units": [
            {"code": u.code, "name": u.name, "kind": u.kind, "parent": u.parent, "admin": u.admin,
             "wan": u.wan,
             "hosts": [{"name": h.name, "role": h.role, "address": h.address, "port": h.port,
                        "groups": h.groups, "device_type": h.device_type, "os_family": h.os_family}
                       for h in u.hosts]}
            for u in p.units.values()
        ],
        "counts": {"units": len(p.units), "hosts": len(p.hosts),
                   **{r.value: sum(1 for h in p.hosts.values() if h.role == r) for r in HostRole}},
        "warnings": warnings_for(p),
    }


def render_tree(p: Province) -> Tree:
    root = Tree(f"[bold]{p.info.name}[/]  mail {p.info.mail_domain}  base {p.info.base_dn}  "
                f"({len(p.units)} units, {len(p.hosts)} hosts)")
    nodes: dict[str, Tree] = {}

    def add(code: str, parent: Tree) -> None:
        u = p.units[code]
        admin = f"admin {u.admin.name}" if u.admin else "[yellow]no network admin[/]"
        wan = ", ".join(str(n) for n in u.wan) or "no WAN range"
        node = parent.add(f"[cyan]{u.code}[/] {u.name}  [dim]{KIND_LABEL[u.kind]}; {admin}; {wan}[/]")
        nodes[code] = node
        for h in u.hosts:
            extra = f" {h.device_type}" if h.device_type else ""
            extra += " (windows)" if h.os_family == "windows" else ""
            node.add(f"{h.name}  [dim]{h.role.value} {h.address}:{h.port}{extra}[/]")
        for child in sorted(c.code for c in p.units.values() if c.parent == code):
            add(child, node)

    for code in (u.code for u in p.units.values() if not u.parent):
        add(code, root)
    return root


@app.command("check")
def check(inventory: Path = InventoryOpt, json: bool = JsonOpt) -> int:
    """Validate the province (exit 0 valid, 2 invalid) and print it as a tree: units -> hosts."""
    try:
        p = load_province(inventory)
    except InventoryError as e:
        if json:
            print_json({"valid": False, "inventory": str(inventory), "errors": e.issues})
        else:
            err_console.print(f"[bold red]{inventory}: {len(e.issues)} problem(s)[/]")
            for issue in e.issues:
                err_console.print(f"  {issue}", highlight=False, markup=False)
        return errors.BAD_INPUT
    summary = province_summary(p)
    if json:
        print_json(summary)
    else:
        console.print(render_tree(p))
        for w in summary["warnings"]:
            console.print(f"[yellow]warning:[/] {w}", highlight=False)
        console.print(f"[green]valid[/]: {inventory}")
    return errors.OK
