"""Mail authentication on a deployed lab province, each attack of a forger reproduced and refused:
after login, From: another official, or MAIL FROM:<>; from outside, the province's domain as
envelope sender or as From:. What must keep working does: an official's own alias, mail from outside
(delivered with Authentication-Results: SPF, DKIM, DMARC), the unit servers' relaying. The province's
own mail (unit servers, logged-in officials, the center's local mail) is never judged by DMARC.

"Outside" is this machine: its address on the lab's network is not one of the province's servers
(Postfix mynetworks), exactly as another mail server on the Internet. The lab has no DNS for outside
domains, so SPF and DMARC of the outside sender cannot pass or fail here (the results say so);
roles/mail/README.md lists what the lab cannot prove."""
from __future__ import annotations

import email
import imaplib
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from ldap3 import Connection, Server, Tls

from provisioning import secrets
from provisioning.verify import probes
from provisioning.verify.checks.mailauth import authentication_results

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ZONE = DOMAIN = "bentre.gov.vn"
BASE_DN = "dc=bentre,dc=gov,dc=vn"
PEOPLE = f"ou=People,{BASE_DN}"
AUTHSERV = f"mail.{ZONE}"
OUTSIDE = "vanphong@so-ngoai.example.vn"     # a department of another province, not in the lab's DNS
QUIET = " >/dev/null 2>&1 </dev/null"       # a daemon keeping the session's output open would hang ssh
OFFICIALS = {
    # uid: (cn, alias)
    "lanhtt": ("Trần Thị Lành", f"banthuky@{DOMAIN}"),
    "dungnv": ("Nguyễn Văn Dũng", f"giamdoc.snv@{DOMAIN}"),
}
PASSWORD = "Mat-khau-thu-2026"


class SMTP(smtplib.SMTP):
    """smtplib to the lab address while TLS checks the service name (no resolver involved)."""

    def __init__(self, address: str, port: int):
        self._address = address
        super().__init__(f"mail.{ZONE}" if port == 25 else f"smtp.{ZONE}", port, timeout=20)

    def _get_socket(self, host, port, timeout):
        return socket.create_connection((self._address, port), timeout)


class IMAPS(imaplib.IMAP4_SSL):
    def __init__(self, address: str, ctx: ssl.SSLContext):
        self._address = address
        super().__init__(f"imap.{ZONE}", 993, ssl_context=ctx, timeout=10)

    def _create_socket(self, timeout):
        return self.ssl_context.wrap_socket(socket.create_connection((self._address, 993), timeout),
                                            server_hostname=self.host)


@pytest.fixture(scope="module")
def ca_pem(deployed_lab) -> str:
    return deployed_lab.lab.ssh(deployed_lab.center.name, "cat /usr/local/share/ca-certificates/provision-ca.crt",
                                check=True).stdout


@pytest.fixture(scope="module")
def tls(ca_pem) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca_pem)


@pytest.fixture(scope="module")
def officials(deployed_lab, ca_pem):
    """Two officials with one alias each (as the accounts code writes them); removed afterwards,
    mailboxes included."""
    s = secrets.load_secrets(deployed_lab.inventory)
    ldap_tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=ca_pem, valid_names=[f"ldap.{ZONE}"])
    conn = Connection(Server(deployed_lab.center.address, port=389, tls=ldap_tls),
                      user=f"cn=provisioner,ou=Services,{BASE_DN}", password=s["ldap_provisioner"])
    conn.open()
    assert conn.start_tls() and conn.bind(), conn.result
    for n, (uid, (cn, alias)) in enumerate(OFFICIALS.items()):
        dn = f"uid={uid},{PEOPLE}"
        conn.delete(dn)          # left by an interrupted run
        assert conn.add(dn, ["inetOrgPerson", "govMailAccount"], {
            "uid": uid, "cn": cn, "sn": cn.split()[0], "employeeNumber": f"HR-MA-{n:04d}",
            "departmentNumber": deployed_lab.units[0].unit, "mail": f"{uid}@{DOMAIN}", "mailAlias": alias,
            "mailEnabled": "TRUE", "mailQuotaMB": "5", "mailHomeDirectory": f"/var/vmail/{DOMAIN}/{uid}",
            "govAccountState": "active", "userPassword": secrets.sha512_crypt(PASSWORD)}), conn.result
    yield {uid: {"mail": f"{uid}@{DOMAIN}", "alias": alias} for uid, (_, alias) in OFFICIALS.items()}
    for uid in OFFICIALS:
        conn.delete(f"uid={uid},{PEOPLE}")
    conn.unbind()
    deployed_lab.lab.ssh(deployed_lab.center.name,
                         " ".join(["rm -rf"] + [f"/var/vmail/{DOMAIN}/{uid}" for uid in OFFICIALS]))


def _message(sender: str, to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = f"<{subject.replace(' ', '.')}@lab.test>"
    msg.set_content("Kính gửi các đồng chí,\nĐề nghị chuyển khoản gấp theo hướng dẫn đính kèm.\n")
    return msg


def _login(center, tls, uid: str) -> SMTP:
    s = SMTP(center.address, 587)
    s.ehlo()
    s.starttls(context=tls)
    s.ehlo()
    assert s.login(uid, PASSWORD)[0] == 235
    return s


def _on_25(center, tls) -> SMTP:
    s = SMTP(center.address, 25)
    s.ehlo()
    s.starttls(context=tls)
    s.ehlo()
    return s


def _inbox(center, tls, uid: str, token: str, seconds: float = 20) -> bytes | None:
    """The message whose subject holds `token` in uid's INBOX (None when it has not come in `seconds`)."""
    with IMAPS(center.address, tls) as m:
        m.login(uid, PASSWORD)
        deadline = time.monotonic() + seconds
        while True:
            m.select("INBOX")
            _, data = m.search(None, "SUBJECT", f'"{token}"')
            if data and data[0]:
                _, got = m.fetch(data[0].split()[-1], "(BODY.PEEK[])")
                return got[0][1]
            if time.monotonic() > deadline:
                return None
            time.sleep(0.5)


def test_after_login_from_another_official_is_refused(deployed_lab, tls, officials):
    """lanhtt logs in and writes dungnv's address in From: refused at the end of the header, whatever
    the envelope (his own: the header milter; dungnv's: Postfix's sender login map)."""
    center, token = deployed_lab.center, f"forge{time.monotonic_ns()}"
    lanh, dung = officials["lanhtt"], officials["dungnv"]
    msg = _message(f"Nguyễn Văn Dũng <{dung['mail']}>", lanh["mail"], token)
    with _login(center, tls, "lanhtt") as s:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            s.send_message(msg, from_addr=lanh["mail"], to_addrs=[lanh["mail"]])
        assert refused.value.smtp_code == 550 and dung["mail"].encode() in refused.value.smtp_error, refused.value
        s.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused_rcpt:
            s.send_message(msg, from_addr=dung["mail"], to_addrs=[lanh["mail"]])
        code, reply = refused_rcpt.value.recipients[lanh["mail"]]
        assert code == 553 and b"not owned by user lanhtt" in reply, reply
        s.rset()
        # another official's address hidden in the display name counts as well
        hidden = _message(f'"{dung["mail"]}" <{lanh["mail"]}>', lanh["mail"], token)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            s.send_message(hidden, from_addr=lanh["mail"], to_addrs=[lanh["mail"]])
        assert refused.value.smtp_code == 550, refused.value
    assert _inbox(center, tls, "lanhtt", token, seconds=3) is None
    # the refusals are logged with the login (the lab has no systemd: the milter's own log file)
    log = deployed_lab.lab.ssh(center.name, "grep -h 'login=lanhtt' /var/log/provision-sender-milter.log").stdout
    assert "reject:" in log and f"From: <{dung['mail']}> is not the sender" in log, log


def test_after_login_null_sender_is_refused(deployed_lab, tls, officials):
    with _login(deployed_lab.center, tls, "lanhtt") as s:
        code, reply = s.mail("")
        if code < 500:        # Postfix decides at RCPT (smtpd_delay_reject)
            code, reply = s.rcpt(officials["dungnv"]["mail"])
        s.rset()
    assert code >= 500 and b"MAIL FROM:<> is not allowed after login" in reply, (code, reply)


def test_own_alias_is_accepted_and_signed(deployed_lab, tls, officials):
    """An official sends as his alias (envelope and From:), to a colleague: delivered, DKIM-signed."""
    center, token = deployed_lab.center, f"alias{time.monotonic_ns()}"
    lanh, dung = officials["lanhtt"], officials["dungnv"]
    with _login(center, tls, "lanhtt") as s:
        assert s.send_message(_message(f"Ban thư ký <{lanh['alias']}>", dung["mail"], token),
                              from_addr=lanh["alias"], to_addrs=[dung["mail"]]) == {}
    raw = _inbox(center, tls, "dungnv", token)
    assert raw is not None, "the alias's message was not delivered"
    got = email.message_from_bytes(raw, policy=default_policy)
    assert got["From"].addresses[0].addr_spec == lanh["alias"]
    assert probes.dkim_tags(raw).get("d") == DOMAIN
    assert "dmarc" not in authentication_results(raw, AUTHSERV), "submission mail was judged by DMARC"


def test_outside_sender_of_the_province_domain_is_refused(deployed_lab, tls, officials):
    """From outside without login: an address of the province's domain nobody has as envelope sender
    (refused at RCPT), and an official's address in From: behind a foreign envelope (refused at the end
    of the header); neither reaches the mailbox."""
    center, token = deployed_lab.center, f"spoof{time.monotonic_ns()}"
    dung = officials["dungnv"]
    with _on_25(center, tls) as s:
        assert s.mail(f"giamdoc@{DOMAIN}")[0] == 250
        code, reply = s.rcpt(dung["mail"])
        s.rset()
        assert code == 554 and b"may only send after login on port 587" in reply, reply
        assert s.mail(f"ketoan@snv.{DOMAIN}")[0] == 250          # a subdomain of the province too
        code, reply = s.rcpt(dung["mail"])
        s.rset()
        assert code == 554, reply
        with pytest.raises(smtplib.SMTPDataError) as refused:
            s.send_message(_message(f"Trần Thị Lành <{officials['lanhtt']['mail']}>", dung["mail"], token),
                           from_addr=OUTSIDE, to_addrs=[dung["mail"]])
    assert refused.value.smtp_code == 550 and b"address of the province" in refused.value.smtp_error
    assert _inbox(center, tls, "dungnv", token, seconds=3) is None


def test_outside_mail_is_delivered_with_authentication_results(deployed_lab, tls, officials):
    """Legitimate mail from outside arrives, with this server's Authentication-Results: SPF (no DNS for
    the outside domain in the lab: none/temperror, never a pass), DKIM (unsigned: none), DMARC; a forged
    Authentication-Results claiming a DKIM pass under the server's name is removed."""
    center, token = deployed_lab.center, f"ar{time.monotonic_ns()}"
    msg = _message(f"Văn phòng Sở Ngoại vụ <{OUTSIDE}>", officials["dungnv"]["mail"], token)
    msg["Authentication-Results"] = f"{AUTHSERV}; dkim=pass header.d={DOMAIN}"   # the forger's
    with _on_25(center, tls) as s:
        assert s.send_message(msg) == {}
    raw = _inbox(center, tls, "dungnv", token)
    assert raw is not None, "mail from outside was not delivered"
    results = authentication_results(raw, AUTHSERV)
    assert set(results) >= {"spf", "dkim"}, raw.decode(errors="replace")[:3000]
    # the SPF policy service finds no record (OpenDMARC's own SPF check, whose result comes too where
    # it runs, may call the failed DNS lookup a fail); nothing passes
    assert set(results["spf"]) & {"none", "temperror"} and "pass" not in results["spf"], results
    assert results["dkim"] == ["none"], results
    # OpenDMARC judged it (mail_dmarc is on by default): the outside domain publishes no DMARC record the
    # lab can find, so no policy applies, and the header names the From: domain it looked up
    assert results.get("dmarc") == ["none"], results
    got = email.message_from_bytes(raw, policy=default_policy)
    assert not [h for h in got.get_all("Authentication-Results") if f"header.d={DOMAIN}" in str(h)]
    assert [h for h in got.get_all("Authentication-Results")
            if "dmarc=none" in str(h) and f"header.from={OUTSIDE.split('@')[1]}" in str(h)], raw[:3000]


def test_unit_server_mail_with_an_official_from_is_relayed(deployed_lab, tls, officials):
    """A unit server (mynetworks, no login, on 587) keeps relaying its own mail, From: an address of the
    province included, and the center signs it."""
    unit, token = deployed_lab.units[0], f"unit{time.monotonic_ns()}"
    deployed_lab.lab.ssh(unit.name, f"printf 'From: Phong Tổ chức <tochuc@{DOMAIN}>\\nSubject: {token}\\n\\n"
                                    f"bao cao\\n' | /usr/sbin/sendmail -f tochuc@{DOMAIN} "
                                    f"{officials['dungnv']['mail']}", check=True)
    raw = _inbox(deployed_lab.center, tls, "dungnv", token)
    assert raw is not None, "the unit server's message was not delivered"
    assert probes.dkim_tags(raw).get("d") == DOMAIN
    # DMARC does not see it (Postfix smtpd_milter_maps): the province's p=quarantine would hold it
    assert "dmarc" not in authentication_results(raw, AUTHSERV), raw.decode(errors="replace")[:3000]
    held = deployed_lab.lab.ssh(deployed_lab.center.name, "postqueue -j").stdout
    assert token not in held and '"queue_name": "hold"' not in held, held


def test_local_mail_of_the_center_is_delivered_without_dmarc(deployed_lab, tls, officials):
    """The center's own programs (sendmail: cron, backups, the report) send with a province From:; the
    message is signed and delivered, not judged by DMARC (non_smtpd_milters)."""
    center, token = deployed_lab.center, f"local{time.monotonic_ns()}"
    deployed_lab.lab.ssh(center.name, f"printf 'From: Trung tâm <baocao@{DOMAIN}>\nSubject: {token}\n\n"
                                      f"bao cao thang\n' | /usr/sbin/sendmail -f baocao@{DOMAIN} "
                                      f"{officials['dungnv']['mail']}", check=True)
    raw = _inbox(center, tls, "dungnv", token)
    assert raw is not None, "the center's local message was not delivered"
    assert probes.dkim_tags(raw).get("d") == DOMAIN
    assert "dmarc" not in authentication_results(raw, AUTHSERV), raw.decode(errors="replace")[:3000]


def test_webmail_keeps_its_sqlite_database_next_to_opendmarc(deployed_lab):
    """OpenDMARC's package brings dbconfig-mysql; Roundcube's dbconfig-common answer must still be SQLite
    (a MySQL answer leaves the webmail without a database: HTTP 500). The login itself is
    test_ops_lab.py's webmail tests and verify's webmail checks."""
    lab, center = deployed_lab.lab, deployed_lab.center.name
    assert lab.ssh(center, "dpkg-query -W -f='${Status}' opendmarc dbconfig-mysql").stdout.count("ok installed") == 2
    assert lab.ssh(center, "service opendmarc status" + " </dev/null").returncode == 0
    conf = lab.ssh(center, "cat /etc/dbconfig-common/roundcube.conf /etc/roundcube/debian-db.php", check=True).stdout
    assert "dbc_dbtype='sqlite3'" in conf and "$dbtype='sqlite3';" in conf, conf
    db = lab.ssh(center, "sqlite3 /var/lib/dbconfig-common/sqlite3/roundcube/roundcube "
                         "'select count(*) from system'", check=True).stdout
    assert int(db.strip()) >= 1, db


def test_submission_defers_while_the_sender_milter_is_down(deployed_lab, tls, officials):
    """The header check fails closed: with provision-sender-milter stopped, submission defers (4xx)
    instead of letting an unchecked From: through; the service started again, mail flows."""
    lab, center = deployed_lab.lab, deployed_lab.center
    lanh = officials["lanhtt"]
    lab.ssh(center.name, "service provision-sender-milter stop" + QUIET, check=True)
    try:
        # Postfix answers 4xx from the first command on (the session cannot even log in)
        with pytest.raises(smtplib.SMTPResponseException) as deferred, _login(center, tls, "lanhtt") as s:
            s.send_message(_message(lanh["mail"], lanh["mail"], f"down{time.monotonic_ns()}"))
        assert 400 <= deferred.value.smtp_code < 500, deferred.value
    finally:
        lab.ssh(center.name, "service provision-sender-milter start" + QUIET, check=True)
    token = f"up{time.monotonic_ns()}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with _login(center, tls, "lanhtt") as s:
                assert s.send_message(_message(lanh["mail"], lanh["mail"], token)) == {}
            break
        except smtplib.SMTPResponseException:
            assert time.monotonic() < deadline, "submission did not recover after the milter started"
            time.sleep(1)
    assert _inbox(center, tls, "lanhtt", token) is not None
