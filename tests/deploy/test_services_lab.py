"""Mail, DNS and web on a deployed lab province, used from this machine as officials and outsiders
would: `provision verify`, then real SMTP/IMAP sessions (smtplib/imaplib, TLS verified against the
provincial CA), a unit server relaying through the center, and verify failing when services stop."""
from __future__ import annotations

import email
import imaplib
import json
import smtplib
import socket
import ssl
import time
import unicodedata
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import dkim
import pytest
import yaml
from ldap3 import MODIFY_REPLACE, Connection, Server, Tls

from provisioning import secrets
from provisioning.verify import probes
from tests.conftest import run_cli
from tests.deploy.labkit import SMTP

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ZONE = DOMAIN = "bentre.gov.vn"
# Mail from outside comes from another domain: the province's own is refused from outside (roles/mail).
OUTSIDE = "vanphong@so-ngoai.example.vn"
BASE_DN = "dc=bentre,dc=gov,dc=vn"
PEOPLE = f"ou=People,{BASE_DN}"
SUBJECT = "Giấy mời họp giao ban tháng 11 – Sở Nội vụ"
BODY = "Kính gửi đồng chí Trần Thị Bình,\nĐề nghị đồng chí dự họp lúc 8 giờ sáng thứ Hai.\n"


@pytest.fixture(scope="module")
def tls(ca_pem) -> ssl.SSLContext:
    """Only the provincial CA is trusted."""
    return ssl.create_default_context(cadata=ca_pem)


class IMAPS(imaplib.IMAP4_SSL):
    def __init__(self, address: str, ctx: ssl.SSLContext, name: str = f"imap.{ZONE}"):
        self._address = address
        super().__init__(name, 993, ssl_context=ctx, timeout=10)

    def _create_socket(self, timeout):
        return self.ssl_context.wrap_socket(socket.create_connection((self._address, 993), timeout),
                                            server_hostname=self.host)


@pytest.fixture(scope="module")
def mailbox(deployed_lab, ca_pem):
    """An official's mailbox (as the accounts code writes it), created through the provisioner."""
    s = secrets.load_secrets(deployed_lab.inventory)
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=ca_pem, valid_names=[f"ldap.{ZONE}"])
    conn = Connection(Server(deployed_lab.center.address, port=389, tls=tls),
                      user=f"cn=provisioner,ou=Services,{BASE_DN}", password=s["ldap_provisioner"])
    conn.open()
    assert conn.start_tls() and conn.bind(), conn.result
    uid, password = "binhtt", "Mat-khau-thu-2026"  # IMAP LOGIN and SMTP AUTH take ASCII
    dn = f"uid={uid},{PEOPLE}"
    assert conn.add(dn, ["inetOrgPerson", "govMailAccount"], {
        "uid": uid, "cn": "Trần Thị Bình", "sn": "Trần", "givenName": "Bình", "employeeNumber": "HR-T-0001",
        "departmentNumber": deployed_lab.units[0].unit, "mail": f"{uid}@{DOMAIN}", "mailAlias": f"vanthu@{DOMAIN}",
        "mailEnabled": "TRUE", "mailQuotaMB": "5", "mailHomeDirectory": f"/var/vmail/{DOMAIN}/{uid}",
        "govAccountState": "active", "userPassword": secrets.sha512_crypt(password)}), conn.result
    yield {"uid": uid, "password": password, "dn": dn, "conn": conn}
    conn.unbind()


def _deliver_on_25(center, tls: ssl.SSLContext, msg: EmailMessage) -> None:
    """Hand a message to the MX as another mail server would: port 25, STARTTLS verified (mail.<zone>
    chains to the provincial CA)."""
    with SMTP(center.address, 25) as s:
        s.ehlo()
        s.starttls(context=tls)
        s.ehlo()
        assert s.send_message(msg) == {}


def _wait_for(imap: imaplib.IMAP4, subject_token: str, seconds: float = 20) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        imap.select("INBOX")
        _, data = imap.search(None, "SUBJECT", subject_token)
        if data and data[0]:
            _, msg = imap.fetch(data[0].split()[-1], "(RFC822)")
            return msg[0][1]
        assert time.monotonic() < deadline, f"no message {subject_token!r} after {seconds} s"
        time.sleep(0.5)


def test_verify_passes_every_check(deployed_lab):
    assert deployed_lab.first.ok, [(h.host, h.error) for h in deployed_lab.first.hosts]
    r = run_cli("verify", "-i", str(deployed_lab.inventory), "--json")
    out = json.loads(r.stdout)
    failed = [c for c in out["checks"] if not c["ok"]]
    assert r.returncode == 0 and not failed, failed or r.stderr
    # every service on the center, replicas and resolvers on each unit server
    center, units = deployed_lab.center.name, [u.name for u in deployed_lab.units]
    seen = {(c["host"], c["service"]) for c in out["checks"]}
    for service in ("ldap", "mail", "smtp", "submission", "imap", "dns", "web", "ntp"):
        assert (center, service) in seen, service
    for u in units:
        assert {(u, "ldap"), (u, "dns"), (u, "ntp")} <= seen
    saved = json.loads(Path(out["saved"]).read_text())
    assert set(saved) == {"run", "checks"} and set(saved["run"]) == {"started", "finished", "inventory"}
    assert saved["checks"] == out["checks"]
    assert set(saved["checks"][0]) == {"host", "unit", "service", "check", "ok", "detail"}


def test_mail_sent_on_25_is_read_back_over_imap(deployed_lab, tls, mailbox):
    center = deployed_lab.center
    token = f"t{time.monotonic_ns()}"
    msg = EmailMessage()
    msg["From"] = OUTSIDE
    msg["To"] = f"vanthu@{DOMAIN}"          # the alias (mailAlias) of the mailbox
    msg["Subject"] = f"{SUBJECT} {token}"
    msg.set_content(BODY)
    _deliver_on_25(center, tls, msg)
    with IMAPS(center.address, tls) as m:
        m.login(f"{mailbox['uid']}@{DOMAIN}", mailbox["password"])   # uid@domain logs in as uid
        raw = _wait_for(m, token)
    got = email.message_from_bytes(raw, policy=default_policy)
    assert got["Subject"] == f"{SUBJECT} {token}"
    body = got.get_content().replace("\r\n", "\n")
    assert body == BODY and unicodedata.is_normalized("NFC", body)


def test_open_relay_is_refused(deployed_lab, tls):
    with SMTP(deployed_lab.center.address, 25) as s:
        s.ehlo()
        s.starttls(context=tls)
        s.ehlo()
        assert s.mail("someone@example.org")[0] == 250
        code, reply = s.rcpt("someone@example.com")   # reserved domain; never DATA
        s.rset()
    assert code == 554 and b"Relay access denied" in reply


def test_outsider_cannot_send_as_an_official(deployed_lab, tls, mailbox):
    with SMTP(deployed_lab.center.address, 25) as s:
        s.ehlo()
        s.starttls(context=tls)
        s.ehlo()
        s.mail(f"vanthu@{DOMAIN}")                   # an alias of the mailbox, no login on port 25
        code, reply = s.rcpt(f"{mailbox['uid']}@{DOMAIN}")
        s.rset()
    assert code == 554 and b"only send after login on port 587" in reply, reply


def test_unknown_recipient_is_refused(deployed_lab):
    with SMTP(deployed_lab.center.address, 25) as s:
        s.ehlo()
        s.mail(OUTSIDE)
        code, reply = s.rcpt(f"khongtontai@{DOMAIN}")
        s.rset()
    assert code == 550 and b"User unknown" in reply


def test_submission_refuses_auth_before_starttls_and_accepts_it_after(deployed_lab, tls, mailbox):
    with SMTP(deployed_lab.center.address, 587, name=f"smtp.{ZONE}") as s:
        s.ehlo()
        assert not s.has_extn("auth")
        code, reply = s.docmd("AUTH", "PLAIN")        # no credentials sent in clear
        assert code == 530, reply
        s.starttls(context=tls)
        s.ehlo()
        assert s.has_extn("auth")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(mailbox["uid"], "wrong-password")
        assert s.login(mailbox["uid"], mailbox["password"])[0] == 235


def test_quota_comes_from_the_directory(deployed_lab, mailbox):
    out = deployed_lab.lab.ssh(deployed_lab.center.name, f"doveadm quota get -u {mailbox['uid']}", check=True).stdout
    storage = next(line.split() for line in out.splitlines() if "STORAGE" in line)
    assert storage[-2] == str(5 * 1024), out           # mailQuotaMB 5 -> limit in KiB


def test_unit_server_relays_through_the_center(deployed_lab, tls, mailbox):
    unit = deployed_lab.units[0]
    token = f"r{time.monotonic_ns()}"
    deployed_lab.lab.ssh(unit.name, f"printf 'Subject: relay {token}\\n\\nbao cao\\n' | "
                                    f"/usr/sbin/sendmail {mailbox['uid']}@{DOMAIN}", check=True)
    with IMAPS(deployed_lab.center.address, tls) as m:
        m.login(mailbox["uid"], mailbox["password"])
        raw = _wait_for(m, token)
    received = " ".join(email.message_from_bytes(raw).get_all("Received") or [])
    assert f"{unit.name}.{ZONE}" in received and "TLS" in received, received


def test_disabled_mailbox_bounces_and_cannot_log_in(deployed_lab, tls, mailbox):
    conn = mailbox["conn"]
    assert conn.modify(mailbox["dn"], {"mailEnabled": [(MODIFY_REPLACE, ["FALSE"])]}), conn.result
    try:
        with SMTP(deployed_lab.center.address, 25) as s:
            s.ehlo()
            s.mail(OUTSIDE)
            assert s.rcpt(f"{mailbox['uid']}@{DOMAIN}")[0] == 550
            assert s.rcpt(f"vanthu@{DOMAIN}")[0] == 550
            s.rset()
        with IMAPS(deployed_lab.center.address, tls) as m, pytest.raises(imaplib.IMAP4.error):
            m.login(mailbox["uid"], mailbox["password"])
    finally:
        assert conn.modify(mailbox["dn"], {"mailEnabled": [(MODIFY_REPLACE, ["TRUE"])]}), conn.result


def test_verify_fails_when_services_stop(deployed_lab):
    """verify reports exactly what is broken: Dovecot stopped on the center, named on a unit server."""
    lab, center, unit = deployed_lab.lab, deployed_lab.center, deployed_lab.units[0]
    quiet = " >/dev/null 2>&1 </dev/null"   # a daemon keeping the session's output open would hang ssh
    lab.ssh(center.name, "service dovecot stop" + quiet, check=True)
    lab.ssh(unit.name, "service named stop" + quiet, check=True)
    try:
        r = run_cli("verify", "-i", str(deployed_lab.inventory), "--json", "--timeout", "2")
    finally:
        lab.ssh(center.name, "service dovecot start" + quiet, check=True)
        lab.ssh(unit.name, "service named start" + quiet, check=True)
    assert r.returncode == 1, r.stdout + r.stderr
    checks = json.loads(r.stdout)["checks"]
    failed = {(c["host"], c["service"], c["check"]) for c in checks if not c["ok"]}
    assert (center.name, "imap", "143-starttls-login") in failed
    assert (center.name, "imap", "993-login-message-delivered") in failed
    assert (center.name, "submission", "587-auth-after-starttls") in failed   # SASL goes through Dovecot
    assert (unit.name, "dns", "records") in failed
    assert not [f for f in failed if f[1] in ("ldap", "web", "ntp")]
    assert not [f for f in failed if f[0] == deployed_lab.units[1].name]
    # and once the services are back, everything passes again (Postfix's master holds back the
    # submission service that failed without Dovecot for service_throttle_time, 10 s)
    deadline = time.monotonic() + 60
    while (r := run_cli("verify", "-i", str(deployed_lab.inventory), "--json")).returncode != 0:
        assert time.monotonic() < deadline, [c for c in json.loads(r.stdout)["checks"] if not c["ok"]]
        time.sleep(3)


def test_center_down_unit_resolvers_still_checked(deployed_lab):
    """WAN outage seen from here: with the center stopped, verify still checks the unit servers with the
    CA kept from the last run, names the center's failure, and passes again once the center is back."""
    lab, center = deployed_lab.lab, deployed_lab.center
    lab.stop_host(center.name)
    try:
        r = run_cli("verify", "-i", str(deployed_lab.inventory), "--json", "--timeout", "2")
    finally:
        lab.start_host(center.name)
    assert r.returncode == 1, r.stdout + r.stderr
    by_check = {(c["host"], c["service"], c["check"]): c for c in json.loads(r.stdout)["checks"]}
    ca = by_check[(center.name, "pki", "ca-from-center")]
    assert not ca["ok"] and "using the copy kept" in ca["detail"]
    assert not by_check[(center.name, "smtp", "25-relay-refused")]["ok"]
    for unit in deployed_lab.units:
        assert by_check[(unit.name, "dns", "records")]["ok"], by_check[(unit.name, "dns", "records")]
        # the unit's workstations keep getting the time from their own server
        assert by_check[(unit.name, "ntp", "answers")]["ok"], by_check[(unit.name, "ntp", "answers")]
    deadline = time.monotonic() + 60
    while (r := run_cli("verify", "-i", str(deployed_lab.inventory), "--json")).returncode != 0:
        assert time.monotonic() < deadline, [c for c in json.loads(r.stdout)["checks"] if not c["ok"]]
        time.sleep(3)


def test_mail_log_rotation_coexists_with_rsyslog(deployed_lab, tls, mailbox):
    """Every server runs rsyslog (role logging), whose package's logrotate file also lists
    /var/log/mail.log: logrotate then refuses the duplicate. After a deploy the file is rotated by the
    mail role only (13 weeks, what the monthly report needs), a second deploy changes nothing, and
    Postfix logs into the fresh file after a rotation."""
    lab, center, inv = deployed_lab.lab, deployed_lab.center, str(deployed_lab.inventory)
    rsyslog_rotate = "/etc/logrotate.d/rsyslog"
    # as the rsyslog package ships it (the mail role took the line out at deploy)
    lab.ssh(center.name, f"grep -qx /var/log/mail.log {rsyslog_rotate} || "
                         f"sed -i '1i /var/log/mail.log' {rsyslog_rotate}", check=True)
    try:
        clash = lab.ssh(center.name, "logrotate -d /etc/logrotate.conf 2>&1").stdout
        assert "duplicate log entry for /var/log/mail.log" in clash    # the problem is real here
        for expect_changes in (True, False):
            r = run_cli("deploy", "-i", inv, "--limit", center.name, "--tags", "mail", "--json")
            assert r.returncode == 0, r.stdout + r.stderr
            assert json.loads(r.stdout)["no_changes"] is not expect_changes, r.stdout
        debug = lab.ssh(center.name, "logrotate -d /etc/logrotate.conf 2>&1").stdout
        assert "duplicate" not in debug and "error:" not in debug, debug
        assert "rotating pattern: /var/log/mail.log /var/log/dovecot.log" in debug

        lab.ssh(center.name, "logrotate -f /etc/logrotate.d/provision-mail", check=True)
        token = f"rot{time.monotonic_ns()}"
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = OUTSIDE, f"{mailbox['uid']}@{DOMAIN}", token
        msg["Message-ID"] = f"<{token}@{DOMAIN}>"
        msg.set_content(BODY)
        _deliver_on_25(center, tls, msg)
        deadline = time.monotonic() + 20
        while lab.ssh(center.name, f"grep -q 'message-id=<{token}@' /var/log/mail.log").returncode != 0:
            assert time.monotonic() < deadline, "Postfix did not log into the rotated-in /var/log/mail.log"
            time.sleep(0.5)
    finally:
        # the deployed state (rsyslog stays: it forwards the center's logs)
        lab.ssh(center.name, f"sed -i '\\|^/var/log/mail.log$|d' {rsyslog_rotate}")


def _submit(center, tls, mailbox, token: str, body: str = BODY) -> None:
    """An official sends a message to himself the usual way: 587, STARTTLS, login."""
    msg = EmailMessage()
    msg["From"] = msg["To"] = f"{mailbox['uid']}@{DOMAIN}"
    msg["Subject"] = f"{SUBJECT} {token}"
    msg.set_content(body)
    with SMTP(center.address, 587, name=f"smtp.{ZONE}") as s:
        s.ehlo()
        s.starttls(context=tls)
        s.ehlo()
        s.login(mailbox["uid"], mailbox["password"])
        assert s.send_message(msg) == {}


def _read_back(center, tls, mailbox, token: str) -> bytes:
    with IMAPS(center.address, tls) as m:
        m.login(mailbox["uid"], mailbox["password"])
        return _wait_for(m, token)


def test_official_mail_is_dkim_signed_and_verifies_with_the_published_key(deployed_lab, tls, mailbox):
    """Mail an official sends on 587 carries a DKIM signature for the province's domain that verifies
    with the key in the province zone, as any receiver would look it up: here from a unit server's
    secondary copy of the zone. A message altered after signing fails; mail from outside is not
    signed by the province."""
    center, unit = deployed_lab.center, deployed_lab.units[0]
    lookup = lambda name, timeout=5: probes.txt_record(unit.address, name.decode().rstrip("."), 5)  # noqa: E731
    token = f"dkim{time.monotonic_ns()}"
    _submit(center, tls, mailbox, token)
    raw = _read_back(center, tls, mailbox, token)
    tags = probes.dkim_tags(raw)
    assert tags["d"] == DOMAIN and tags["s"] == "mail" and tags["a"] == "rsa-sha256", tags
    assert "from" in tags["h"].lower().split(":")
    assert dkim.verify(raw, dnsfunc=lookup)
    tampered = raw.replace("8 giờ".encode(), "9 giờ".encode())   # the meeting moved by a forger
    assert tampered != raw and not dkim.verify(tampered, dnsfunc=lookup)

    token = f"out{time.monotonic_ns()}"
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "someone@example.com", f"{mailbox['uid']}@{DOMAIN}", token
    msg.set_content(BODY)
    _deliver_on_25(center, tls, msg)
    assert probes.dkim_tags(_read_back(center, tls, mailbox, token)) == {}


def test_mail_flows_unsigned_while_opendkim_is_down_and_deploy_repairs_it(deployed_lab, tls, mailbox):
    """OpenDKIM stopped: officials' mail is still delivered (unsigned), verify names exactly the DKIM
    checks, and the next deploy starts OpenDKIM again."""
    lab, center, inv = deployed_lab.lab, deployed_lab.center, str(deployed_lab.inventory)
    quiet = " >/dev/null 2>&1 </dev/null"
    lab.ssh(center.name, "service opendkim stop" + quiet, check=True)
    token = f"nodkim{time.monotonic_ns()}"
    _submit(center, tls, mailbox, token)
    assert probes.dkim_tags(_read_back(center, tls, mailbox, token)) == {}
    r = run_cli("verify", "-i", inv, "--limit", center.name, "--json")
    failed = [(c["service"], c["check"]) for c in json.loads(r.stdout)["checks"] if not c["ok"]]
    # the two DKIM checks: outgoing mail unsigned, incoming mail without its DKIM verification result
    assert r.returncode == 1 and failed == [("submission", "587-dkim-signed"),
                                            ("smtp", "25-authentication-results")], failed

    r = run_cli("deploy", "-i", inv, "--limit", center.name, "--tags", "mail", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["no_changes"] is False, r.stdout + r.stderr
    r = run_cli("verify", "-i", inv, "--limit", center.name, "--json")
    assert r.returncode == 0, [c for c in json.loads(r.stdout)["checks"] if not c["ok"]]


def test_a_new_dkim_selector_rotates_the_key(deployed_lab, tls, mailbox):
    """province.yml's dkim_selector changed: one deploy makes the new key, publishes it (the unit
    resolvers' secondary copies follow by zone transfer), withdraws the old record and signs with
    the new key."""
    center, unit, inv = deployed_lab.center, deployed_lab.units[0], deployed_lab.inventory
    province = inv / "province.yml"
    doc = yaml.safe_load(province.read_text(encoding="utf-8"))
    doc["province"]["dkim_selector"] = "s2026"
    province.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    # before the deploy, verify finds no key for the new selector, on the center and the unit resolver
    r = run_cli("verify", "-i", str(inv), "--limit", f"{center.name},{unit.name}", "--json")
    records = [c for c in json.loads(r.stdout)["checks"] if c["check"] == "records"]
    assert r.returncode == 1 and len(records) == 2, r.stdout + r.stderr
    assert all(not c["ok"] and f"s2026._domainkey.{DOMAIN} TXT" in c["detail"] for c in records), records
    r = run_cli("deploy", "-i", str(inv), "--limit", center.name, "--tags", "pki,dns,mail", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["no_changes"] is False, r.stdout + r.stderr
    lookup = lambda name, timeout=5: probes.txt_record(unit.address, name.decode().rstrip("."), 5)  # noqa: E731
    deadline = time.monotonic() + 30
    while lookup(f"s2026._domainkey.{DOMAIN}".encode()) is None:
        assert time.monotonic() < deadline, "the unit's secondary zone did not get the new key"
        time.sleep(1)
    assert lookup(f"mail._domainkey.{DOMAIN}".encode()) is None
    token = f"rot{time.monotonic_ns()}"
    _submit(center, tls, mailbox, token)
    raw = _read_back(center, tls, mailbox, token)
    assert probes.dkim_tags(raw)["s"] == "s2026" and dkim.verify(raw, dnsfunc=lookup)
    r = run_cli("verify", "-i", str(inv), "--limit", f"{center.name},{unit.name}", "--json")
    assert r.returncode == 0, [c for c in json.loads(r.stdout)["checks"] if not c["ok"]]


def test_signed_mail_from_outside_is_delivered_not_deferred(deployed_lab, tls, mailbox):
    """Other domains sign their mail; the center only signs its own (it may not be able to look other
    domains' keys up), so such a message is accepted and delivered as it came, signature untouched."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    center, token = deployed_lab.center, f"ext{time.monotonic_ns()}"
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "vanthu@example.com", f"{mailbox['uid']}@{DOMAIN}", token
    msg.set_content(BODY)
    raw = msg.as_bytes()
    signed = dkim.sign(raw, b"s1", b"example.com", key, include_headers=[b"from", b"to", b"subject"]) + raw
    with SMTP(center.address, 25) as s:
        s.ehlo()
        s.starttls(context=tls)
        s.ehlo()
        assert s.sendmail("vanthu@example.com", [f"{mailbox['uid']}@{DOMAIN}"], signed) == {}
    tags = probes.dkim_tags(_read_back(center, tls, mailbox, token))
    assert tags["d"] == "example.com" and tags["s"] == "s1"
