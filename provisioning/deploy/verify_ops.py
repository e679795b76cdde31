"""`provision verify` checks of the unit services and operations (issue 6): file share, proxy, webmail,
backups. verify.py imports this module last; it then appends its checks to verify's two lists.

They reuse verify's service mailbox `verify-probe` (its password is new on every run): for the unit
checks it also gets a Samba NT hash and joins the unit's group cn=unit-<code> through the provisioner
account, then leaves the group again in the last unit check, so that officials' groups are left as found.
The file share is checked with the real `smbclient` (SMB3, signing) from this machine; the proxy with
plain HTTP through it (407 without credentials, the origin's answer with them); the webmail with a
real Roundcube login over HTTPS. Backup freshness is read from the server over SSH (the manifest of
the newest snapshot), with the inventory's own SSH settings.
"""
from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import re
import secrets as _random
import shlex
import socket
import subprocess
import tempfile
import time
import urllib.parse

from .. import smb
from .verify import CENTER_CHECKS, PROBE_UID, REPLICA_WAIT, UNIT_CHECKS, Context, Server, _HTTPS, _ldap, _svc_dn

SHARE = "tailieu"               # roles/fileshare fileshare_share
PROXY_PORT = 3128               # roles/proxy proxy_port
BACKUP_MAX_AGE_HOURS = 26.0     # daily snapshots (cron) + margin
BACKUP_SCRIPT = "/usr/local/sbin/provision-backup"


def _probe_dn(ctx: Context) -> str:
    return f"uid={PROBE_UID},ou=People,{ctx.base_dn}"


def _unit_group(ctx: Context, server: Server) -> str:
    return f"cn=unit-{server.unit},ou=Groups,{ctx.base_dn}"


def _need_probe(ctx: Context) -> str:
    if not ctx.probe_password:
        raise AssertionError("no probe mailbox (the center's probe-mailbox check failed or was not run)")
    return ctx.probe_password


def _ssh(ctx: Context, server: Server, argv: list[str], timeout: float = 60.0) -> str:
    """Run a command on a server with the inventory's SSH settings (as verify's fetch_ca does)."""
    host = ctx.province.hosts[server.name]
    cmd = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={int(ctx.timeout)}", "-p", str(host.port)]
    if host.key_file:
        cmd += ["-i", str(host.key_file)]
    cmd += shlex.split(str(host.vars.get("ansible_ssh_common_args", "")))
    cmd += [f"{host.user}@{host.address}", shlex.join(argv)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"{argv[0]} on {server.name}: {(r.stderr or r.stdout).strip()[-300:]}")
    return r.stdout


# ------------------------------------------------------------------------------------- the unit probe

def enrol_probe(ctx: Context, server: Server) -> str:
    """Give the probe an NT hash and make it a member of the unit's group; wait for the unit's replica,
    then run the unit's Samba sync (it also runs every few minutes by cron)."""
    import ldap3

    password = _need_probe(ctx)
    dn, group = _probe_dn(ctx), _unit_group(ctx, server)
    attrs = smb.samba_attributes(ctx.base_dn, PROBE_UID, password)
    conn = _ldap(ctx, ctx.center, _svc_dn(ctx, "provisioner"), ctx.secrets["ldap_provisioner"])
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
    out = json.loads(_ssh(ctx, server, ["/usr/local/sbin/provision-smb-sync"]))
    return f"{PROBE_UID} in {group.split(',')[0]} on the replica; Samba sync: {out['users']} account(s)"


def withdraw_probe(ctx: Context, server: Server) -> str:
    """Take the probe out of the unit's group again (and out of Samba)."""
    import ldap3

    dn, group = _probe_dn(ctx), _unit_group(ctx, server)
    conn = _ldap(ctx, ctx.center, _svc_dn(ctx, "provisioner"), ctx.secrets["ldap_provisioner"])
    try:
        try:
            conn.modify(group, {"member": [(ldap3.MODIFY_DELETE, [dn])]})
        except ldap3.core.exceptions.LDAPNoSuchAttributeResult:
            pass
    finally:
        conn.unbind()
    _wait_replica(ctx, server, group, dn, member=False)
    out = json.loads(_ssh(ctx, server, ["/usr/local/sbin/provision-smb-sync"]))
    if PROBE_UID in out.get("added", []):
        raise AssertionError("the Samba sync still grants the probe after it left the group")
    return f"{PROBE_UID} left {group.split(',')[0]}; Samba removed: {', '.join(out['removed']) or 'nothing'}"


def _wait_replica(ctx: Context, server: Server, group: str, dn: str, member: bool) -> None:
    import ldap3

    deadline = time.monotonic() + REPLICA_WAIT
    conn = _ldap(ctx, server, _svc_dn(ctx, "provisioner"), ctx.secrets["ldap_provisioner"])
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


# ------------------------------------------------------------------------------------------ file share

def smbclient(address: str, user: str, password: str, command: str, timeout: float) -> subprocess.CompletedProcess:
    """Real smbclient, SMB3 with signing; the password goes through a 0600 file, never argv."""
    with tempfile.TemporaryDirectory() as tmp:
        auth = os.path.join(tmp, "auth")
        fd = os.open(auth, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"username = {user}\npassword = {password}\n")
        return subprocess.run(["smbclient", f"//{address}/{SHARE}", "-A", auth, "-m", "SMB3",
                               "--option=client signing=required", "--option=client min protocol=SMB2_10",
                               "-c", command], capture_output=True, text=True, timeout=timeout * 6, cwd=tmp)


def check_smb_roundtrip(ctx: Context, server: Server) -> str:
    """Log in as the probe, write a file with Vietnamese content, read it back, delete it."""
    password = _need_probe(ctx)
    payload = f"Kiểm tra thư mục dùng chung {_random.token_hex(8)}\n".encode()
    name = f"verify-{_random.token_hex(4)}.txt"
    with tempfile.TemporaryDirectory() as tmp:
        src, back = os.path.join(tmp, "src"), os.path.join(tmp, "back")
        with open(src, "wb") as fh:
            fh.write(payload)
        r = smbclient(server.address, PROBE_UID, password, f'put "{src}" {name}; get {name} "{back}"; del {name}',
                      ctx.timeout)
        if r.returncode != 0 or not os.path.exists(back):
            raise AssertionError(f"smbclient: {(r.stdout + r.stderr).strip()[-300:]}")
        with open(back, "rb") as fh:
            if fh.read() != payload:
                raise AssertionError("the file read back differs from the file written")
    wrong = smbclient(server.address, PROBE_UID, password + "x", "ls", ctx.timeout)
    if wrong.returncode == 0 or "NT_STATUS_LOGON_FAILURE" not in wrong.stdout + wrong.stderr:
        raise AssertionError("a wrong password was not refused with NT_STATUS_LOGON_FAILURE")
    return f"//{server.address}/{SHARE}: login, {len(payload)}-byte file written, read back, deleted; wrong password refused"


# ---------------------------------------------------------------------------------------------- proxy

def proxy_get(proxy: str, url: str, timeout: float, credentials: tuple[str, str] | None = None) -> int:
    """Status of a GET of `url` through the HTTP proxy at `proxy` (address)."""
    conn = http.client.HTTPConnection(proxy, PROXY_PORT, timeout=timeout * 4)
    headers = {}
    if credentials:
        token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
        headers["Proxy-Authorization"] = f"Basic {token}"
    try:
        conn.request("GET", url, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def _portal_url(ctx: Context) -> str:
    return f"http://{ctx.name('www')}/"


def check_proxy_refuses(ctx: Context, server: Server) -> str:
    status = proxy_get(server.address, _portal_url(ctx), ctx.timeout)
    if status != 407:
        raise AssertionError(f"without credentials the proxy answered {status}, not 407")
    status = proxy_get(server.address, _portal_url(ctx), ctx.timeout, (PROBE_UID, "wrong-" + _random.token_hex(4)))
    if status != 407:
        raise AssertionError(f"with a wrong password the proxy answered {status}, not 407")
    return "407 without credentials and with a wrong password"


def check_proxy_allows(ctx: Context, server: Server) -> str:
    status = proxy_get(server.address, _portal_url(ctx), ctx.timeout, (PROBE_UID, _need_probe(ctx)))
    if status in (403, 407) or status >= 500:
        raise AssertionError(f"a member of the unit's group got {status} for {_portal_url(ctx)}")
    return f"member of unit-{server.unit}: {_portal_url(ctx)} answered {status} through the proxy"


# -------------------------------------------------------------------------------------------- webmail

class _Browser:
    """Just enough of a browser for Roundcube: one HTTPS host, cookies kept."""

    def __init__(self, ctx: Context, server: Server):
        self.ctx, self.server, self.cookies = ctx, server, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        conn = _HTTPS(self.ctx.name("mail"), self.server.address, self.ctx.tls, self.ctx.timeout * 2)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read(1_000_000).decode("utf-8", "replace")
        finally:
            conn.close()
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                k, _, v = value.split(";", 1)[0].partition("=")
                if v == "deleted":
                    self.cookies.pop(k.strip(), None)
                else:
                    self.cookies[k.strip()] = v.strip()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text


def _login_form(browser: _Browser) -> str:
    status, _, page = browser.request("GET", "/")
    if status != 200:
        raise AssertionError(f"https://{browser.ctx.name('mail')}/ answered {status}")
    token = re.search(r'name="_token" value="([^"]+)"', page)
    if 'name="_user"' not in page or not token:
        raise AssertionError("no Roundcube login form on the page")
    return token.group(1)


def check_webmail_page(ctx: Context, server: Server) -> str:
    _login_form(_Browser(ctx, server))
    return f"https://{ctx.name('mail')}/: Roundcube login form, certificate chains to the provincial CA"


def check_webmail_login(ctx: Context, server: Server) -> str:
    """A real login: the form's token, the session cookie, the probe's directory password."""
    browser = _Browser(ctx, server)
    token = _login_form(browser)
    form = {"_token": token, "_task": "login", "_action": "login", "_timezone": "Asia/Ho_Chi_Minh",
            "_url": "", "_user": PROBE_UID, "_pass": _need_probe(ctx)}
    status, headers, _ = browser.request("POST", "/?_task=login", form)
    location = headers.get("location", "")
    if status != 302 or "_task=login" in location or not location:
        raise AssertionError(f"login refused: {status} {location!r}")
    return f"logged in as {PROBE_UID}: {status} -> {location}"


# --------------------------------------------------------------------------------------------- backup

def check_backup_age(ctx: Context, server: Server) -> str:
    snapshots = json.loads(_ssh(ctx, server, [BACKUP_SCRIPT, "list"]))
    if not snapshots:
        raise AssertionError(f"no snapshot in the backup directory (run `provision backup run --limit {server.name}`)")
    last = snapshots[-1]
    taken = dt.datetime.fromisoformat(last["time"])
    age = (dt.datetime.now(taken.tzinfo) - taken).total_seconds() / 3600
    if age > BACKUP_MAX_AGE_HOURS:
        raise AssertionError(f"newest snapshot {last['snapshot']} is {age:.1f} h old (> {BACKUP_MAX_AGE_HOURS:.0f} h)")
    parts = ", ".join(sorted(last.get("parts", {})))
    return f"newest snapshot {last['snapshot']}, {age:.1f} h old ({parts})"


CENTER_OPS = [
    ("webmail", "https-login-page", check_webmail_page),
    ("webmail", "login", check_webmail_login),
    ("backup", "last-snapshot-age", check_backup_age),
]
# Order matters: the probe joins the unit's group first and leaves it last.
UNIT_OPS = [
    ("directory", "probe-joins-unit-group", enrol_probe),
    ("fileshare", "smb-login-file-roundtrip", check_smb_roundtrip),
    ("proxy", "refuses-without-credentials-407", check_proxy_refuses),
    ("proxy", "allows-unit-member", check_proxy_allows),
    ("directory", "probe-leaves-unit-group", withdraw_probe),
    ("backup", "last-snapshot-age", check_backup_age),
]
CENTER_CHECKS.extend(CENTER_OPS)
UNIT_CHECKS.extend(UNIT_OPS)
