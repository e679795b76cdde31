"""The report against real services on loopback: slapd (the contract's DIT and ACLs) read as the
provisioner, and the log lines that real Dovecot and Postfix write for real IMAP logins and SMTP
submissions (not hand-written ones) parsed into uses."""
from __future__ import annotations

import imaplib
import os
import shutil
import smtplib
import tempfile
from pathlib import Path

import pytest

from fixtures.mailstack import MailStack, start_dovecot, start_postfix, start_slapd
from provisioning.secrets import sha512_crypt
from provisioning.report import collect, maillog
from provisioning.report.directory import read_people

BASE, DOMAIN = "dc=bentre,dc=gov,dc=vn", "bentre.gov.vn"
A, B = "000.00.05.H99", "000.20.02.H99"
PEOPLE = [  # uid, unit, hr_id, mailEnabled, state
    ("annv", A, "A1", "TRUE", "active"), ("binhtt", A, "A2", "TRUE", "active"),
    ("ducdd", B, "B1", "FALSE", "disabled"), ("giangvt", B, "B2", "FALSE", "active"),
]


@pytest.fixture(scope="module")
def stack():
    if os.geteuid() != 0:
        pytest.skip("the mail store is owned by vmail (uid 5000): needs root")
    work = Path(tempfile.mkdtemp(prefix="rep-stack-"))
    os.chmod(work, 0o755)
    (work / "vmail").mkdir(mode=0o755)
    slapd = start_slapd(work / "ldap", BASE, [A, B])
    dovecot = postfix = None
    try:
        dovecot = start_dovecot(work / "dovecot", slapd, work / "vmail")
        postfix = start_postfix(work / "postfix", slapd, dovecot, DOMAIN)
        slapd.ldapadd("\n".join(
            f"dn: uid={uid},ou=People,{BASE}\nobjectClass: inetOrgPerson\nobjectClass: govMailAccount\n"
            f"uid: {uid}\ncn: {uid}\nsn: {uid}\nemployeeNumber: {hr}\ndepartmentNumber: {unit}\n"
            f"mail: {uid}@{DOMAIN}\nmailEnabled: {enabled}\ngovAccountState: {state}\n"
            f"mailHomeDirectory: {work}/vmail/{DOMAIN}/{uid}\nmailQuotaMB: 100\n"
            f"userPassword: {sha512_crypt('pw-' + uid)}\n" for uid, unit, hr, enabled, state in PEOPLE))
        yield MailStack(slapd, dovecot, postfix, DOMAIN, work / "vmail")
    finally:
        for svc in (postfix, dovecot, slapd):
            if svc:
                svc.stop()
        shutil.rmtree(work, ignore_errors=True)


def test_directory_counts_through_the_provisioner_account(stack):
    s = stack.slapd
    people = {p.uid: p for p in read_people(s.url, BASE, s.service_dn("provisioner"), s.passwords["provisioner"])}
    assert set(people) == {"annv", "binhtt", "ducdd", "giangvt"}
    assert (people["annv"].unit, people["annv"].hr_id, people["annv"].mailbox) == (A, "A1", True)
    assert (people["ducdd"].active, people["ducdd"].mailbox) == (False, False)      # leaver
    assert (people["giangvt"].active, people["giangvt"].mailbox) == (True, False)   # account, no mailbox


def test_real_dovecot_and_postfix_log_lines_become_uses(stack):
    d, p = stack.dovecot, stack.postfix
    with imaplib.IMAP4("127.0.0.1", d.imap_port) as imap:
        imap.login("annv", "pw-annv")
        imap.logout()
    with imaplib.IMAP4("127.0.0.1", d.imap_port) as imap:
        imap.login(f"binhtt@{DOMAIN}", "pw-binhtt")
        imap.logout()
    with smtplib.SMTP("127.0.0.1", p.smtp_port) as smtp:
        smtp.login("annv", "pw-annv")
        smtp.sendmail(f"annv@{DOMAIN}", [f"binhtt@{DOMAIN}"], b"Subject: test\r\n\r\nXin chao\r\n")
    # an account without mailbox cannot log in, hence no use (Dovecot delays failures: only one here)
    with imaplib.IMAP4("127.0.0.1", d.imap_port) as imap, pytest.raises(imaplib.IMAP4.error):
        imap.login("giangvt", "pw-giangvt")
    logs = collect.from_directory(d.log.parent, ("/x/dovecot.log*",)) + \
        collect.from_directory(p.log.parent, ("/x/mail.log*",))
    warnings: list[str] = []
    uses = sorted((e.kind, e.user, e.address) for e in maillog.events(logs, DOMAIN, warnings))
    assert uses == [("login", "annv", "127.0.0.1"), ("login", "binhtt", "127.0.0.1"),
                    ("sent", "annv", "127.0.0.1")], [f.data.decode()[-2000:] for f in logs]
