"""What the lab test modules share to talk to a deployed province: an LDAP connection over StartTLS
checked against the provincial CA, waiting for the unit replicas to follow the center, SMTP to a lab
address under the service's name, delivering mail from outside and reading a mailbox's subjects over
IMAPS."""
from __future__ import annotations

import email
import imaplib
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.policy import default as default_policy

from ldap3 import BASE, Connection, Server, Tls

from provisioning.lab.province import lab_domain

ZONE = lab_domain()
BASE_DN = ",".join(f"dc={p}" for p in ZONE.split("."))
CA_PATH = "/usr/local/share/ca-certificates/provision-ca.crt"


def read_ca(lab, center: str) -> str:
    """The provincial CA certificate (PEM) as the center installed it."""
    return lab.ssh(center, f"cat {CA_PATH}", check=True).stdout


def ldap(address: str, ca_pem: str, dn: str, password: str, name: str) -> Connection:
    """Bound over StartTLS; the server's certificate must chain to the CA and carry `name`. Referrals
    are returned, never followed."""
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=ca_pem, valid_names=[name])
    conn = Connection(Server(address, port=389, tls=tls, connect_timeout=5), user=dn, password=password,
                      auto_referrals=False)   # a replica's referral is an answer to check, not to follow
    conn.open()
    assert conn.start_tls() and conn.bind(), conn.result
    return conn


def wait_replicas(deployed_lab, ca_pem: str, s: dict, dn: str, present: bool,
                  attr_filter: str = "(objectClass=*)", units=None, timeout: float = 30) -> None:
    """Wait until every unit replica (or those of `units`) shows, or no longer shows, `dn` matching the filter."""
    for unit in units or deployed_lab.units:
        conn = ldap(unit.address, ca_pem, f"cn=replicator,ou=Services,{BASE_DN}", s["ldap_replicator"],
                    f"{unit.name}.{ZONE}")
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = conn.search(dn, attr_filter, BASE, attributes=["1.1"]) and bool(conn.entries)
            except Exception:
                found = False
            if found == present:
                break
            assert time.monotonic() < deadline, f"replica {unit.name} did not follow {dn}"
            time.sleep(0.3)
        conn.unbind()


def imap_subjects(address: str, ca_pem: str, user: str, password: str) -> list[str]:
    """The subjects in `user`'s INBOX, over IMAPS to `address` (the certificate checked for imap.<zone>)."""
    class IMAPS(imaplib.IMAP4_SSL):
        def _create_socket(self, timeout):
            return self.ssl_context.wrap_socket(socket.create_connection((address, 993), timeout),
                                                server_hostname=self.host)

    imap = IMAPS(f"imap.{ZONE}", 993, ssl_context=ssl.create_default_context(cadata=ca_pem), timeout=10)
    try:
        imap.login(user, password)
        imap.select("INBOX", readonly=True)
        subjects = []
        for num in imap.search(None, "ALL")[1][0].split():
            _, msg = imap.fetch(num, "(BODY.PEEK[HEADER])")
            subjects.append(str(email.message_from_bytes(msg[0][1], policy=default_policy)["Subject"]))
        return subjects
    finally:
        imap.logout()


class SMTP(smtplib.SMTP):
    """smtplib to a lab address while TLS checks the service's name (no resolver involved)."""

    def __init__(self, address: str, port: int = 25, name: str = f"mail.{ZONE}", timeout: float = 30):
        self._address = address
        super().__init__(name, port, timeout=timeout)

    def _get_socket(self, host, port, timeout):
        return socket.create_connection((self._address, port), timeout)


def deliver(address: str, ca_pem: str, sender: str, uid: str, password: str, subjects: list[str], body: str,
            seconds: float = 30) -> None:
    """Mail from `sender` (outside the province) to `uid` on port 25 over STARTTLS, one message per
    subject, then wait until the mailbox holds at least that many messages."""
    with SMTP(address) as smtp:
        smtp.ehlo()
        smtp.starttls(context=ssl.create_default_context(cadata=ca_pem))
        smtp.ehlo()
        for subject in subjects:
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = sender, f"{uid}@{ZONE}", subject
            msg.set_content(body)
            assert smtp.send_message(msg) == {}
    deadline = time.monotonic() + seconds
    while len(imap_subjects(address, ca_pem, uid, password)) < len(subjects):
        assert time.monotonic() < deadline, "the messages were not delivered"
        time.sleep(0.5)
