"""Unit services and operations on the deployed lab province, used from this machine with real
clients: smbclient on the unit file shares, curl through the unit proxies, a Roundcube login over
HTTPS, apt on a unit server fed only by the center's mirror, and a backup/restore round trip that
destroys the center's directory database and a mailbox and finds every entry and message again.

Officials are created through the provisioner account (with their Samba NT hash, as the accounts code
writes them) and removed at the end, so later modules find the province as it was."""
from __future__ import annotations

import json
import os
import smtplib
import ssl
import subprocess
import tempfile
import time
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import pytest
from ldap3 import BASE, MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, SUBTREE

from provisioning import secrets, smb
from provisioning.transport import ca as transport_ca
from provisioning.verify.probes import Browser, smbclient
from tests.conftest import run_cli
from tests.deploy.labkit import SMTP, deliver, imap_subjects, ldap, wait_replicas

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ZONE = DOMAIN = "bentre.gov.vn"
# Mail from outside comes from another domain: the province's own is refused from outside (roles/mail).
OUTSIDE = "vanphong@so-ngoai.example.vn"
BASE_DN = "dc=bentre,dc=gov,dc=vn"
PEOPLE = f"ou=People,{BASE_DN}"
GROUPS = f"ou=Groups,{BASE_DN}"
PROXY_PORT = 3128          # plain HTTP: refuses everything
PROXY_TLS_PORT = 3130      # the proxy over TLS
SHARE = "tailieu"          # the fileshare role's default share, as deployed on the lab


def sync_shares(deployed_lab) -> None:
    """Run the unit servers' Samba sync now (cron runs it every 5 minutes)."""
    for unit in deployed_lab.units:
        deployed_lab.lab.ssh(unit.name, "/usr/local/sbin/provision-smb-sync", check=True)


@pytest.fixture(scope="module")
def officials(deployed_lab, ca_pem):
    """Three officials: two of the first unit (one will leave), one of the second unit."""
    s = secrets.load_secrets(deployed_lab.inventory)
    conn = ldap(deployed_lab.center.address, ca_pem, f"cn=provisioner,ou=Services,{BASE_DN}",
                s["ldap_provisioner"], f"ldap.{ZONE}")
    a, b = deployed_lab.units[0], deployed_lab.units[1]
    people = {
        "anpv": ("Phạm Văn An", a, "Tai-lieu-An-2026!"),
        "cuongdd": ("Đặng Đình Cường", a, "Tai-lieu-Cuong-2026!"),
        "hoatt": ("Trần Thị Hoa", b, "Tai-lieu-Hoa-2026!"),
    }
    # A number on the usernames (as on a clash): Roundcube remembers users, each run must be a first login.
    suffix = str(int(time.time()) % 10000)
    out = {}
    for key, (name, server, password) in people.items():
        uid = key + suffix
        dn = f"uid={uid},{PEOPLE}"
        samba = smb.samba_attributes(BASE_DN, uid, password)
        family, given = name.split()[0], name.split()[-1]
        assert conn.add(dn, ["inetOrgPerson", "govMailAccount", *samba.pop("objectClass")], {
            "uid": uid, "cn": unicodedata.normalize("NFC", name), "sn": family, "givenName": given,
            "departmentNumber": server.unit, "mail": f"{uid}@{DOMAIN}", "mailEnabled": "TRUE",
            "mailQuotaMB": "20", "mailHomeDirectory": f"/var/vmail/{DOMAIN}/{uid}", "govAccountState": "active",
            "userPassword": secrets.sha512_crypt(password), **samba}), conn.result
        assert conn.modify(f"cn=unit-{server.unit},{GROUPS}", {"member": [(MODIFY_ADD, [dn])]}), conn.result
        out[key] = SimpleNamespace(uid=uid, dn=dn, password=password, server=server)
    for o in out.values():
        wait_replicas(deployed_lab, ca_pem, s, f"cn=unit-{o.server.unit},{GROUPS}", True, f"(member={o.dn})")
    sync_shares(deployed_lab)
    yield SimpleNamespace(people=out, conn=conn, secrets=s, a=a, b=b)
    conn.unbind()
    conn = ldap(deployed_lab.center.address, ca_pem, f"cn=provisioner,ou=Services,{BASE_DN}",  # slapd restarted
                s["ldap_provisioner"], f"ldap.{ZONE}")
    for o in out.values():
        conn.modify(f"cn=unit-{o.server.unit},{GROUPS}", {"member": [(MODIFY_DELETE, [o.dn])]})
        conn.delete(o.dn)
    for o in out.values():
        wait_replicas(deployed_lab, ca_pem, s, o.dn, False)
    sync_shares(deployed_lab)
    conn.unbind()


# ------------------------------------------------------------------------------------------ file share

def test_member_writes_a_file_and_reads_it_back(deployed_lab, officials):
    an = officials.people["anpv"]
    name = unicodedata.normalize("NFC", "Báo cáo tháng 11 – Văn phòng.txt")
    content = "Số liệu cập nhật văn bản đến/đi tháng 11\n".encode()
    with tempfile.TemporaryDirectory() as tmp:
        src, back = os.path.join(tmp, "src.txt"), os.path.join(tmp, "back.txt")
        with open(src, "wb") as fh:
            fh.write(content)
        r = smbclient(an.server.address, SHARE, an.uid, an.password, f'put "{src}" "{name}"; get "{name}" "{back}"', 5)
        assert r.returncode == 0, r.stdout + r.stderr
        with open(back, "rb") as fh:
            assert fh.read() == content
    # On the server: the name is stored as UTF-8 NFC, the file belongs to the share's group.
    ls = deployed_lab.lab.ssh(an.server.name, "stat -c '%n %G' /srv/samba/tailieu/*", check=True).stdout
    assert f"/srv/samba/tailieu/{name} smb-unit" in ls, ls
    r = smbclient(an.server.address, SHARE, an.uid, an.password, f'del "{name}"', 5)
    assert r.returncode == 0, r.stdout + r.stderr


def test_nt_hashes_are_readable_by_no_official(deployed_lab, ca_pem, officials):
    """An NT hash logs in to the shares as well as the password, and old hashes (pwdHistory) crack offline:
    no official and no service account but the replicator (syncrepl, Samba sync) reads any password-derived
    attribute, of another official or their own, on the center or on a unit replica."""
    an, hoa, s = officials.people["anpv"], officials.people["hoatt"], officials.secrets
    secret = {"userpassword", "pwdhistory", "sambantpassword", "sambalmpassword", "sambapasswordhistory"}
    readers = {"official": (hoa.dn, hoa.password),
               **{n: (f"cn={n},ou=Services,{BASE_DN}", s[f"ldap_{n.replace('-', '_')}"])
                  for n in ("provisioner", "mail-reader")}}
    for host, name in ((deployed_lab.center, f"ldap.{ZONE}"), (an.server, f"{an.server.name}.{ZONE}")):
        for reader, (dn, password) in readers.items():
            conn = ldap(host.address, ca_pem, dn, password, name)
            for target in (an.dn, hoa.dn):
                assert conn.search(target, "(objectClass=*)", BASE, attributes=["*", "+"])
                entry = {k.lower() for k, v in conn.entries[0].entry_attributes_as_dict.items() if v}
                assert "cn" in entry and not entry & secret, (host.name, reader, target, entry & secret)
            conn.unbind()
    repl = ldap(an.server.address, ca_pem, f"cn=replicator,ou=Services,{BASE_DN}",
                officials.secrets["ldap_replicator"], f"{an.server.name}.{ZONE}")
    assert repl.search(an.dn, "(objectClass=*)", attributes=["sambaNTPassword", "userPassword"])
    assert repl.entries[0].entry_attributes_as_dict.get("sambaNTPassword")
    assert repl.entries[0].entry_attributes_as_dict.get("userPassword")
    repl.unbind()


def test_other_units_officials_and_wrong_passwords_are_refused(officials):
    an, hoa = officials.people["anpv"], officials.people["hoatt"]
    for user, password in ((hoa.uid, hoa.password), (an.uid, an.password + "x"), ("nobody", "x")):
        r = smbclient(officials.a.address, SHARE, user, password, "ls", 5)
        assert r.returncode != 0 and "NT_STATUS_LOGON_FAILURE" in r.stdout + r.stderr, (user, r.stdout + r.stderr)
    r = smbclient(officials.b.address, SHARE, hoa.uid, hoa.password, "ls", 5)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_leaver_loses_the_share(deployed_lab, ca_pem, officials):
    cuong = officials.people["cuongdd"]
    assert smbclient(cuong.server.address, SHARE, cuong.uid, cuong.password, "ls", 5).returncode == 0
    assert officials.conn.modify(cuong.dn, {"govAccountState": [(MODIFY_REPLACE, ["disabled"])],
                                            "mailEnabled": [(MODIFY_REPLACE, ["FALSE"])]}), officials.conn.result
    wait_replicas(deployed_lab, ca_pem, officials.secrets, cuong.dn, True, "(govAccountState=disabled)")
    out = json.loads(deployed_lab.lab.ssh(cuong.server.name, "/usr/local/sbin/provision-smb-sync", check=True).stdout)
    assert out["removed"] == [cuong.uid], out
    r = smbclient(cuong.server.address, SHARE, cuong.uid, cuong.password, "ls", 5)
    assert r.returncode != 0 and "NT_STATUS_LOGON_FAILURE" in r.stdout + r.stderr


# ---------------------------------------------------------------------------------------------- proxy

@pytest.fixture(scope="module")
def ca_file(ca_pem, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("proxyca") / "ca.crt"
    path.write_text(ca_pem)
    return path


def curl_proxy(server, ca: Path, user: str | None = None, password: str | None = None, plain: bool = False) -> int:
    """Real curl through a unit server's proxy to the portal on the center: over TLS to the proxy (its
    certificate checked against the provincial CA), or to the plain port; credentials through a config
    on stdin."""
    fqdn = f"{server.name}.{ZONE}"
    if plain:
        config = f'proxy = "http://{server.address}:{PROXY_PORT}"\n'
    else:
        config = (f'proxy = "https://{fqdn}:{PROXY_TLS_PORT}"\nproxy-cacert = "{ca}"\n'
                  f'resolve = "{fqdn}:{PROXY_TLS_PORT}:{server.address}"\n')
    config += f'url = "http://www.{ZONE}/"\n'
    if user:
        config += f'proxy-user = "{user}:{password}"\n'
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "20", "-K", "-"],
                       input=config, capture_output=True, text=True, timeout=30)
    return int(r.stdout or 0)


def test_proxy_asks_for_credentials_and_allows_only_the_units_officials(deployed_lab, officials, ca_file):
    an, hoa = officials.people["anpv"], officials.people["hoatt"]
    a, b = officials.a, officials.b
    assert curl_proxy(a, ca_file) == 407
    assert curl_proxy(a, ca_file, an.uid, "wrong password") == 407
    assert curl_proxy(a, ca_file, an.uid, an.password) == 301      # the portal's redirect to HTTPS, through the proxy
    assert curl_proxy(a, ca_file, hoa.uid, hoa.password) == 403    # an official of another unit
    assert curl_proxy(b, ca_file, hoa.uid, hoa.password) == 301
    # Usage is logged per user for the report.
    log = deployed_lab.lab.ssh(officials.a.name, "cat /var/log/squid/access.log", check=True).stdout
    assert any(f" {an.uid} " in line and "http://www.bentre.gov.vn/" in line for line in log.splitlines()), log[-500:]
    rot = deployed_lab.lab.ssh(officials.a.name, "logrotate -d /etc/logrotate.d/squid 2>&1", check=True).stdout
    assert "access.log" in rot


def test_proxy_credentials_never_in_clear(deployed_lab, officials, ca_file):
    """The plain HTTP port serves nobody and never asks for credentials: a member's right password is
    refused there (403, no 407 challenge). Browsers learn the TLS proxy from the PAC file on the LAN."""
    an = officials.people["anpv"]
    a = officials.a
    assert curl_proxy(a, ca_file, plain=True) == 403
    assert curl_proxy(a, ca_file, an.uid, an.password, plain=True) == 403
    r = subprocess.run(["curl", "-s", "-m", "20", "--resolve", f"{a.name}.{ZONE}:80:{a.address}",
                        f"http://{a.name}.{ZONE}/proxy.pac"], capture_output=True, text=True, timeout=30)
    assert f'"HTTPS {a.name}.{ZONE}:{PROXY_TLS_PORT}"' in r.stdout, r.stdout + r.stderr
    assert "PROXY " not in r.stdout and "DIRECT" not in r.stdout


def test_proxy_keeps_running_while_its_replica_restarts(deployed_lab, officials, ca_file):
    """Squid's LDAP helpers exit when they cannot reach the directory over StartTLS, and Squid stops
    when its helpers crash too rapidly. With the unit's replica stopped the proxy must keep answering
    (407: nobody can be checked), and fresh logins work again once slapd is back."""
    lab, a, inv = deployed_lab.lab, officials.a, str(deployed_lab.inventory)
    quiet = " >/dev/null 2>&1 </dev/null"
    squid = lambda: lab.ssh(a.name, "pgrep -d, -x squid", check=True).stdout.strip()  # noqa: E731
    crashes = lambda: lab.ssh(a.name, "grep -c 'crashing too rapidly' /var/log/squid/cache.log").stdout.strip()  # noqa: E731
    before = (squid(), crashes())
    lab.ssh(a.name, "service slapd stop" + quiet, check=True)
    try:
        codes = [curl_proxy(a, ca_file, f"khach{i}", "sai mat khau") for i in range(8)]
        codes.append(curl_proxy(a, ca_file, officials.people["anpv"].uid, "not his password"))
    finally:
        lab.ssh(a.name, "service slapd start" + quiet, check=True)
    assert codes == [407] * 9, codes
    assert (squid(), crashes()) == before
    # verify's probe gets a new password on every run: its proxy login goes through the helpers again
    deadline = time.monotonic() + 60
    while True:
        r = run_cli("verify", "-i", inv, "--limit", f"{deployed_lab.center.name},{a.name}", "--json")
        proxy = [c for c in json.loads(r.stdout)["checks"] if c["host"] == a.name and c["service"] == "proxy"]
        if len(proxy) == 3 and all(c["ok"] for c in proxy):
            break
        assert time.monotonic() < deadline, proxy
        time.sleep(3)


# -------------------------------------------------------------------------------------------- webmail

@pytest.fixture(scope="module")
def browser(deployed_lab, ca_pem):
    ctx = SimpleNamespace(name=lambda service: f"{service}.{ZONE}", tls=ssl.create_default_context(cadata=ca_pem),
                          timeout=5.0)
    server = SimpleNamespace(address=deployed_lab.center.address)
    return lambda: Browser(ctx, server)


def _login(browser, user: str, password: str) -> tuple[int, str]:
    import re

    b = browser()
    status, _, page = b.request("GET", "/")
    assert status == 200 and 'name="_user"' in page, status
    token = re.search(r'name="_token" value="([^"]+)"', page).group(1)
    status, headers, _ = b.request("POST", "/?_task=login", {"_token": token, "_task": "login", "_action": "login",
                                                             "_timezone": "Asia/Ho_Chi_Minh", "_url": "",
                                                             "_user": user, "_pass": password})
    return status, headers.get("location", "")


def test_webmail_login_sends_a_new_official_to_the_password_page(officials, browser):
    an = officials.people["anpv"]
    status, location = _login(browser, an.uid, an.password + "x")
    assert status != 302 or "_task=login" in location, location
    status, location = _login(browser, an.uid, an.password)
    assert status == 302 and "_action=plugin.password" in location and "_first=true" in location, (status, location)
    status, location = _login(browser, an.uid, an.password)   # second login: straight to the mailbox
    assert status == 302 and "_task=mail" in location, (status, location)


def test_forced_password_change_in_webmail_reaches_the_directory_and_the_share(deployed_lab, ca_pem, officials,
                                                                               browser):
    """A first password (pwdReset TRUE, as the accounts code sets it) must be changed at the first login;
    the new one works for the directory and, after the unit's sync, for the file share."""
    import re

    a, s = officials.a, officials.secrets
    uid, old, new = f"dungnt{int(time.time()) % 10000}", "Mat-khau-Dau-2026!", "Mat-khau-Moi-cua-Dung-2026"
    dn = f"uid={uid},{PEOPLE}"
    samba = smb.samba_attributes(BASE_DN, uid, old)
    conn = ldap(deployed_lab.center.address, ca_pem, f"cn=provisioner,ou=Services,{BASE_DN}", s["ldap_provisioner"],
                f"ldap.{ZONE}")
    assert conn.add(dn, ["inetOrgPerson", "govMailAccount", *samba.pop("objectClass")], {
        "uid": uid, "cn": "Nguyễn Thị Dung", "sn": "Nguyễn", "departmentNumber": a.unit, "mail": f"{uid}@{DOMAIN}",
        "mailEnabled": "TRUE", "mailHomeDirectory": f"/var/vmail/{DOMAIN}/{uid}", "govAccountState": "active",
        "userPassword": secrets.sha512_crypt(old), "pwdReset": "TRUE", **samba}), conn.result
    assert conn.modify(f"cn=unit-{a.unit},{GROUPS}", {"member": [(MODIFY_ADD, [dn])]}), conn.result
    try:
        b = browser()
        status, _, page = b.request("GET", "/")
        token = re.search(r'name="_token" value="([^"]+)"', page).group(1)
        status, headers, _ = b.request("POST", "/?_task=login", {"_token": token, "_task": "login",
                                                                 "_action": "login", "_timezone": "UTC", "_url": "",
                                                                 "_user": uid, "_pass": old})
        assert status == 302 and "_action=plugin.password" in headers["location"], (status, headers)
        status, _, page = b.request("GET", headers["location"])
        token = re.search(r'"request_token":"([^"]+)"', page).group(1)
        status, _, page = b.request("POST", "/?_task=settings&_action=plugin.password-save",
                                    {"_token": token, "_curpasswd": old, "_newpasswd": new, "_confpasswd": new})
        messages = re.findall(r'display_message\("([^"]*)","(\w+)"', page)
        # One Password Modify extended operation: the directory hashes it and writes the NT hash (smbk5pwd).
        assert status == 200 and messages and messages[0][1] == "confirmation", messages

        repl = ldap(deployed_lab.center.address, ca_pem, f"cn=replicator,ou=Services,{BASE_DN}",
                    s["ldap_replicator"], f"ldap.{ZONE}")  # the only account that reads password hashes
        repl.search(dn, "(objectClass=*)", BASE, attributes=["pwdReset", "sambaNTPassword", "userPassword"])
        entry = repl.entries[0]
        repl.unbind()
        assert not entry.pwdReset.values                                  # the change cleared pwdReset
        assert entry.userPassword.value.startswith(b"{CRYPT}$6$")
        ldap(deployed_lab.center.address, ca_pem, dn, new, f"ldap.{ZONE}").unbind()
        with pytest.raises(AssertionError):
            ldap(deployed_lab.center.address, ca_pem, dn, old, f"ldap.{ZONE}")
        assert entry.sambaNTPassword.value.upper() == smb.nt_hash(new)  # slapd writes it in lower case
        wait_replicas(deployed_lab, ca_pem, s, dn, True, f"(sambaNTPassword={smb.nt_hash(new)})")
        deployed_lab.lab.ssh(a.name, "/usr/local/sbin/provision-smb-sync", check=True)
        r = smbclient(a.address, SHARE, uid, new, "ls", 5)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        conn.modify(f"cn=unit-{a.unit},{GROUPS}", {"member": [(MODIFY_DELETE, [dn])]})
        conn.delete(dn)
        conn.unbind()


def _submission_login(address: str, ca_pem: str, user: str, password: str) -> None:
    """SMTP AUTH on submission (587, STARTTLS checked against the provincial CA) from this machine."""
    with SMTP(address, 587, name=f"smtp.{ZONE}", timeout=10) as smtp:
        smtp.starttls(context=ssl.create_default_context(cadata=ca_pem))
        smtp.login(user, password)


def test_a_first_password_opens_only_the_webmail_password_page(deployed_lab, ca_pem, ca_file, officials, browser):
    """A first password (pwdReset TRUE) is refused by IMAP, SMTP AUTH, the file share and the proxy from the
    unit LAN; webmail still takes it, to its password page. Changed with the extended operation (as webmail
    and the console do), the new password opens everything."""
    a, s = officials.a, officials.secrets
    uid, first, new = f"lamtt{int(time.time()) % 10000}", "Mat-khau-Dau-Lam-2026!", "Mat-khau-Moi-Lam-2026!"
    dn = f"uid={uid},{PEOPLE}"
    samba = smb.samba_attributes(BASE_DN, uid, first)
    conn = officials.conn
    assert conn.add(dn, ["inetOrgPerson", "govMailAccount", *samba.pop("objectClass")], {
        "uid": uid, "cn": "Trần Thị Lâm", "sn": "Trần", "departmentNumber": a.unit, "mail": f"{uid}@{DOMAIN}",
        "mailEnabled": "TRUE", "mailHomeDirectory": f"/var/vmail/{DOMAIN}/{uid}", "govAccountState": "active",
        "userPassword": secrets.sha512_crypt(first), "pwdReset": "TRUE", **samba}), conn.result
    assert conn.modify(f"cn=unit-{a.unit},{GROUPS}", {"member": [(MODIFY_ADD, [dn])]}), conn.result
    try:
        wait_replicas(deployed_lab, ca_pem, s, f"cn=unit-{a.unit},{GROUPS}", True, f"(member={dn})")
        sync_shares(deployed_lab)
        import imaplib

        with pytest.raises(imaplib.IMAP4.error):
            imap_subjects(deployed_lab.center.address, ca_pem, uid, first)
        with pytest.raises(smtplib.SMTPAuthenticationError):
            _submission_login(deployed_lab.center.address, ca_pem, uid, first)
        r = smbclient(a.address, SHARE, uid, first, "ls", 5)
        assert r.returncode != 0 and "NT_STATUS_LOGON_FAILURE" in r.stdout + r.stderr, r.stdout + r.stderr
        assert curl_proxy(a, ca_file, uid, first) == 407
        status, location = _login(browser, uid, first)                    # the one path it opens
        assert status == 302 and "_action=plugin.password" in location, (status, location)

        user = ldap(deployed_lab.center.address, ca_pem, dn, first, f"ldap.{ZONE}")
        assert user.extend.standard.modify_password(old_password=first, new_password=new), user.result
        user.unbind()
        wait_replicas(deployed_lab, ca_pem, s, dn, True, "(!(pwdReset=TRUE))")
        sync_shares(deployed_lab)
        assert imap_subjects(deployed_lab.center.address, ca_pem, uid, new) == []
        _submission_login(deployed_lab.center.address, ca_pem, uid, new)
        r = smbclient(a.address, SHARE, uid, new, "ls", 5)
        assert r.returncode == 0, r.stdout + r.stderr
        assert curl_proxy(a, ca_file, uid, new) == 301
    finally:
        conn.modify(f"cn=unit-{a.unit},{GROUPS}", {"member": [(MODIFY_DELETE, [dn])]})
        conn.delete(dn)


def test_a_leaver_loses_the_proxy_and_the_share_within_a_minute(deployed_lab, ca_pem, ca_file, officials):
    """Squid trusts a checked password and a group answer for a minute at most, and the unit's Samba sync
    runs every minute; a disabled official is refused by the proxy once that minute has passed."""
    a = officials.a
    conf = deployed_lab.lab.ssh(a.name, "cat /etc/squid/squid.conf", check=True).stdout
    assert "auth_param basic credentialsttl 1 minutes" in conf, conf
    assert " ttl=60 " in conf and "negative_ttl=60" in conf
    cron = deployed_lab.lab.ssh(a.name, "cat /etc/cron.d/provision-smb-sync", check=True).stdout
    assert any(line.startswith(("* * * * * root", "*/1 * * * * root")) for line in cron.splitlines()), cron
    uid, password = f"vinhlv{int(time.time()) % 10000}", "Mat-khau-Vinh-2026!"
    dn = f"uid={uid},{PEOPLE}"
    conn = officials.conn
    assert conn.add(dn, ["inetOrgPerson", "govMailAccount"], {
        "uid": uid, "cn": "Lê Văn Vinh", "sn": "Lê", "departmentNumber": a.unit, "mail": f"{uid}@{DOMAIN}",
        "mailEnabled": "TRUE", "mailHomeDirectory": f"/var/vmail/{DOMAIN}/{uid}", "govAccountState": "active",
        "userPassword": secrets.sha512_crypt(password)}), conn.result
    assert conn.modify(f"cn=unit-{a.unit},{GROUPS}", {"member": [(MODIFY_ADD, [dn])]}), conn.result
    try:
        wait_replicas(deployed_lab, ca_pem, officials.secrets, f"cn=unit-{a.unit},{GROUPS}", True, f"(member={dn})")
        assert curl_proxy(a, ca_file, uid, password) == 301
        assert conn.modify(dn, {"govAccountState": [(MODIFY_REPLACE, ["disabled"])]}), conn.result
        wait_replicas(deployed_lab, ca_pem, officials.secrets, dn, True, "(govAccountState=disabled)")
        time.sleep(61)  # the credentials TTL: Squid asks the directory again after it
        assert curl_proxy(a, ca_file, uid, password) == 407
    finally:
        conn.modify(f"cn=unit-{a.unit},{GROUPS}", {"member": [(MODIFY_DELETE, [dn])]})
        conn.delete(dn)


# --------------------------------------------------------------------------------------- package mirror

def test_unit_server_installs_from_the_centers_mirror_only(deployed_lab):
    unit = deployed_lab.units[0]
    only_mirror = ("-o Dir::Etc::sourcelist=/etc/apt/sources.list.d/provision-mirror.list "
                   "-o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0")
    r = deployed_lab.lab.ssh(unit.name, f"apt-get clean && apt-get {only_mirror} update && DEBIAN_FRONTEND=noninteractive "
                                        f"apt-get {only_mirror} install -y --reinstall --no-install-recommends rsync")
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:]
    # from the suite of the unit server's own release
    codename = deployed_lab.lab.ssh(unit.name, ". /etc/os-release; echo $VERSION_CODENAME", check=True).stdout.strip()
    assert f"https://{deployed_lab.center.name}.{ZONE}:8443/debian {codename}/main amd64 rsync" in r.stdout, \
        r.stdout[-1500:]
    # The index is signed: apt refuses the repository without the mirror's key.
    r = deployed_lab.lab.ssh(unit.name, "sed 's/signed-by=[^]]*/signed-by=\\/dev\\/null/' "
                                        "/etc/apt/sources.list.d/provision-mirror.list >/tmp/unsigned.list && "
                                        "apt-get -o Dir::Etc::sourcelist=/tmp/unsigned.list -o Dir::Etc::sourceparts=- "
                                        "-o APT::Get::List-Cleanup=0 update 2>&1")
    # apt 2.6 (Debian 12) says NO_PUBKEY; apt 3 (Debian 13, sqv) "OpenPGP signature verification failed"
    refused = ("NO_PUBKEY", "not signed", "OpenPGP signature verification failed")
    assert any(m in r.stdout for m in refused) or r.returncode != 0, r.stdout


# --------------------------------------------------------------------------------------------- backup


def _all_dns(deployed_lab, ca_pem) -> set[str]:
    s = secrets.load_secrets(deployed_lab.inventory)
    conn = ldap(deployed_lab.center.address, ca_pem, f"cn=admin,{BASE_DN}", s["ldap_admin"], f"ldap.{ZONE}")
    conn.search(BASE_DN, "(objectClass=*)", SUBTREE, attributes=["1.1"])
    dns = {e.entry_dn for e in conn.entries}
    conn.unbind()
    return dns


def test_backup_then_restore_the_directory_and_a_destroyed_mailbox(deployed_lab, ca_pem, officials):
    center, an = deployed_lab.center, officials.people["anpv"]
    tokens = [f"Công văn số {i}/2026 – kiểm tra sao lưu" for i in (101, 102, 103)]
    deliver(center.address, ca_pem, OUTSIDE, an.uid, an.password, tokens, "Kính gửi đồng chí Phạm Văn An.\n")
    entries = _all_dns(deployed_lab, ca_pem)
    assert f"uid={an.uid},{PEOPLE}".lower() in {d.lower() for d in entries}

    r = run_cli("backup", "run", "-i", str(deployed_lab.inventory), "--limit", center.name, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    snap = json.loads(r.stdout)[0]["snapshots"][0]
    assert snap["entries"] >= len(entries) and snap["messages"] >= 3, snap

    # Disaster: the directory database wiped with slapd stopped, the official's mailbox deleted.
    deployed_lab.lab.ssh(center.name, "service slapd stop >/dev/null; sleep 1; rm -rf /var/lib/ldap/* "
                                      f"/var/vmail/{DOMAIN}/{an.uid}", check=True)
    with pytest.raises(Exception):
        _all_dns(deployed_lab, ca_pem)

    r = run_cli("backup", "restore", "-i", str(deployed_lab.inventory), "--host", center.name,
                "--from", snap["snapshot"], "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    done = json.loads(r.stdout)
    assert done["ok"] and done["entries"] == snap["entries"] and done["messages"] >= 3, done
    assert _all_dns(deployed_lab, ca_pem) == entries
    assert sorted(imap_subjects(center.address, ca_pem, an.uid, an.password)) == sorted(tokens)


def test_backup_cli_lists_snapshots_and_refuses_bad_input(deployed_lab):
    inv = str(deployed_lab.inventory)
    r = run_cli("backup", "list", "-i", inv, "--json")
    assert r.returncode == 0, r.stderr
    hosts = {h["host"]: h for h in json.loads(r.stdout)}
    assert set(hosts) == {deployed_lab.center.name, *(u.name for u in deployed_lab.units)}
    assert all(h["ok"] and h["snapshots"] for h in hosts.values()), hosts   # the deploy's first snapshot
    center = hosts[deployed_lab.center.name]["snapshots"][-1]
    assert center["entries"] and center["entries"] > 0
    r = run_cli("backup", "restore", "-i", inv, "--host", deployed_lab.center.name, "--from", "yesterday")
    assert r.returncode == 2 and "--from" in r.stderr
    r = run_cli("backup", "restore", "-i", inv, "--host", deployed_lab.center.name, "--from", "2001-01-01T00-00-00")
    assert r.returncode == 1 and "no snapshot" in r.stdout + r.stderr
    r = run_cli("backup", "restore", "-i", inv, "--host", "no-such-host", "--from", "latest")
    assert r.returncode == 2 and "no-such-host" in r.stderr


# --------------------------------------------------------------------------------------------- verify

def test_verify_checks_the_unit_services(deployed_lab):
    r = run_cli("verify", "-i", str(deployed_lab.inventory), "--json")
    checks = json.loads(r.stdout)["checks"] if r.stdout.strip().startswith("{") else []
    ops = [c for c in checks if c["service"] in ("fileshare", "proxy", "webmail", "backup")]
    services = {(c["host"], c["service"]) for c in ops}
    for unit in deployed_lab.units:
        assert {(unit.name, "fileshare"), (unit.name, "proxy"), (unit.name, "backup")} <= services
    assert (deployed_lab.center.name, "webmail") in services
    assert all(c["ok"] for c in ops), [c for c in ops if not c["ok"]]


def test_accounts_replace_a_stale_copy_of_the_ca(deployed_lab, ca_pem, tmp_path):
    """A copy of the CA kept from an earlier center (rebuilt lab, renewed CA) must not fail every
    StartTLS of the accounts commands: they read the center's CA again and keep the new one."""
    cached = transport_ca.cache_path(deployed_lab.inventory)        # the one kept copy (provisioning.transport.ca)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-subj", "/CN=old provincial CA",
                    "-days", "30", "-keyout", str(tmp_path / "old.key"), "-out", str(cached)],
                   check=True, capture_output=True)
    roster = tmp_path / "roster.csv"
    r = run_cli("accounts", "sample", "-i", str(deployed_lab.inventory), "--count", "3", "--out", str(roster))
    assert r.returncode == 0, r.stderr
    r = run_cli("accounts", "plan", str(roster), "-i", str(deployed_lab.inventory), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert cached.read_text() == ca_pem
