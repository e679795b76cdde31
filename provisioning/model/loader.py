"""Load and validate a province: `inventory/<name>/hosts.yml` (Ansible YAML inventory, the source of
truth for hosts and groups, with optional group_vars/ and host_vars/) plus `inventory/<name>/province.yml`.

Every problem found is collected (not just the first) as an `Issue` naming the file, the unit or host,
and the field, so that an operator can fix the whole file in one pass.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import BadInput

from .schema import (
    CENTER_GROUP,
    HOSTNAME,
    KNOWN_DEVICE_TYPES,
    UNIT_GROUP,
    Host,
    HostRole,
    Province,
    ProvinceFile,
    Unit,
    UnitKind,
)
from .settings import Settings

# Inventory groups with a meaning for this project (playbooks/site.yml uses the same names).
ROLE_GROUPS = {
    CENTER_GROUP: HostRole.server,
    UNIT_GROUP: HostRole.server,
    "workstations": HostRole.workstation,
    "switches": HostRole.switch,
    "routers": HostRole.router,
    "network_devices": HostRole.switch,
}
NETWORK_ROLES = (HostRole.switch, HostRole.router)
SETTINGS_SECTIONS = tuple(Settings.model_fields)   # the typed sections of settings.py


@dataclass(frozen=True)
class Issue:
    file: str
    where: str
    field: str
    message: str

    def __str__(self) -> str:
        loc = f"{self.file}: {self.where}" if self.where else self.file
        return f"{loc}: {self.field}: {self.message}" if self.field else f"{loc}: {self.message}"


class InventoryError(BadInput):
    """The inventory is invalid; `issues` lists every problem found."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last one,
    which would hide a host defined twice)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, issues: list[Issue], required: bool = True) -> Any:
    if not path.exists():
        if required:
            issues.append(Issue(str(path), "", "", "file not found"))
        return None
    text = path.read_text(encoding="utf-8-sig", errors="strict")
    if text.lstrip().startswith("$ANSIBLE_VAULT"):
        return None  # vault-encrypted secrets: Ansible's business, not the model's
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        issues.append(Issue(str(path), where, "", f"invalid YAML: {getattr(e, 'problem', None) or e}"))
        return None


def _vars_dir(base: Path, name: str, issues: list[Issue]) -> dict:
    """group_vars/<name>.yml, .yaml, or group_vars/<name>/*.yml merged."""
    out: dict = {}
    files = [base / f"{name}.yml", base / f"{name}.yaml"]
    if (base / name).is_dir():
        files += sorted(p for p in (base / name).iterdir() if p.suffix in (".yml", ".yaml"))
    for f in files:
        data = read_yaml(f, issues, required=False)
        if isinstance(data, dict):
            out.update(data)
    return out


@dataclass
class _RawHost:
    name: str
    groups: list[str]
    vars: dict


def _walk_inventory(path: Path, data: Any, issues: list[Issue]) -> tuple[dict[str, _RawHost], dict[str, list[str]]]:
    """Flatten an Ansible YAML inventory into hosts with merged vars (all < parents < group < host)."""
    hosts: dict[str, _RawHost] = {}
    group_children: dict[str, list[str]] = {}
    f = str(path)
    if not isinstance(data, dict) or "all" not in data:
        issues.append(Issue(f, "", "all", "an Ansible YAML inventory must start with the group 'all'"))
        return hosts, group_children
    gv_dir = path.parent / "group_vars"
    hv_dir = path.parent / "host_vars"

    def walk(group: str, body: Any, inherited: dict, chain: list[str]) -> None:
        if group in chain:
            issues.append(Issue(f, f"group {group}", "children", "group contains itself"))
            return
        if body is None:
            body = {}
        if not isinstance(body, dict):
            issues.append(Issue(f, f"group {group}", "", "a group must be a mapping (hosts, vars, children)"))
            return
        unknown = set(body) - {"hosts", "vars", "children"}
        if unknown:
            issues.append(Issue(f, f"group {group}", ", ".join(sorted(unknown)),
                                "unknown key (a group holds only hosts, vars and children)"))
        gvars = dict(inherited)
        gvars.update(_vars_dir(gv_dir, group, issues))
        if isinstance(body.get("vars"), dict):
            gvars.update(body["vars"])
        for hname, hvars in (body.get("hosts") or {}).items():
            hname = str(hname)
            if hvars is not None and not isinstance(hvars, dict):
                issues.append(Issue(f, f"host {hname}", "", "host variables must be a mapping"))
                hvars = {}
            raw = hosts.setdefault(hname, _RawHost(hname, [], {}))
            raw.groups.extend(g for g in chain[1:] + [group] if g not in raw.groups and g != "all")
            merged = dict(gvars)
            merged.update(raw.vars)  # a host's earlier-seen vars stay (same host in several groups)
            merged.update(hvars or {})
            raw.vars = merged
        children = body.get("children") or {}
        if not isinstance(children, dict):
            issues.append(Issue(f, f"group {group}", "children", "must be a mapping of groups"))
            return
        group_children[group] = list(children)
        for child, cbody in children.items():
            walk(str(child), cbody, gvars, chain + [group])

    walk("all", data["all"], {}, [])
    for h in hosts.values():
        hv = _vars_dir(hv_dir, h.name, issues)
        h.vars.update(hv)
    return hosts, group_children


def _where_from_loc(loc: tuple, units_raw: list) -> tuple[str, str]:
    """Turn a pydantic error location into (where, field) an operator can find in province.yml."""
    loc = list(loc)
    if loc and loc[0] == "units" and len(loc) > 1 and isinstance(loc[1], int):
        idx = loc[1]
        raw = units_raw[idx] if idx < len(units_raw) and isinstance(units_raw[idx], dict) else {}
        code, name = raw.get("code"), raw.get("name")
        if code and loc[2:3] != ["code"]:
            where = f"unit {code}"
        else:  # the code itself is wrong: point at the list position and the unit's name
            where = f"units[{idx}]" + (f" ({name})" if name else "")
        return where, ".".join(str(x) for x in loc[2:]) or "(unit)"
    if loc and loc[0] in SETTINGS_SECTIONS:   # accounts.quota_mb.default: the key as written in the file
        return "", ".".join(str(x) for x in loc)
    return (str(loc[0]) if loc else ""), ".".join(str(x) for x in loc[1:])


def _host_role(raw: _RawHost, f: str, issues: list[Issue]) -> HostRole | None:
    roles = {ROLE_GROUPS[g] for g in raw.groups if g in ROLE_GROUPS}
    if raw.vars.get("device_role"):
        try:
            roles = {HostRole(raw.vars["device_role"])}
        except ValueError:
            issues.append(Issue(f, f"host {raw.name}", "device_role",
                                f"{raw.vars['device_role']!r} is not one of switch, router"))
            return None
    if not roles:
        issues.append(Issue(f, f"host {raw.name}", "groups",
                            "host is in none of the groups " + ", ".join(ROLE_GROUPS)))
        return None
    if len(roles) > 1:
        issues.append(Issue(f, f"host {raw.name}", "groups",
                            "host is in groups of different roles: " + ", ".join(sorted(r.value for r in roles))))
        return None
    return roles.pop()


def load_province(inventory_dir: str | Path) -> Province:
    """Read and validate a province. Raises InventoryError listing every problem."""
    inv = Path(inventory_dir)
    issues: list[Issue] = []
    if not inv.is_dir():
        raise InventoryError([Issue(str(inv), "", "", "inventory directory not found")])
    pfile = inv / "province.yml"
    hfile = inv / "hosts.yml"
    if not hfile.exists() and (inv / "hosts.yaml").exists():
        hfile = inv / "hosts.yaml"
    pdata = read_yaml(pfile, issues)
    hdata = read_yaml(hfile, issues)
    if issues:
        raise InventoryError(issues)

    pf = str(pfile)
    parsed: ProvinceFile | None = None
    if not isinstance(pdata, dict):
        issues.append(Issue(pf, "", "", "must be a mapping with 'province' and 'units'"))
    else:
        try:
            parsed = ProvinceFile.model_validate(pdata)
        except ValidationError as e:
            units_raw = pdata.get("units") if isinstance(pdata.get("units"), list) else []
            for err in e.errors():
                where, field = _where_from_loc(err["loc"], units_raw)
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    msg = "unknown key" if err["loc"][0] in SETTINGS_SECTIONS else "unknown field"
                elif err["type"] == "missing":
                    msg = "required field is missing"
                elif err["type"] == "enum":
                    msg = f"{err.get('input')!r} is not one of " + ", ".join(k.value for k in UnitKind)
                issues.append(Issue(pf, where, field, msg))

    units: dict[str, Unit] = {}
    if parsed:
        for spec in parsed.units:
            if spec.code in units:
                issues.append(Issue(pf, f"unit {spec.code}", "code", "duplicate unit code"))
                continue
            units[spec.code] = Unit(**spec.model_dump())
        for u in units.values():
            if u.parent and u.parent not in units:
                issues.append(Issue(pf, f"unit {u.code}", "parent", f"unknown unit code {u.parent!r}"))
            if u.parent == u.code:
                issues.append(Issue(pf, f"unit {u.code}", "parent", "a unit cannot be its own parent"))
        # parent cycles
        for u in units.values():
            seen, cur = {u.code}, u.parent
            while cur and cur in units:
                if cur in seen:
                    issues.append(Issue(pf, f"unit {u.code}", "parent", "parent chain loops back to the unit"))
                    break
                seen.add(cur)
                cur = units[cur].parent
        centers = [u.code for u in units.values() if u.kind == UnitKind.integration_center]
        if len(centers) != 1:
            issues.append(Issue(pf, "units", "kind",
                                f"exactly one unit must be the integration_center (found {len(centers)})"))
        # WAN ranges must not overlap between units: a login's source address names one unit
        nets = [(n, u.code) for u in units.values() for n in u.wan]
        for i, (n1, c1) in enumerate(nets):
            for n2, c2 in nets[i + 1:]:
                if n1.overlaps(n2):
                    issues.append(Issue(pf, f"unit {c2}", "wan", f"{n2} overlaps {n1} of unit {c1}"))

    # Unit codes as written, so host references are checked even when province.yml has other errors.
    known_codes = set(units)
    if not known_codes and isinstance(pdata, dict) and isinstance(pdata.get("units"), list):
        known_codes = {str(u["code"]) for u in pdata["units"] if isinstance(u, dict) and u.get("code")}
    hf = str(hfile)
    raw_hosts, _ = _walk_inventory(hfile, hdata, issues)
    hosts: dict[str, Host] = {}
    seen_addr: dict[tuple[str, int], str] = {}
    for raw in raw_hosts.values():
        where = f"host {raw.name}"
        v = raw.vars
        if not HOSTNAME.match(raw.name):
            issues.append(Issue(hf, where, "name", "host names are lower-case letters, digits and '-'"))
        role = _host_role(raw, hf, issues)
        unit = v.get("unit")
        if unit is None:
            issues.append(Issue(hf, where, "unit", "host belongs to no unit (set the host variable 'unit')"))
        elif known_codes and str(unit) not in known_codes:
            issues.append(Issue(hf, where, "unit", f"unknown unit code {unit!r} (not in {pfile.name})"))
        address = str(v.get("ansible_host") or raw.name)
        try:
            ipaddress.ip_address(address)
        except ValueError:
            labels = address.lower().split(".")
            if all(p.isdigit() for p in labels):   # 10.20.2.300: a mistyped address, never a DNS name
                issues.append(Issue(hf, where, "ansible_host", f"{address!r} is not a valid IP address"))
            elif not all(HOSTNAME.match(p) for p in labels):
                issues.append(Issue(hf, where, "ansible_host", f"{address!r} is neither an IP address nor a DNS name"))
        port_default = 22
        try:
            port = int(v.get("ansible_port", port_default))
            if not 0 < port < 65536:
                raise ValueError
        except (TypeError, ValueError):
            issues.append(Issue(hf, where, "ansible_port", f"{v.get('ansible_port')!r} is not a TCP port"))
            port = port_default
        key = (address, port)
        if key in seen_addr:
            issues.append(Issue(hf, where, "ansible_host",
                                f"address {address}:{port} is already used by host {seen_addr[key]}"))
        else:
            seen_addr[key] = raw.name
        device_type = v.get("device_type")
        if role in NETWORK_ROLES:
            if not device_type:
                issues.append(Issue(hf, where, "device_type",
                                    "network device needs a netmiko device_type (e.g. cisco_ios)"))
            elif device_type not in KNOWN_DEVICE_TYPES:
                issues.append(Issue(hf, where, "device_type",
                                    f"{device_type!r} is not one of " + ", ".join(sorted(KNOWN_DEVICE_TYPES))))
        os_family = str(v.get("os_family", "linux")).lower()
        if os_family not in ("linux", "windows"):
            issues.append(Issue(hf, where, "os_family", f"{os_family!r} is not one of linux, windows"))
        if role is None or unit is None or str(unit) not in units:
            continue
        key_file = v.get("ansible_ssh_private_key_file")
        password = v.get("ansible_password") or v.get("ansible_ssh_pass")
        hosts[raw.name] = Host(
            name=raw.name, unit=str(unit), role=role, groups=raw.groups, address=address, port=port,
            device_type=device_type, os_family=os_family,
            user=str(v.get("ansible_user", "root")),
            password=str(password) if password is not None else None,
            key_file=(inv / key_file) if key_file and not Path(key_file).is_absolute() else (Path(key_file) if key_file else None),
            vars=v,
        )
    if parsed and not any(h.role == HostRole.server and CENTER_GROUP in h.groups for h in hosts.values()) \
            and raw_hosts:
        issues.append(Issue(hf, f"group {CENTER_GROUP}", "hosts", "the integration center needs at least one server"))
    if parsed:
        issues += _settings_issues(parsed, set(raw_hosts), pf)
    if issues:
        raise InventoryError(issues)

    assert parsed is not None
    for h in sorted(hosts.values(), key=lambda h: h.name):
        units[h.unit].hosts.append(h)
    settings = Settings(**{k: getattr(parsed, k) for k in SETTINGS_SECTIONS})
    return Province(info=parsed.province, units=units, hosts=hosts, inventory_dir=inv,
                    settings=settings.resolved(inv))


def _settings_issues(parsed: ProvinceFile, host_names: set[str], pf: str) -> list[Issue]:
    """Settings that name inventory hosts must name existing ones."""
    out = []
    store = parsed.accounts.mail_store.host
    if store not in (None, "local") and store not in host_names:
        out.append(Issue(pf, "", "accounts.mail_store.host",
                         f"{store!r} is not a host of the inventory (or 'local')"))
    unknown = [h for h in parsed.report.mail_hosts if h not in host_names]
    if unknown:
        out.append(Issue(pf, "", "report.mail_hosts", f"unknown host(s) {', '.join(unknown)}"))
    return out
