"""The province directory as the accounts code sees it: where it is, how to bind, and one lean read.

Target: the integration center's LDAP (`Province.ldap_target()`: `ldap://<center server>`, StartTLS
with the provincial CA of provisioning.transport.ca), bound as `cn=provisioner,ou=Services,<base>` with the password from the deploy secrets. Tests
and special setups override any of these in province.yml `accounts.ldap`.

`read_state` reads ou=People and the unit groups once, with paged searches (a server size limit of
500 would otherwise silently truncate the list and make everyone look like a leaver) and only the
attributes the diff needs.
"""
from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path

import ldap3
from ldap3.utils.conv import escape_filter_chars
from pydantic import SecretStr

from ..errors import OperationFailed
from ..model import AccountsSettings, LdapTarget, Province
from ..transport import ca as transport_ca
from . import ldapwire

PAGE = 500  # OpenLDAP refuses pages larger than the bind's soft size limit (500 unless raised)
PERSON_ATTRS = ["uid", "objectClass", "employeeNumber", "departmentNumber", "title", "cn", "sn", "givenName",
                "displayName", "mailEnabled", "govAccountState", "govDisabledAt", "mailQuotaMB", "description",
                "pwdReset"]
ACTIVE, DISABLED = "active", "disabled"
HIDDEN = {"userpassword", "sambantpassword", "sambalmpassword"}  # never returned by find() (show)


@dataclass(frozen=True)
class Target(LdapTarget):
    """The province's directory (Province.ldap_target()) with what the accounts commands bind with."""

    password: SecretStr = field(default=SecretStr(""), repr=False)
    starttls: bool = False
    ca_file: Path | None = None

    @property
    def placeholder_member(self) -> str:
        """The member every unit group keeps so that it is never empty (the rootDN, no entry),
        as the directory role creates the groups."""
        return f"cn=admin,{self.base_dn}"

    def person_dn(self, uid: str) -> str:
        return f"uid={uid},{self.people}"

    def unit_group_dn(self, unit: str) -> str:
        return f"cn=unit-{unit},{self.groups}"


def resolve_target(province: Province, settings: AccountsSettings) -> Target:
    cfg = settings.ldap
    try:
        where = province.ldap_target(cfg.url, cfg.bind_dn)
    except LookupError:
        raise OperationFailed("no LDAP server: set accounts.ldap.url in province.yml or add a center server") from None
    if cfg.password_file:
        try:
            password = cfg.password_file.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise OperationFailed(f"accounts.ldap.password_file: cannot read {cfg.password_file}: "
                                  f"{e.strerror}") from None
    else:
        from ..secrets import load_secrets

        password = load_secrets(province.inventory_dir)["ldap_provisioner"]
    ca = None
    if cfg.starttls:
        ca = cfg.ca_file or _center_ca(province)
    return Target(url=where.url, host=where.host, base_dn=where.base_dn, bind_dn=where.bind_dn,
                  tls_names=where.tls_names, password=SecretStr(password), starttls=cfg.starttls, ca_file=ca)


def _center_ca(province: Province) -> Path:
    """The provincial CA certificate, read from the center on every run (provisioning.transport.ca: a
    rebuilt center or a renewed CA must not leave a stale copy that fails every StartTLS); the kept copy
    when the center cannot be read over SSH."""
    try:
        return transport_ca.ca_file(province)
    except OperationFailed as e:
        raise OperationFailed(f"provincial CA certificate: {e} (or set accounts.ldap.ca_file)") from None


def connect(t: Target, strategy=ldap3.SYNC) -> ldap3.Connection:
    """A bound connection; failures become OperationFailed naming the server, never the password."""
    tls = None
    if t.starttls:
        if not t.ca_file or not Path(t.ca_file).is_file():
            raise OperationFailed(f"StartTLS needs the province CA certificate: {t.ca_file} not found "
                                  "(set accounts.ldap.ca_file)")
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(t.ca_file), valid_names=list(t.tls_names) or None)
    server = ldap3.Server(t.url, get_info=ldap3.NONE, tls=tls, connect_timeout=10)
    conn = ldap3.Connection(server, user=t.bind_dn, password=t.password.get_secret_value(), client_strategy=strategy,
                            auto_bind=False, check_names=False, raise_exceptions=False, receive_timeout=120)
    try:
        conn.open()
        if t.starttls and not conn.start_tls():
            raise OperationFailed(f"{t.url}: StartTLS failed: {conn.result.get('description')}")
        if not conn.bind():
            raise OperationFailed(f"{t.url}: bind as {t.bind_dn} refused: {conn.result.get('description')}")
    except ldap3.core.exceptions.LDAPException as e:
        raise OperationFailed(f"{t.url}: cannot reach the directory: {type(e).__name__}") from None
    return conn


@dataclass
class Person:
    """A managed entry of ou=People as read from the directory."""

    dn: str
    uid: str
    hr_id: str | None
    unit: str | None
    title: str
    cn: str
    sn: str
    given_name: str
    display_name: str
    mail_enabled: bool
    state: str
    disabled_at: str | None
    quota_mb: int | None
    pwd_reset: bool
    tombstone: bool = False  # a purged account: only its uid (and hr_id) is kept, so it is never reissued
    samba_account: bool = False  # objectClass sambaSamAccount (the NT hash of the file shares) is there

    @property
    def active(self) -> bool:
        return not self.tombstone and self.state == ACTIVE and self.mail_enabled


@dataclass
class DirectoryState:
    people: dict[str, Person]                 # by uid
    groups: dict[str, set[str]]               # unit code -> member DNs as stored
    foreign_uids: set[str] = field(default_factory=set)  # entries not managed by us: their uids are taken

    def by_hr_id(self) -> dict[str, Person]:
        return {p.hr_id: p for p in self.people.values() if p.hr_id}


def _first(attrs: dict, name: str, default=None):
    v = attrs.get(name)
    if isinstance(v, list):
        return v[0] if v else default
    return default if v in (None, "") else v


def entries(conn: ldap3.Connection, base: str, filt: str, attrs: list[str]):
    """Every entry one level below `base` matching `filt`, as (DN, attributes: names in any case),
    read by ldapwire on the connection's socket in pages (entries decoded by hand: ldap3's decoding
    was 1 ms of Python per official)."""
    try:
        yield from ldapwire.Wire(conn).search(base, filt, attrs, page=PAGE)
    except ldapwire.SearchFailed as e:
        if e.code == 4:
            # Never diff against a truncated list: everyone missing would look like a leaver.
            raise OperationFailed(f"reading {base}: the directory's size limit cut the list short; give "
                                  f"{conn.user} unlimited size (olcLimits) as the directory role does") from None
        if e.code != 32:
            raise OperationFailed(f"reading {base} failed: {e}") from None
    except ldapwire.Lost as e:
        raise OperationFailed(f"reading {base}: connection to the directory lost: {e}") from None


def parse_hr_tombstone(description: str | None) -> str | None:
    if description and description.startswith("purged hr_id="):
        return description.split("=", 1)[1].split(";", 1)[0].strip() or None
    return None


def _read_people(conn: ldap3.Connection, t: Target) -> tuple[dict[str, Person], set[str]]:
    people: dict[str, Person] = {}
    foreign: set[str] = set()
    for dn, a in entries(conn, t.people, "(uid=*)", PERSON_ATTRS):
        uid = _first(a, "uid")
        if not uid:
            continue
        ocs = {o.lower() for o in a.get("objectClass", [])}
        if "govmailaccount" in ocs and _first(a, "employeeNumber"):
            quota = _first(a, "mailQuotaMB")
            people[uid] = Person(
                dn=dn, uid=uid, hr_id=_first(a, "employeeNumber"), unit=_first(a, "departmentNumber"),
                title=_first(a, "title", ""), cn=_first(a, "cn", ""), sn=_first(a, "sn", ""),
                given_name=_first(a, "givenName", ""), display_name=_first(a, "displayName", ""),
                mail_enabled=_bool(_first(a, "mailEnabled")), state=_first(a, "govAccountState", ACTIVE),
                disabled_at=_gt(_first(a, "govDisabledAt")), quota_mb=int(quota) if quota is not None else None,
                pwd_reset=_bool(_first(a, "pwdReset")), samba_account="sambasamaccount" in ocs)
        elif "account" in ocs and (hr := parse_hr_tombstone(_first(a, "description"))):
            people[uid] = Person(dn=dn, uid=uid, hr_id=hr, unit=None, title="", cn="", sn="",
                                 given_name="", display_name="", mail_enabled=False, state=DISABLED,
                                 disabled_at=None, quota_mb=None, pwd_reset=False, tombstone=True)
        else:
            foreign.add(uid)
    return people, foreign


def read_state(t: Target) -> DirectoryState:
    """People and unit groups, over one connection (ldapwire decodes 10,000 officials in about 0.3 s:
    worker processes cost more to start than they saved)."""
    conn = connect(t)
    try:
        people, foreign = _read_people(conn, t)
        groups: dict[str, set[str]] = {}
        for _, a in entries(conn, t.groups, "(&(objectClass=groupOfNames)(cn=unit-*))", ["cn", "member"]):
            groups[_first(a, "cn", "").removeprefix("unit-")] = set(a.get("member", []))
    finally:
        conn.unbind()
    return DirectoryState(people=people, groups=groups, foreign_uids=foreign)


def _bool(v) -> bool:
    """LDAP booleans arrive as 'TRUE'/'FALSE' text (no schema is loaded, to keep reads lean)."""
    return v is True or str(v).upper() == "TRUE"


def _gt(v) -> str | None:
    """GeneralizedTime as ISO text (ldap3 returns datetime for known syntaxes, str otherwise)."""
    if v is None:
        return None
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def find(conn: ldap3.Connection, t: Target, key: str) -> dict | None:
    """One person by uid or hr_id, all user and lifecycle attributes (for `show`), without the password
    and NT hashes (the provisioner may read what it writes; nobody is shown them)."""
    k = escape_filter_chars(key)
    conn.search(t.people, f"(|(uid={k})(employeeNumber={k}))", search_scope=ldap3.LEVEL,
                attributes=["*", "memberOf", "pwdReset", "pwdAccountLockedTime", "createTimestamp",
                            "modifyTimestamp"])
    for e in conn.response or []:
        if e.get("type") == "searchResEntry":
            raw = e.get("raw_attributes") or {}
            return {"dn": e["dn"], **{k: _binary_as_bytes(v, raw.get(k)) for k, v in e["attributes"].items()
                                      if k.lower() not in HIDDEN}}
    return None


def _binary_as_bytes(value, raw: list[bytes] | None):
    """An attribute as ldap3 formatted it, except binary values (a photo, a certificate), which ldap3
    without the schema decodes as Latin-1 mojibake: those stay bytes (JSON output shows them as base64)."""
    if not raw or not isinstance(value, list) or len(value) != len(raw):
        return value
    out = []
    for v, r in zip(value, raw):
        try:
            r.decode("utf-8")
            out.append(v)
        except UnicodeDecodeError:
            out.append(r)
    return out
