"""What changed between two audits (e.g. last month and this month): hosts added or removed, hosts whose
status or grade changed, units whose compliance changed, and hardware/software facts that changed.

Only facts that describe the machine are compared (model, serial, CPU, RAM, disks, NICs, OS, kernel,
switch configuration hash...); values that move on their own (uptime, free space) are left out so the
list shows real changes: a swapped disk, added RAM, an OS upgrade, a switch reconfigured.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMPARED_FACTS = (
    "hostname", "vendor", "model", "serial", "cpu_model", "cpu_cores", "ram_mb", "disks", "disk_total_gb",
    "nics", "os_name", "os_version", "kernel", "arch",
    "config_saved", "running_config_sha256", "vlan_count", "interfaces_up",
)


@dataclass
class HostChange:
    host: str
    unit: str
    old: str          # "audited/pass", "unreachable", ...
    new: str


@dataclass
class FactChange:
    host: str
    fact: str
    old: Any
    new: Any


@dataclass
class UnitChange:
    unit: str
    name: str
    old_percent: float | None
    new_percent: float | None


@dataclass
class AuditDiff:
    old_run: str
    new_run: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[HostChange] = field(default_factory=list)
    facts: list[FactChange] = field(default_factory=list)
    units: list[UnitChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.facts or self.units)


def _state(h: dict) -> str:
    return f"{h['status']}/{h['grade']}" if h.get("grade") else h["status"]


def _comparable(fact: str, value: Any) -> Any:
    """Lists become short stable text: disks by name and size, NICs by name and MAC."""
    if fact == "disks" and isinstance(value, list):
        return ", ".join(sorted(f"{d.get('name')} {d.get('size_gb')} GB" for d in value))
    if fact == "nics" and isinstance(value, list):
        return ", ".join(sorted(f"{n.get('name')} {n.get('mac')}" for n in value))
    return value


def diff_audits(old: dict, new: dict) -> AuditDiff:
    out = AuditDiff(old_run=old["run"]["id"], new_run=new["run"]["id"])
    old_hosts = {h["host"]: h for h in old["hosts"]}
    new_hosts = {h["host"]: h for h in new["hosts"]}
    out.added = [h for h in new_hosts if h not in old_hosts]
    out.removed = [h for h in old_hosts if h not in new_hosts]
    for name, n in new_hosts.items():
        o = old_hosts.get(name)
        if o is None:
            continue
        if _state(o) != _state(n):
            out.changed.append(HostChange(name, n["unit"], _state(o), _state(n)))
        if o["status"] != "audited" or n["status"] != "audited":
            continue  # facts of an unaudited host are unknown, not changed
        for fact in COMPARED_FACTS:
            a, b = _comparable(fact, o["facts"].get(fact)), _comparable(fact, n["facts"].get(fact))
            if a != b:
                out.facts.append(FactChange(name, fact, a, b))
    old_units = {u["unit"]: u for u in old["units"]}
    for u in new["units"]:
        before = old_units.get(u["unit"], {}).get("percent")
        if before != u["percent"]:
            out.units.append(UnitChange(u["unit"], u["name"], before, u["percent"]))
    return out
