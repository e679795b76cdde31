"""Officials as the directory knows them: who has an account and a mailbox, per unit.

Read from `ou=People,<base_dn>` (the DIT of the shared contract) with ldap3, bound as `cn=provisioner`
(password from the province's secrets, provisioning.secrets): departmentNumber = unit code,
employeeNumber = HR id, mailEnabled, govAccountState. An official *has an account* unless
govAccountState is `disabled`, and *has a mailbox* when the account is active and mailEnabled is TRUE
(Postfix and Dovecot only see those).

Server: province.yml `report.ldap_url` (default `ldap://<center server address>`), with StartTLS
(slapd refuses simple binds without it) checking the server certificate against the provincial CA and
the names `<center>.<zone>` / `ldap.<zone>`. The CA certificate: `report.ldap_ca_file`, else
`var/<inventory>/secrets/ca.crt` when kept there, else read from the center server itself over SSH
(it is public; the SSH host key check is what makes it trustworthy).
"""
from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ldap3
from ldap3.core.exceptions import LDAPException

from ..model import Province
from ..paths import data_dir
from . import collect

if TYPE_CHECKING:
    from .settings import ReportSettings


CA_ON_SERVERS = "/usr/local/share/ca-certificates/provision-ca.crt"   # the pki role's trust file


class DirectoryError(Exception):
    """The directory could not be read (unreachable, bind refused)."""


@dataclass(frozen=True)
class Person:
    uid: str
    unit: str | None
    hr_id: str | None
    active: bool
    mailbox: bool


def _first(entry: dict, name: str) -> str | None:
    v = entry.get(name)
    if isinstance(v, list):
        v = v[0] if v else None
    return None if v is None else str(v)


def read_people(url: str, base_dn: str, bind_dn: str, password: str, ca_file: Path | None = None,
                tls_names: list[str] | None = None, timeout: float = 10) -> list[Person]:
    """Every person of ou=People; with `ca_file`, over StartTLS (or ldaps://) checking the certificate."""
    tls = ldap3.Tls(ca_certs_file=str(ca_file), validate=ssl.CERT_REQUIRED, valid_names=tls_names or None) \
        if ca_file else None
    server = ldap3.Server(url, connect_timeout=timeout, tls=tls, get_info=ldap3.NONE)
    try:
        conn = ldap3.Connection(server, user=bind_dn, password=password, receive_timeout=timeout,
                                raise_exceptions=True, read_only=True)
        if ca_file and not url.startswith("ldaps://"):
            conn.open()
            conn.start_tls()
        conn.bind()
        entries = conn.extend.standard.paged_search(
            f"ou=People,{base_dn}", "(objectClass=inetOrgPerson)", ldap3.LEVEL,
            attributes=["uid", "departmentNumber", "employeeNumber", "mailEnabled", "govAccountState"],
            paged_size=500, generator=False)
        conn.unbind()
    except LDAPException as e:
        # ldap3 messages name the server and the failure, never the password
        raise DirectoryError(f"{url} as {bind_dn}: {type(e).__name__}: {e}") from None
    people = []
    for e in entries:
        if e.get("type") != "searchResEntry":
            continue
        a = e["attributes"]
        uid = _first(a, "uid")
        if not uid:
            continue
        active = (_first(a, "govAccountState") or "active").lower() != "disabled"
        enabled = (_first(a, "mailEnabled") or "").upper() == "TRUE"
        people.append(Person(uid.lower(), _first(a, "departmentNumber"), _first(a, "employeeNumber"),
                             active, active and enabled))
    return people


def for_province(province: Province, cfg: "ReportSettings", timeout: float = 10) -> list[Person]:
    """Read the province's directory with the provisioner account (raises DirectoryError, or
    OperationFailed when the province has no secrets yet)."""
    from ..secrets import load_secrets

    center = next((h for h in province.center.hosts if "center_servers" in h.groups), None)
    url = cfg.ldap_url or (f"ldap://{center.address}" if center else None)
    if not url:
        raise DirectoryError("no LDAP server: set report.ldap_url in province.yml")
    password = load_secrets(province.inventory_dir)["ldap_provisioner"]
    bind_dn = f"cn=provisioner,ou=Services,{province.info.base_dn}"
    names = [f"{center.name}.{province.dns_zone}", f"ldap.{province.dns_zone}"] if center else []
    if not cfg.ldap_starttls:
        return read_people(url, province.info.base_dn, bind_dn, password, None, timeout=timeout)
    with tempfile.TemporaryDirectory() as tmp:
        ca = cfg.ldap_ca_file or data_dir(province.inventory_dir, "secrets") / "ca.crt"
        if not cfg.ldap_ca_file and not ca.is_file():
            if center is None:
                raise DirectoryError("no provincial CA certificate: set report.ldap_ca_file")
            try:
                ca = Path(tmp) / "ca.crt"
                ca.write_bytes(collect.read_file(center, CA_ON_SERVERS, timeout))
            except collect.CollectError as e:
                raise DirectoryError(f"provincial CA certificate: {e}") from None
        return read_people(url, province.info.base_dn, bind_dn, password, ca, names, timeout)
