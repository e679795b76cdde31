"""Who may do what: the directory groups that give officials a role, and logins as the official.

Roles are memberships of groupOfNames entries in ou=Groups (the directory role creates them):
  cn=province-hr        province HR: rosters, plans, applies, every unit's sheets, resets, the journal
  cn=province-office    the provincial office: monthly reports, every unit's forms (read-only)
  cn=admins-<unit>      a unit's administrators: that unit's officials, sheets, resets and form
Every official (any entry of ou=People) has their own account page.

`grant`/`revoke` change membership as cn=provisioner (`provision accounts grant|revoke`). `authenticate`
binds *as the official* (their password never passes through the provisioner) with the password-policy
request control, so that a locked account, an expired password and a first password that must be
changed (pwdReset) are told apart; `change_password` is the LDAP Password Modify extended operation
(RFC 3062) on the official's own connection, the one operation ppolicy allows after a reset.
"""
from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path

import ldap3
from ldap3.utils.conv import escape_filter_chars

from ..errors import BadInput, OperationFailed
from .directory import Target

ROLES = ("province-hr", "province-office", "unit-admin")
PPOLICY = "1.3.6.1.4.1.42.2.27.8.5.1"
PPOLICY_ERRORS = {0: "expired", 1: "locked", 2: "must_change", 3: "not_allowed", 4: "need_old",
                  5: "quality", 6: "too_short", 7: "too_young", 8: "in_history"}


def group_dn(t: Target, role: str, unit: str | None = None) -> str:
    if role == "unit-admin":
        if not unit:
            raise BadInput("unit-admin needs --unit CODE")
        return f"cn=admins-{unit},{t.groups}"
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r} (use one of {', '.join(ROLES)})")
    return f"cn={role},{t.groups}"


@dataclass
class Roles:
    hr: bool = False
    office: bool = False
    admin_units: list[str] = field(default_factory=list)

    @property
    def privileged(self) -> bool:
        """Roles above a plain official: their logins need a second factor."""
        return self.hr or self.office or bool(self.admin_units)

    def names(self) -> list[str]:
        return ([*(["province-hr"] if self.hr else []), *(["province-office"] if self.office else [])]
                + [f"unit-admin:{u}" for u in self.admin_units])


def roles_of(conn: ldap3.Connection, t: Target, dn: str) -> Roles:
    """The roles of the entry `dn`, read on a connection allowed to read ou=Groups."""
    conn.search(t.groups, f"(&(objectClass=groupOfNames)(member={escape_filter_chars(dn)}))",
                search_scope=ldap3.LEVEL, attributes=["cn"])
    r = Roles()
    for e in conn.response or []:
        if e.get("type") != "searchResEntry":
            continue
        cn = e["attributes"].get("cn")
        cn = (cn[0] if isinstance(cn, list) and cn else cn) or ""
        if cn == "province-hr":
            r.hr = True
        elif cn == "province-office":
            r.office = True
        elif cn.startswith("admins-"):
            r.admin_units.append(cn.removeprefix("admins-"))
    r.admin_units.sort()
    return r


@dataclass
class GrantResult:
    role: str
    uid: str
    group: str
    changed: bool


def _person(conn: ldap3.Connection, t: Target, uid: str) -> str:
    conn.search(t.people, f"(&(uid={escape_filter_chars(uid)})(objectClass=inetOrgPerson))",
                search_scope=ldap3.LEVEL, attributes=["uid"])
    for e in conn.response or []:
        if e.get("type") == "searchResEntry":
            return e["dn"]
    raise BadInput(f"no official with username {uid!r}")


def grant(conn: ldap3.Connection, t: Target, role: str, uid: str, unit: str | None = None,
          units: set[str] | None = None) -> GrantResult:
    """Add the official `uid` to the role's group (created when missing, as the directory role would)."""
    if role == "unit-admin" and units is not None and unit not in units:
        raise BadInput(f"--unit {unit!r}: not a unit code of province.yml")
    gdn = group_dn(t, role, unit)
    dn = _person(conn, t, uid)
    if conn.search(gdn, "(objectClass=groupOfNames)", search_scope=ldap3.BASE, attributes=["member"]):
        members = {m.lower() for m in conn.response[0]["attributes"].get("member", [])}
        if dn.lower() in members:
            return GrantResult(role, uid, gdn, False)
        ok = conn.modify(gdn, {"member": [(ldap3.MODIFY_ADD, [dn])]})
    else:
        cn = gdn.split(",", 1)[0].split("=", 1)[1]
        ok = conn.add(gdn, attributes={"objectClass": ["top", "groupOfNames"], "cn": [cn],
                                       "member": [t.placeholder_member, dn]})
    if not ok:
        raise OperationFailed(f"{gdn}: the directory refused: {conn.result.get('description')}")
    return GrantResult(role, uid, gdn, True)


def revoke(conn: ldap3.Connection, t: Target, role: str, uid: str, unit: str | None = None) -> GrantResult:
    """Remove `uid` from the role's group; the placeholder member keeps the group valid."""
    gdn = group_dn(t, role, unit)
    dn = _person(conn, t, uid)
    if not conn.search(gdn, "(objectClass=groupOfNames)", search_scope=ldap3.BASE, attributes=["member"]):
        return GrantResult(role, uid, gdn, False)
    members = {m.lower(): m for m in conn.response[0]["attributes"].get("member", [])}
    if dn.lower() not in members:
        return GrantResult(role, uid, gdn, False)
    mods = [(ldap3.MODIFY_DELETE, [members[dn.lower()]])]
    if len(members) == 1:  # groupOfNames may not be empty
        mods.insert(0, (ldap3.MODIFY_ADD, [t.placeholder_member]))
    if not conn.modify(gdn, {"member": mods}):
        raise OperationFailed(f"{gdn}: the directory refused: {conn.result.get('description')}")
    return GrantResult(role, uid, gdn, True)


# --- logging in as the official -----------------------------------------------------------------

@dataclass
class Login:
    ok: bool
    dn: str | None = None
    problem: str | None = None       # bad | locked | expired | disabled | unavailable
    must_change: bool = False        # pwdReset (first password) or grace logins after expiry
    grace: int | None = None
    expires_in: int | None = None    # seconds before the password expires (ppolicy warning)
    conn: ldap3.Connection | None = field(default=None, repr=False)


def _ber(data: bytes, i: int) -> tuple[int, bytes, int]:
    tag = data[i]
    n = data[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[i:i + k], "big")
        i += k
    return tag, data[i:i + n], i + n


def parse_ppolicy(value: bytes | None) -> tuple[str | None, int | None, int | None]:
    """(error, grace logins left, seconds before expiry) from a PasswordPolicyResponseValue."""
    if not value:
        return None, None, None
    error = grace = expires = None
    try:
        tag, body, _ = _ber(value, 0)
        i = 0
        while i < len(body):
            tag, content, i = _ber(body, i)
            if tag == 0xA0:
                wtag, wval, _ = _ber(content, 0)
                n = int.from_bytes(wval, "big")
                if wtag == 0x80:
                    expires = n
                elif wtag == 0x81:
                    grace = n
            elif tag == 0x81:
                error = PPOLICY_ERRORS.get(int.from_bytes(content, "big"), "other")
    except IndexError:
        return None, None, None
    return error, grace, expires


def user_connection(t: Target, dn: str) -> ldap3.Connection:
    tls = None
    if t.starttls or t.url.startswith("ldaps://"):
        if not t.ca_file or not Path(t.ca_file).is_file():
            raise OperationFailed(f"TLS to the directory needs the province CA certificate: {t.ca_file} not found")
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(t.ca_file),
                        valid_names=list(t.tls_names) or None)
    server = ldap3.Server(t.url, get_info=ldap3.NONE, tls=tls, connect_timeout=10)
    return ldap3.Connection(server, user=dn, client_strategy=ldap3.SYNC, auto_bind=False, check_names=False,
                            raise_exceptions=False, receive_timeout=30)


def find_dn(conn: ldap3.Connection, t: Target, uid: str) -> tuple[str | None, dict]:
    conn.search(t.people, f"(&(uid={escape_filter_chars(uid)})(objectClass=inetOrgPerson))", search_scope=ldap3.LEVEL,
                attributes=["uid", "govAccountState", "mailEnabled", "departmentNumber", "cn", "employeeNumber"])
    for e in conn.response or []:
        if e.get("type") == "searchResEntry":
            return e["dn"], dict(e["attributes"])
    return None, {}


def authenticate(t: Target, dn: str, password: str) -> Login:
    """Simple bind as `dn` over StartTLS (or LDAPS) with the CA checked. On success the bound
    connection is returned open (the caller changes the password on it when must_change)."""
    if not password:
        return Login(False, dn, "bad")
    conn = user_connection(t, dn)
    conn.password = password
    try:
        conn.open()
        if t.starttls and not conn.start_tls():
            return Login(False, dn, "unavailable")
        ok = conn.bind(controls=[(PPOLICY, False, None)])
    except ldap3.core.exceptions.LDAPException:
        return Login(False, dn, "unavailable")
    ctrl = (conn.result.get("controls") or {}).get(PPOLICY, {})
    error, grace, expires = parse_ppolicy(ctrl.get("value"))
    if not ok:
        try:
            conn.unbind()
        except Exception:
            pass
        return Login(False, dn, {"locked": "locked", "expired": "expired"}.get(error or "", "bad"))
    must = error == "must_change" or grace is not None
    return Login(True, dn, None, must_change=must, grace=grace, expires_in=expires, conn=conn)


def change_password(conn: ldap3.Connection, t: Target, dn: str, uid: str, old: str, new: str) -> str | None:
    """Password Modify (RFC 3062) as the bound official (the directory hashes it: SHA-512-crypt on the
    center), then, bound again with the new password, the file shares' NT hash, as the webmail's
    password change does (ppolicy allows nothing but the password while pwdReset is set). None when
    done, else the policy's reason (in_history, too_short, quality, too_young...) or the directory's."""
    from .. import smb

    try:
        ok = conn.extend.standard.modify_password(old_password=old, new_password=new,
                                                  controls=[(PPOLICY, False, None)])
        if not ok:
            ctrl = (conn.result.get("controls") or {}).get(PPOLICY, {})
            error, _, _ = parse_ppolicy(ctrl.get("value"))
            return error or str(conn.result.get("message") or conn.result.get("description"))
        if not conn.rebind(user=dn, password=new):
            return "rebind"
        conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["objectClass"])
        classes = {str(o).lower() for o in (conn.response[0]["attributes"].get("objectClass", [])
                                            if conn.response else [])}
        if "sambasamaccount" in classes:
            samba = smb.samba_attributes(t.base_dn, uid, new)
            if not conn.modify(dn, {k: [(ldap3.MODIFY_REPLACE, samba[k])]
                                    for k in ("sambaNTPassword", "sambaPwdLastSet")}):
                return f"sambaNTPassword: {conn.result.get('description')}"
    except ldap3.core.exceptions.LDAPException as e:
        return type(e).__name__
    return None
