"""Directory: StartTLS binds and searches on the center, no anonymous reading, replicas in step; and,
for the unit checks, the probe mailbox joining the unit's group (then leaving it again, last)."""
from __future__ import annotations

import json
import time

import ldap3

from ... import smb
from ..context import PROBE_UID, REPLICA_WAIT, Context, Server
from ..probes import ldap, svc_dn


def check_ldap_bind(ctx: Context, server: Server) -> str:
    conn = ldap(ctx, server, svc_dn(ctx, "mail-reader"), ctx.secrets["ldap_mail_reader"])
    try:
        conn.search(f"ou=People,{ctx.base_dn}", "(objectClass=govMailAccount)", ldap3.LEVEL,
                    attributes=["uid"], size_limit=1000)
        return f"StartTLS, bound as mail-reader, {len(conn.entries)} mailbox entries visible"
    finally:
        conn.unbind()


def check_ldap_anonymous(ctx: Context, server: Server) -> str:
    conn = ldap(ctx, server, None, None)
    try:
        try:
            conn.search(f"ou=People,{ctx.base_dn}", "(objectClass=*)", ldap3.SUBTREE, attributes=["uid"],
                        size_limit=5)
        except ldap3.core.exceptions.LDAPException:
            return "anonymous search of ou=People refused"
        if conn.entries:
            raise AssertionError(f"anonymous search of ou=People returned {len(conn.entries)} entries")
        return "anonymous search of ou=People returns nothing"
    finally:
        conn.unbind()


def _context_csn(ctx: Context, server: Server) -> set[str]:
    conn = ldap(ctx, server, svc_dn(ctx, "mail-reader"), ctx.secrets["ldap_mail_reader"])
    try:
        conn.search(ctx.base_dn, "(objectClass=*)", ldap3.BASE, attributes=["contextCSN"])
        if not conn.entries:
            raise AssertionError(f"{ctx.base_dn} not readable")
        return {str(v) for v in conn.entries[0].contextCSN.values}
    finally:
        conn.unbind()


def check_replica_csn(ctx: Context, server: Server) -> str:
    """The replica's contextCSN equals the center's (waits a little: the probe was just written)."""
    deadline = time.monotonic() + REPLICA_WAIT
    while True:
        center, replica = _context_csn(ctx, ctx.center), _context_csn(ctx, server)
        if center == replica:
            return f"contextCSN {max(replica)} = center"
        if time.monotonic() > deadline:
            raise AssertionError(f"contextCSN {sorted(replica)} differs from the center's {sorted(center)}")
        time.sleep(1)


# ------------------------------------------------------------------------------------- the unit probe
# The probe mailbox (see checks/mail.py) also gets a Samba NT hash and joins the unit's group
# cn=unit-<code> through the provisioner account for the unit checks, then leaves the group again in
# the last unit check, so that officials' groups are left as found.

def _probe_dn(ctx: Context) -> str:
    return f"uid={PROBE_UID},ou=People,{ctx.base_dn}"


def _unit_group(ctx: Context, server: Server) -> str:
    """The group that grants the unit's share and proxy (published by the fileshare role)."""
    return ctx.fact(server, "fileshare", "group_dn")


def _samba_sync(ctx: Context, server: Server) -> dict:
    return json.loads(ctx.ssh(server, [ctx.fact(server, "fileshare", "sync_command")]))


def enrol_probe(ctx: Context, server: Server) -> str:
    """Give the probe an NT hash and make it a member of the unit's group; wait for the unit's replica,
    then run the unit's Samba sync (it also runs every few minutes by cron)."""
    password = ctx.need_probe()
    dn, group = _probe_dn(ctx), _unit_group(ctx, server)
    attrs = smb.samba_attributes(ctx.base_dn, PROBE_UID, password)
    conn = ldap(ctx, ctx.center, svc_dn(ctx, "provisioner"), ctx.secrets["ldap_provisioner"])
    try:
        conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["objectClass"])
        classes = {c.lower() for c in conn.entries[0].objectClass.values}
        changes = {k: [(ldap3.MODIFY_REPLACE, v)] for k, v in attrs.items() if k != "objectClass"}
        if "sambasamaccount" not in classes:
            changes["objectClass"] = [(ldap3.MODIFY_ADD, ["sambaSamAccount"])]
        conn.modify(dn, changes)
        conn.search(group, f"(member={dn})", ldap3.BASE, attributes=["1.1"])
        if not conn.entries:
            conn.modify(group, {"member": [(ldap3.MODIFY_ADD, [dn])]})
    finally:
        conn.unbind()
    _wait_replica(ctx, server, group, dn, member=True)
    # Membership alone is no proof that this run's password and NT hash reached the replica (the probe may
    # still be a member from an earlier run): wait until the replica holds every change the center has.
    _wait_csn(ctx, server, _context_csn(ctx, ctx.center))
    out = _samba_sync(ctx, server)
    return f"{PROBE_UID} in {group.split(',')[0]} on the replica; Samba sync: {out['users']} account(s)"


def _wait_csn(ctx: Context, server: Server, wanted: set[str]) -> None:
    """Until the replica's contextCSN is at least `wanted` (the center's, read after the changes)."""
    deadline = time.monotonic() + REPLICA_WAIT
    newest = {c.split("#")[2] if c.count("#") >= 3 else "": c for c in wanted}   # per server id (sid)
    while True:
        have = {c.split("#")[2] if c.count("#") >= 3 else "": c for c in _context_csn(ctx, server)}
        if all(have.get(sid, "") >= csn for sid, csn in newest.items()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica on {server.name} did not catch up with the center's changes "
                                 f"within {REPLICA_WAIT:.0f} s")
        time.sleep(0.5)


def withdraw_probe(ctx: Context, server: Server) -> str:
    """Take the probe out of the unit's group again (and out of Samba)."""
    dn, group = _probe_dn(ctx), _unit_group(ctx, server)
    conn = ldap(ctx, ctx.center, svc_dn(ctx, "provisioner"), ctx.secrets["ldap_provisioner"])
    try:
        try:
            conn.modify(group, {"member": [(ldap3.MODIFY_DELETE, [dn])]})
        except ldap3.core.exceptions.LDAPNoSuchAttributeResult:
            pass
    finally:
        conn.unbind()
    _wait_replica(ctx, server, group, dn, member=False)
    out = _samba_sync(ctx, server)
    if PROBE_UID in out.get("added", []):
        raise AssertionError("the Samba sync still grants the probe after it left the group")
    return f"{PROBE_UID} left {group.split(',')[0]}; Samba removed: {', '.join(out['removed']) or 'nothing'}"


def _wait_replica(ctx: Context, server: Server, group: str, dn: str, member: bool) -> None:
    deadline = time.monotonic() + REPLICA_WAIT
    conn = ldap(ctx, server, svc_dn(ctx, "provisioner"), ctx.secrets["ldap_provisioner"])
    try:
        while True:
            conn.search(group, f"(member={dn})", ldap3.BASE, attributes=["1.1"])
            if bool(conn.entries) == member:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the replica on {server.name} did not follow the change of {group} "
                                     f"within {REPLICA_WAIT:.0f} s")
            time.sleep(0.5)
    finally:
        conn.unbind()


CENTER_CHECKS = (
    ("ldap", "starttls-bind-search", check_ldap_bind),
    ("ldap", "anonymous-read-refused", check_ldap_anonymous),
)
UNIT_CHECKS = (
    ("ldap", "replica-contextCSN", check_replica_csn),
)
PROBE_JOINS_UNIT_GROUP = ("directory", "probe-joins-unit-group", enrol_probe)
PROBE_LEAVES_UNIT_GROUP = ("directory", "probe-leaves-unit-group", withdraw_probe)
