"""Typed shape of a province: `province.yml` plus the hosts of the Ansible inventory.

These classes only describe and check single records. Cross-record rules (unknown unit codes,
duplicate addresses, hosts in no unit...) live in `loader.py`, which knows the files.
"""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ..errors import BadInput
from .settings import Settings

# Agency identifier of QĐ 20/2020/QĐ-TTg: V1V2V3.Z1Z2.Y1Y2.Hxx (e.g. 000.00.00.H56 = provincial committee).
AGENCY_CODE = re.compile(r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9A-Z]{2}$")
# A province may also use its own short codes ("STTTT", "XA-PHU-THUAN").
LOCAL_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{1,31}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
DN = re.compile(r"^(dc|o|ou)=[^,=]+(,\s*(dc|o|ou|c|l|st)=[^,=]+)*$", re.IGNORECASE)
HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

# Inventory groups of the servers (playbooks/site.yml uses the same names): the integration center's, the units'.
CENTER_GROUP, UNIT_GROUP = "center_servers", "unit_servers"
SERVER_GROUPS = (CENTER_GROUP, UNIT_GROUP)
# The provisioning service account of the directory (the directory role creates it).
PROVISIONER_RDN = "cn=provisioner,ou=Services"

# netmiko device types the audit has a collector for; other vendors are added in audit/network.py.
KNOWN_DEVICE_TYPES = {"cisco_ios", "cisco_xe", "cisco_nxos", "huawei", "huawei_vrp", "hp_comware", "juniper_junos", "mikrotik_routeros"}


def nfc(text: str) -> str:
    """Vietnamese text is compared and stored in Unicode NFC (TCVN 6909:2001 text, one form)."""
    return unicodedata.normalize("NFC", text).strip()


class UnitKind(str, Enum):
    integration_center = "integration_center"
    department = "department"  # sở, ban, ngành cấp tỉnh
    commune = "commune"        # xã, phường, đặc khu
    other = "other"


class HostRole(str, Enum):
    server = "server"
    workstation = "workstation"
    switch = "switch"
    router = "router"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Admin(_Strict):
    """The unit's dedicated network administrator (the directive asks for a college IT degree)."""

    name: str = Field(min_length=1)
    qualification: str | None = None
    email: str | None = None
    phone: str | None = None

    @field_validator("name", "qualification")
    @classmethod
    def _nfc(cls, v: str | None) -> str | None:
        return nfc(v) if v else v


class UnitSpec(_Strict):
    code: str
    name: str = Field(min_length=1)
    kind: UnitKind
    parent: str | None = None
    short_name: str | None = None
    admin: Admin | None = None
    wan: list[ipaddress.IPv4Network] = Field(default_factory=list)
    # SSH host keys of the unit's hosts: "known-hosts" (default) trusts only keys already in the
    # inventory's known_hosts; "accept-new" is the first-contact opt-out (OpenSSH's accept-new): an
    # unknown key is accepted and recorded, a changed key is still refused (provisioning.transport.ssh).
    ssh_first_contact: Literal["known-hosts", "accept-new"] = "known-hosts"

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not (AGENCY_CODE.match(v) or LOCAL_CODE.match(v)):
            raise ValueError(
                f"{v!r} is neither an agency identifier (V.Z.Y.H, e.g. 000.00.01.H56) nor a local code "
                "(a letter, then up to 31 letters, digits, '-' or '_')")
        return v

    @field_validator("name", "short_name")
    @classmethod
    def _nfc(cls, v: str | None) -> str | None:
        return nfc(v) if v else v

    @field_validator("wan", mode="before")
    @classmethod
    def _wan(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        out = []
        for item in v or []:
            try:
                out.append(ipaddress.IPv4Network(str(item), strict=True))
            except ValueError as e:
                raise ValueError(f"bad CIDR {item!r}: {e}") from None
        return out


class ProvinceInfo(_Strict):
    name: str = Field(min_length=1)
    code: str | None = None
    mail_domain: str
    base_dn: str
    dns_zone: str | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    # DKIM selector of the mail domain (<selector>._domainkey.<mail_domain>); a new selector is a key
    # rotation: the next deploy makes a new key, publishes it and signs with it.
    dkim_selector: str = "mail"

    @field_validator("name")
    @classmethod
    def _nfc(cls, v: str) -> str:
        return nfc(v)

    @field_validator("mail_domain", "dns_zone")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.lower()
        if not DOMAIN.match(v):
            raise ValueError(f"{v!r} is not a DNS domain name (ASCII labels, e.g. bentre.gov.vn)")
        return v

    @field_validator("dkim_selector")
    @classmethod
    def _selector(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", v):
            raise ValueError(f"{v!r} is not a DKIM selector (one DNS label: lower-case letters, digits, '-', "
                             "e.g. mail or s2026)")
        return v

    @field_validator("base_dn")
    @classmethod
    def _dn(cls, v: str) -> str:
        if not DN.match(v):
            raise ValueError(f"{v!r} is not a directory base DN (e.g. dc=bentre,dc=gov,dc=vn)")
        return re.sub(r",\s+", ",", v)


class ProvinceFile(Settings):
    """Top level of province.yml: the province, its units, and the jobs' settings sections (inherited from
    settings.Settings, the one list of them; unknown keys are refused as in every section)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    province: ProvinceInfo
    units: list[UnitSpec] = Field(min_length=1)


class Host(BaseModel):
    """One inventory host, after group and host variables were merged."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    unit: str
    role: HostRole
    groups: list[str]
    address: str
    port: int = 22
    device_type: str | None = None
    os_family: str = "linux"
    user: str = "root"
    password: SecretStr | None = None
    key_file: Path | None = None
    vars: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def is_network(self) -> bool:
        return self.role in (HostRole.switch, HostRole.router)

    @property
    def is_server(self) -> bool:
        """A server that site.yml deploys (role server, in center_servers or unit_servers)."""
        return self.role == HostRole.server and bool(set(SERVER_GROUPS) & set(self.groups))


@dataclass(frozen=True)
class LdapTarget:
    """Where the province's directory answers and how the project's clients bind to it.

    `url`: ldap://<center server address> unless a setting overrides it (StartTLS on ldap://, TLS on
    ldaps://); `host`: the center server it names (None when no center server is known); `tls_names`: the
    names its certificate must carry (<center>.<zone>, ldap.<zone>); `bind_dn`: the provisioner account."""

    url: str
    host: Host | None
    base_dn: str
    bind_dn: str
    tls_names: tuple[str, ...] = ()

    @property
    def people(self) -> str:
        return f"ou=People,{self.base_dn}"

    @property
    def groups(self) -> str:
        return f"ou=Groups,{self.base_dn}"

    @property
    def ldaps(self) -> bool:
        return self.url.lower().startswith("ldaps://")


class Unit(UnitSpec):
    hosts: list[Host] = Field(default_factory=list)


class Province(BaseModel):
    info: ProvinceInfo
    units: dict[str, Unit]
    hosts: dict[str, Host]
    inventory_dir: Path
    settings: Settings = Field(default_factory=Settings)

    @property
    def dns_zone(self) -> str:
        return self.info.dns_zone or self.info.mail_domain

    @property
    def center(self) -> Unit:
        return next(u for u in self.units.values() if u.kind == UnitKind.integration_center)

    def fqdn(self, host: Host) -> str:
        """The host's name in the province's DNS zone (what certificates and the zone carry)."""
        return f"{host.name}.{self.dns_zone}"

    @property
    def center_servers(self) -> list[Host]:
        """The integration center's servers (group center_servers), by name."""
        return sorted((h for h in self.hosts.values() if h.is_server and CENTER_GROUP in h.groups),
                      key=lambda h: h.name)

    @property
    def center_server(self) -> Host:
        """THE center server: the first of center_servers by name (the loader requires at least one).
        It holds the directory's provider, the mail store, the provincial CA and the package mirror."""
        servers = self.center_servers
        if not servers:
            raise LookupError(f"{self.inventory_dir}: no host in group {CENTER_GROUP}")
        return servers[0]

    def servers(self, limit: str | None = None) -> list[Host]:
        """The servers site.yml deploys (center_servers and unit_servers), in inventory order; with
        `limit`, those of `select(limit)`. BadInput when `limit` matches nothing or no server."""
        from ..errors import BadInput

        try:
            chosen = [h for h in self.select(limit) if h.is_server]
        except KeyError as e:
            raise BadInput(str(e.args[0])) from None
        if not chosen:
            raise BadInput(f"--limit {limit!r} selects no server ({CENTER_GROUP} or {UNIT_GROUP})")
        return chosen

    def ldap_target(self, url: str | None = None, bind_dn: str | None = None) -> LdapTarget:
        """The directory as the project's clients reach it (`url`, `bind_dn`: a setting's overrides)."""
        center = self.center_servers[0] if self.center_servers else None
        names = (self.fqdn(center), f"ldap.{self.dns_zone}") if center else ()
        base = self.info.base_dn
        if not url and center is None:
            raise LookupError(f"{self.inventory_dir}: no LDAP server (no host in group {CENTER_GROUP})")
        return LdapTarget(url=url or f"ldap://{center.address}", host=center, base_dn=base,
                          bind_dn=bind_dn or f"{PROVISIONER_RDN},{base}", tls_names=names)

    def select(self, limit: str | None) -> list[Host]:
        """Hosts selected by --limit, the one grammar of every command: comma-separated selectors, each a
        unit code (the unit's hosts), a host name, or a shell pattern of host names (`*-sw01`).
        Raises BadInput naming the selector that matches nothing."""
        chosen: set[str] = set()
        for sel in self._selectors(limit):
            matched = self.units[sel].hosts if sel in self.units else \
                [h for h in self.hosts.values() if fnmatchcase(h.name, sel)]
            if not matched:
                raise BadInput(f"--limit {sel!r}: matches no unit code and no host of {self.inventory_dir}")
            chosen.update(h.name for h in matched)
        return [h for h in self.hosts.values() if not limit or h.name in chosen]

    def select_units(self, limit: str | None) -> list[Unit]:
        """Units selected by --limit (same grammar as `select`): a unit code, or the units of the
        selected hosts. Raises BadInput naming the selector that matches nothing."""
        chosen: set[str] = set()
        for sel in self._selectors(limit):
            chosen.update([sel] if sel in self.units else (h.unit for h in self.select(sel)))
        return [u for u in self.units.values() if not limit or u.code in chosen]

    @staticmethod
    def _selectors(limit: str | None) -> list[str]:
        if limit is None:
            return []
        selectors = [s.strip() for s in limit.split(",") if s.strip()]
        if not selectors:
            raise BadInput(f"--limit {limit!r}: no unit code, host name or pattern given")
        return selectors

    def unit_of(self, host: str) -> Unit:
        return self.units[self.hosts[host].unit]
