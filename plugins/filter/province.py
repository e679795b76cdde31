"""Filters over the province facts the deploy passes (`province_*`) and small computations the roles
need, kept here instead of nested Jinja in defaults, templates and tasks so that each one is named and
tested (tests/plugins/test_filters.py). ansible.cfg's filter_plugins finds this file.

Every filter is a plain function of plain data (lists, dicts, strings): no Ansible run is needed to
test it.
"""
from __future__ import annotations

import re

try:  # Ansible's own error when run by Ansible; a plain ValueError subclass in unit tests otherwise
    from ansible.errors import AnsibleFilterError
except ImportError:  # pragma: no cover
    class AnsibleFilterError(ValueError):  # type: ignore[no-redef]
        pass


def province_unit(units: list[dict], code: str) -> dict:
    """The unit with this code from `province_units` (a unit server's own unit)."""
    for unit in units:
        if unit.get("code") == code:
            return unit
    raise AnsibleFilterError(f"province_unit: no unit with code {code!r} in province_units "
                             f"(known: {', '.join(str(u.get('code')) for u in units)})")


def unit_names(units: list[dict]) -> dict[str, str]:
    """{code: name} of every unit, in the province's order."""
    return {u["code"]: u["name"] for u in units}


def unit_codes(units: list[dict]) -> list[str]:
    return [u["code"] for u in units]


def wan_ranges(units: list[dict]) -> list[str]:
    """Every unit's WAN ranges, each once, in the province's order (the province's networks)."""
    seen: dict[str, None] = {}
    for unit in units:
        for net in unit.get("wan") or []:
            seen.setdefault(net, None)
    return list(seen)


def server_addresses(servers: dict[str, dict]) -> dict[str, str]:
    """{host name: address} of `province_servers`."""
    return {name: server["address"] for name, server in servers.items()}


def ntp_clients(units: list[dict], host: str, center_host: str, unit: str | None = None) -> list[str]:
    """Who may ask `host` for the time: the center serves every unit's WAN ranges; a unit server serves
    the networks admitted to its unit (the unit's own and the center's)."""
    if host == center_host:
        return wan_ranges(units)
    if unit is None:
        raise AnsibleFilterError(f"ntp_clients: unit server {host!r} has no host variable 'unit'")
    return list(province_unit(units, unit).get("admitted") or [])


def resolvers(host: str, center_host: str, servers: dict[str, dict]) -> list[str]:
    """Resolvers for /etc/resolv.conf: the local dns role's server, then (unit servers) the center's."""
    if host == center_host:
        return ["127.0.0.1"]
    return ["127.0.0.1", servers[center_host]["address"]]


def in_zone(names: list[str], zone: str) -> list[str]:
    """Relative names made fully qualified in `zone` (`ldap` -> `ldap.<zone>`)."""
    return [f"{name}.{zone}" for name in names]


ZONE_SERIAL = re.compile(r"(\d+)\s*; serial")


def zone_serial(text: str) -> int:
    """The serial of a zone file this project wrote (the number before `; serial`); 0 if none."""
    m = ZONE_SERIAL.search(text or "")
    return int(m.group(1)) if m else 0


def next_zone_serial(old: int | str, unchanged: bool | str, date: str) -> int:
    """The zone serial to write: `old` while the zone's content is unchanged, else
    max(old + 1, <date>00) with `date` as YYYY-MM-DD (or YYYYMMDD). `unchanged` may come as Jinja's
    text of a comparison ("True"/"False")."""
    old = int(old)
    if isinstance(unchanged, str):
        unchanged = unchanged.strip().lower() in ("true", "yes", "1")
    if unchanged:
        return old
    today = int(date.replace("-", "") + "00")
    return max(old + 1, today)


def dkim_txt_strings(pem: str, size: int = 200) -> list[str]:
    """The `p=` value of a DKIM TXT record from a PEM public key (its body is the base64 of the DER key),
    cut into pieces of `size` characters, the first one led by `p=` (a TXT string holds at most 255 bytes)."""
    body = re.sub(r"\s", "", re.sub(r"-----[A-Z ]+-----", "", pem or ""))
    if not body:
        raise AnsibleFilterError("dkim_txt_strings: no public key in the PEM text")
    return [("p=" if i == 0 else "") + body[i:i + size] for i in range(0, len(body), size)]


UNIT_GROUP_KINDS = (("unit", "Cán bộ: "), ("admins", "Quản trị: "))


def unit_group_entries(codes: list[str], names: dict[str, str], base_dn: str, placeholder_dn: str) -> list[dict]:
    """The two groups of every unit, as the directory role creates them (ldapi_entry entries):
    cn=unit-<code> (its officials; provision accounts changes only their members) and cn=admins-<code>
    (who may write its people). groupOfNames needs a member: a new group holds `placeholder_dn`."""
    missing = [c for c in codes if c not in names]
    if missing:
        raise AnsibleFilterError(f"unit_group_entries: no name for unit(s) {', '.join(missing)}")
    return [{"dn": f"cn={kind}-{code},ou=Groups,{base_dn}",
             "attributes": {"objectClass": ["top", "groupOfNames"], "cn": f"{kind}-{code}",
                            "description": label + names[code], "member": placeholder_dn}}
            for kind, label in UNIT_GROUP_KINDS for code in codes]


PROVINCE_ROLE_GROUPS = (("province-hr", "Tổ chức cán bộ tỉnh (province HR)"),
                        ("province-office", "Văn phòng tỉnh (provincial office)"))


def province_role_group_entries(base_dn: str, placeholder_dn: str) -> list[dict]:
    """The province-wide groups of the web console's roles (cn=province-hr, cn=province-office), as the
    directory role creates them; `provision accounts grant|revoke` changes their members only."""
    return [{"dn": f"cn={cn},ou=Groups,{base_dn}",
             "attributes": {"objectClass": ["top", "groupOfNames"], "cn": cn, "description": label,
                            "member": placeholder_dn}}
            for cn, label in PROVINCE_ROLE_GROUPS]


def ldap_starttls_flag(uri: str) -> str:
    """`-ZZ ` (StartTLS required) for an ldap:// URI, nothing for ldapi:// and ldaps:// (Squid's helpers)."""
    return "-ZZ " if uri.startswith("ldap://") else ""


class FilterModule:
    def filters(self):
        return {f.__name__: f for f in (province_unit, unit_names, unit_codes, wan_ranges, server_addresses,
                                        ntp_clients, resolvers, in_zone, zone_serial, next_zone_serial,
                                        dkim_txt_strings, unit_group_entries, province_role_group_entries,
                                        ldap_starttls_flag)}
