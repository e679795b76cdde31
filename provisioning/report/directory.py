"""Officials as the directory knows them: who has an account and a mailbox, per unit.

Read from `ou=People,<base_dn>` (the DIT of the shared contract) with ldap3, bound as `cn=provisioner`
(password from the province's secrets, provisioning.secrets): departmentNumber = unit code,
employeeNumber = HR id, mailEnabled, govAccountState. An official *has an account* unless
govAccountState is `disabled`, and *has a mailbox* when the account is active and mailEnabled is TRUE
(Postfix and Dovecot only see those).

Server: province.yml `report.ldap_url` (default `ldap://<center server address>`), with StartTLS
(slapd refuses simple binds without it) checking the server certificate against the provincial CA and
the names `<center>.<zone>` / `ldap.<zone>` (`Province.ldap_target()`). The CA certificate:
`report.ldap_ca_file`, else the provincial CA read from the center server over SSH and kept in
`var/<inventory>/ca.crt` (provisioning.transport.ca).
"""
from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ldap3
from ldap3.core.exceptions import LDAPException

from ..errors import OperationFailed
from ..model import Province
from ..transport import ca as transport_ca

if TYPE_CHECKING:
    from ..model import ReportSettings


class DirectoryError(Exception):
    """The directory could not be read (unreachable, bind refused)."""


@dataclass(frozen=True)
class PersonStatus:
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
                tls_names: list[str] | None = None, timeout: float = 10) -> list[PersonStatus]:
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
        people.append(PersonStatus(uid.lower(), _first(a, "departmentNumber"), _first(a, "employeeNumber"),
                             active, active and enabled))
    return people


def for_province(province: Province, cfg: "ReportSettings", timeout: float = 10) -> list[PersonStatus]:
    """Read the province's directory with the provisioner account (raises DirectoryError, or
    OperationFailed when the province has no secrets yet)."""
    from ..secrets import load_secrets

    try:
        target = province.ldap_target(cfg.ldap_url)
    except LookupError:
        raise DirectoryError("no LDAP server: set report.ldap_url in province.yml") from None
    password = load_secrets(province.inventory_dir)["ldap_provisioner"]
    if not cfg.ldap_starttls:
        return read_people(target.url, target.base_dn, target.bind_dn, password, None, timeout=timeout)
    ca = cfg.ldap_ca_file
    if not ca:
        try:
            ca = transport_ca.ca_file(province, timeout)
        except OperationFailed as e:
            raise DirectoryError(f"provincial CA certificate: {e} (or set report.ldap_ca_file)") from None
    return read_people(target.url, target.base_dn, target.bind_dn, password, ca, list(target.tls_names), timeout)
