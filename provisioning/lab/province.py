"""The lab's province: which units and hosts a lab has, and the inventory it writes.

Units come from the example province (inventory/example), so the lab rehearses a realistic province:
the integration center plus the first N other units; beyond the example's units, practice communes
are added. Each unit gets a /26 of the lab network as its WAN range.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..errors import BadInput
from ..model import UnitKind, load_province
from .image import RELEASES, repo

DEBIAN_CHOICES = (*RELEASES, "mixed")

# Switch vendors the lab simulates (displaysim.py); kept here so that importing the lab (the CLI does)
# needs none of the simulator's packages (asyncssh is a `lab` extra, absent on a console server).
VENDORS = ("cisco", "huawei", "h3c")     # `provision lab up --switch-vendors`

if TYPE_CHECKING:
    from .lab import Lab

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory" / "example"
MAX_UNITS, MAX_WS, MAX_SW = 40, 30, 9
WORKSTATION_DISKS_GB = (24, 6, 16)


@dataclass
class LabHost:
    name: str
    ip: str
    kind: str          # server | workstation | switch
    unit: str
    group: str
    disk_gb: int = 4   # size limit of the host's tmpfs layer (RAM is used only for what is written)
    pid: int | None = None
    vendor: str = ""   # switches: cisco | huawei | h3c
    release: str = ""  # Linux hosts: Debian codename of its image ("" = a lab made before per-release images)


@dataclass
class LabShape:
    units: int = 2
    workstations: int = 1
    switches: int = 1
    # the lab's switches take these vendors in turn (a unit LAN is rarely one brand)
    switch_vendors: list[str] = field(default_factory=lambda: ["cisco"])
    # Debian release of the hosts: "12", "13", or "mixed" (center on the newest, unit servers alternating
    # oldest/newest from the first unit on, workstations like their unit's server)
    debian: str = "13"

    def validate(self) -> None:
        for name, value, top in (("--units", self.units, MAX_UNITS), ("--workstations", self.workstations, MAX_WS),
                                 ("--switches", self.switches, MAX_SW)):
            if not 0 <= value <= top:
                raise BadInput(f"{name} {value}: must be between 0 and {top}")
        bad = [v for v in self.switch_vendors if v not in VENDORS]
        if bad or not self.switch_vendors:
            raise BadInput(f"--switch-vendors {','.join(self.switch_vendors)!r}: use one or more of "
                           f"{', '.join(VENDORS)}, separated by commas")
        if self.debian not in DEBIAN_CHOICES:
            raise BadInput(f"--debian {self.debian}: use one of {', '.join(DEBIAN_CHOICES)}")

    def release_of_unit(self, unit_index: int) -> str:
        """Codename of unit `unit_index`'s hosts (0 = the integration center)."""
        if self.debian != "mixed":
            return RELEASES[self.debian]
        newest, oldest = RELEASES[max(RELEASES, key=int)], RELEASES[min(RELEASES, key=int)]
        return newest if unit_index == 0 or unit_index % 2 == 0 else oldest


# netmiko device type of each simulated vendor
DEVICE_TYPES = {"cisco": "cisco_ios", "huawei": "huawei", "h3c": "hp_comware"}


@lru_cache(maxsize=1)
def _example():
    """The example province, read once per process (up, the host plan and the inventory all use it)."""
    return load_province(EXAMPLE)


def lab_domain() -> str:
    return _example().dns_zone


def lab_units(n: int) -> list[dict]:
    """The center, then n other units: (code, name, kind, prefix, admin)."""
    ex = _example()
    def prefix(u) -> str:
        servers = [h.name for h in u.hosts if h.name.endswith("-srv01")]
        return servers[0].removesuffix("-srv01") if servers else u.code.replace(".", "").lower()[-6:]
    ordered = [ex.center] + [u for u in ex.units.values() if u.kind != UnitKind.integration_center]
    out = [{"code": u.code, "name": u.name, "kind": u.kind.value, "prefix": prefix(u),
            "admin": u.admin.model_dump(exclude_none=True) if u.admin else None} for u in ordered[: n + 1]]
    for i in range(len(out), n + 1):
        out.append({"code": f"000.29.{i:02d}.{ex.info.code or 'H00'}", "name": f"Ủy ban nhân dân xã Thực hành {i:02d}",
                    "kind": "commune", "prefix": f"xath{i:02d}", "admin": None})
    return out


def _block(net: ipaddress.IPv4Network, unit_index: int) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network((int(net.network_address) + unit_index * 64, 26))


def plan_hosts(shape: LabShape, net: ipaddress.IPv4Network) -> list[LabHost]:
    """Addresses: unit i owns the i-th /26; its server is .10, workstations .20+, switches .50+."""
    hosts = []
    for i, u in enumerate(lab_units(shape.units)):
        base = _block(net, i).network_address
        center = u["kind"] == UnitKind.integration_center.value
        release = shape.release_of_unit(i)
        hosts.append(LabHost(f"{u['prefix']}-srv01", str(base + 10), "server", u["code"],
                             "center_servers" if center else "unit_servers", disk_gb=40, release=release))
        for w in range(shape.workstations):
            # Unit PCs are "weak and not uniform": disk sizes vary, so audits see mixed grades.
            hosts.append(LabHost(f"{u['prefix']}-ws{w + 1:02d}", str(base + 20 + w), "workstation", u["code"],
                                 "workstations", disk_gb=WORKSTATION_DISKS_GB[(i + w) % len(WORKSTATION_DISKS_GB)],
                                 release=release))
        for s in range(shape.switches):
            vendor = shape.switch_vendors[sum(1 for h in hosts if h.kind == "switch") % len(shape.switch_vendors)]
            hosts.append(LabHost(f"{u['prefix']}-sw{s + 1:02d}", str(base + 50 + s), "switch", u["code"], "switches",
                                 vendor=vendor))
    return hosts


def write_province(lab: "Lab", st: dict, inv: Path) -> None:
    """inventory/<lab>/hosts.yml + province.yml, ready for every command (`-i inventory/<lab>`)."""
    ex = _example()
    net = ipaddress.IPv4Network(st["network"])
    units = lab_units(st["shape"]["units"])
    sec = lab.secrets()
    known = f"-o UserKnownHostsFile={lab.dir / 'known_hosts'} -o StrictHostKeyChecking=yes"
    groups: dict[str, dict] = {g: {} for g in ("center_servers", "unit_servers", "workstations", "switches")}
    for h in st["hosts"]:
        hv = {"ansible_host": h["ip"], "unit": h["unit"]}
        if h["kind"] == "switch":
            vendor = h.get("vendor") or "cisco"
            hv.update({"device_type": DEVICE_TYPES[vendor], "ansible_user": "netadmin",
                       "ansible_password": sec["switch_password"],
                       "ansible_ssh_common_args": known})   # switch keys are checked like the servers' keys
            if vendor == "cisco":   # VRP and Comware have no enable mode
                hv["enable_secret"] = sec["enable_secret"]
        groups[h["group"]][h["name"]] = hv
    linux_vars = {
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(lab.dir / "id_ed25519"),
        "ansible_ssh_common_args": known,
        "ansible_python_interpreter": "/usr/bin/python3",
        # lab hosts share the machine's kernel clock: chronyd runs with -x (never sets it)
        "common_chrony_set_clock": False,
        # lab hosts reach no ClamAV mirror: the province's signature file only
        "hardening_clamav_freshclam": False,
        # the center's mirror fills each release's suite from that release's offline repository (every
        # release's repository is mounted read-only in every lab host)
        "package_mirror_sources": [f"deb [trusted=yes] file:{repo('{codename}')} ./"],
    }
    hosts_yml = {"all": {"children": {
        "linux": {"vars": linux_vars, "children": {
            "servers": {"children": {"center_servers": {"hosts": groups["center_servers"]},
                                     "unit_servers": {"hosts": groups["unit_servers"]}}},
            "workstations": {"hosts": groups["workstations"]}}},
        "network_devices": {"children": {"switches": {"hosts": groups["switches"]}}},
    }}}
    province = {
        "province": ex.info.model_dump(exclude_none=True),
        "units": [{"code": u["code"], "name": u["name"], "kind": u["kind"],
                   **({"admin": u["admin"]} if u["admin"] else {}),
                   "wan": [str(_block(net, i))]} for i, u in enumerate(units)],
    }
    province.update(ex.settings.written())
    inv.mkdir(parents=True, exist_ok=True)
    (inv / ".gitignore").write_text("# generated lab province: never committed\n*\n")
    (inv / ".lab").write_text(f"generated by `provision lab up --name {lab.name}`; removed by `lab down`\n")
    header = f"# Generated by `provision lab up --name {lab.name}`: the lab province. Do not edit; not in git.\n"
    _write(inv / "hosts.yml", header + yaml.safe_dump(hosts_yml, sort_keys=False, allow_unicode=True), 0o600)
    _write(inv / "province.yml", header + yaml.safe_dump(province, sort_keys=False, allow_unicode=True), 0o644)


def _write(path: Path, text: str, mode: int) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    tmp.replace(path)
