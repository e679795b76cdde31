"""Mail, end to end, with the service mailbox `uid=verify-probe` in ou=People (employeeType `service`),
which verify itself creates or updates through the provisioner account, with a new random password on
every run (no stored secret): a message sent on port 25 must arrive in its INBOX over IMAP, and is then
deleted; one it sends itself on 587 must arrive DKIM-signed, the signature verified (dkimpy) with the
public key the center's DNS publishes. The probe has no employeeNumber (HR id) and no departmentNumber
(unit), so the accounts reconciliation and the monthly report, which work on officials, leave it out.
The probe never sends anything outside the province: the relay check stops at RCPT."""
from __future__ import annotations

import secrets as _random
import time
from email.message import EmailMessage

import dkim
import ldap3

from ... import secrets
from ..context import PROBE_UID, Context, Server
from ..probes import IMAP, IMAPS, SMTP, dkim_tags, ldap, smtp_tls, svc_dn, txt_record

# A reserved domain (RFC 2606): the relay check must be refused at RCPT; nothing is ever sent there.
OUTSIDE_RECIPIENT = "relay-probe@example.com"
OUTSIDE_SENDER = "sender-probe@example.com"
DELIVERY_WAIT = 20.0     # seconds for a message to reach the probe's INBOX


def ensure_probe(ctx: Context, server: Server) -> str:
    """Create or refresh the verify-probe mailbox with a new random password (provisioner account)."""
    vmail_dir = ctx.fact(server, "mail", "vmail_dir")     # the mail role's store, as deployed
    password = _random.token_urlsafe(18)
    dn = f"uid={PROBE_UID},ou=People,{ctx.base_dn}"
    attrs = {
        "cn": "Hộp thư kiểm tra dịch vụ", "sn": "Kiểm tra", "displayName": "Hộp thư kiểm tra dịch vụ",
        "mail": ctx.probe_mail, "mailEnabled": "TRUE", "mailQuotaMB": "10",
        "mailHomeDirectory": f"{vmail_dir}/{ctx.domain}/{PROBE_UID}", "govAccountState": "active",
        "employeeType": "service",
        "description": "Service mailbox of `provision verify` (not an official; password changes every run)",
    }
    conn = ldap(ctx, server, svc_dn(ctx, "provisioner"), ctx.secrets["ldap_provisioner"])
    try:
        hashed = secrets.sha512_crypt(password)
        if _exists(conn, dn):
            changes = {k: [(ldap3.MODIFY_REPLACE, [v])] for k, v in attrs.items()}
            changes["userPassword"] = [(ldap3.MODIFY_REPLACE, [hashed])]
            conn.modify(dn, changes)
            action = "refreshed"
        else:
            conn.add(dn, ["inetOrgPerson", "govMailAccount"], {**attrs, "uid": PROBE_UID, "userPassword": hashed})
            action = "created"
    finally:
        conn.unbind()
    ctx.probe_password = password
    return f"{dn} {action}"


def _exists(conn, dn: str) -> bool:
    try:
        return bool(conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["1.1"]))
    except ldap3.core.exceptions.LDAPNoSuchObjectResult:
        return False


def check_smtp_deliver(ctx: Context, server: Server) -> str:
    """Port 25: STARTTLS (verified) and a message to the probe accepted; then read back over IMAP."""
    ctx.need_probe()
    token = _random.token_hex(8)
    msg = EmailMessage()
    msg["From"] = OUTSIDE_SENDER      # mail from outside, as the MX receives it
    msg["To"] = ctx.probe_mail
    msg["Subject"] = f"provision verify {token}"
    msg.set_content("Thư kiểm tra tự động của `provision verify`; sẽ được xóa ngay.\n", charset="utf-8")
    with smtp_tls(ctx, server, 25) as s:
        refused = s.send_message(msg)
        if refused:
            raise AssertionError(f"recipient refused: {refused}")
        version = s.sock.version()
    ctx.delivery_token = token
    return f"STARTTLS ({version}), message for {ctx.probe_mail} accepted"


def check_smtp_relay_refused(ctx: Context, server: Server) -> str:
    with smtp_tls(ctx, server, 25) as s:
        code, reply = s.mail(OUTSIDE_SENDER)
        if code != 250:
            raise AssertionError(f"MAIL FROM refused: {code} {reply.decode(errors='replace')}")
        code, reply = s.rcpt(OUTSIDE_RECIPIENT)
        s.rset()  # never DATA: nothing may leave the province
        text = f"{code} {reply.decode(errors='replace')}"
        if code < 500:
            raise AssertionError(f"RCPT TO:<{OUTSIDE_RECIPIENT}> not refused: {text}")
        return f"RCPT TO:<{OUTSIDE_RECIPIENT}> refused: {text}"


def check_smtp_spoofed_sender_refused(ctx: Context, server: Server) -> str:
    """Port 25 without login: an official's address as sender is refused (anti-spoofing)."""
    with smtp_tls(ctx, server, 25) as s:
        s.mail(ctx.probe_mail)
        code, reply = s.rcpt(ctx.probe_mail)
        s.rset()
        text = f"{code} {reply.decode(errors='replace')}"
        if code < 500:
            raise AssertionError(f"MAIL FROM:<{ctx.probe_mail}> without login not refused: {text}")
        return f"MAIL FROM:<{ctx.probe_mail}> without login refused: {text}"


def check_submission_plain_auth_refused(ctx: Context, server: Server) -> str:
    """Port 587 before STARTTLS: AUTH is neither offered nor accepted (no credentials are sent)."""
    with SMTP(ctx.name("smtp"), server.address, 587, ctx.timeout) as s:
        s.ehlo()
        if s.has_extn("auth"):
            raise AssertionError("AUTH offered before STARTTLS")
        code, reply = s.docmd("AUTH", "PLAIN")
        text = f"{code} {reply.decode(errors='replace')}"
        if code < 500:
            raise AssertionError(f"AUTH before STARTTLS not refused: {text}")
        return f"AUTH before STARTTLS refused: {text}"


def check_submission_auth(ctx: Context, server: Server) -> str:
    password = ctx.need_probe()
    with smtp_tls(ctx, server, 587) as s:
        code, _ = s.login(PROBE_UID, password)
        return f"STARTTLS then AUTH as {PROBE_UID}: {code}"


def check_imap_starttls(ctx: Context, server: Server) -> str:
    password = ctx.need_probe()
    with IMAP(ctx.name("imap"), server.address, 143, ctx.timeout) as m:
        m.starttls(ssl_context=ctx.tls)
        m.login(PROBE_UID, password)
        m.logout()
    return f"143 STARTTLS, login as {PROBE_UID}"


def check_imap_delivered(ctx: Context, server: Server) -> str:
    """993: login over TLS and find the message sent on port 25 (then delete it)."""
    password = ctx.need_probe()
    if not ctx.delivery_token:
        with IMAPS(ctx.name("imap"), server.address, ctx.tls, ctx.timeout) as m:
            m.login(PROBE_UID, password)
        return f"993 TLS, login as {PROBE_UID} (no test message: see the SMTP check)"
    _, waited = _take_message(ctx, server, password, ctx.delivery_token)
    return f"993 TLS, login as {PROBE_UID}, test message in INBOX after {waited:.1f} s (deleted)"


def _take_message(ctx: Context, server: Server, password: str, token: str) -> tuple[bytes, float]:
    """Wait for the probe's message whose subject holds `token` (IMAPS), return it whole and delete it."""
    with IMAPS(ctx.name("imap"), server.address, ctx.tls, ctx.timeout) as m:
        m.login(PROBE_UID, password)
        started = time.monotonic()
        while True:
            m.select("INBOX")
            _, data = m.search(None, "SUBJECT", f'"{token}"')
            found = data[0].split() if data and data[0] else []
            if found:
                _, parts = m.fetch(found[0], "(BODY.PEEK[])")
                raw = next(p[1] for p in parts if isinstance(p, tuple))
                for num in found:
                    m.store(num, "+FLAGS", "\\Deleted")
                m.expunge()
                return raw, time.monotonic() - started
            if time.monotonic() - started > DELIVERY_WAIT:
                raise AssertionError(f"test message not in INBOX after {DELIVERY_WAIT:.0f} s")
            time.sleep(0.5)


def check_dkim_signed(ctx: Context, server: Server) -> str:
    """Mail an official sends (587, logged in) leaves signed for the province's domain, and the
    signature verifies with the key published in the province zone (asked from the center)."""
    password = ctx.need_probe()
    token = _random.token_hex(8)
    msg = EmailMessage()
    msg["From"] = ctx.probe_mail
    msg["To"] = ctx.probe_mail
    msg["Subject"] = f"provision verify DKIM {token}"
    msg.set_content("Thư kiểm tra chữ ký DKIM của `provision verify`; sẽ được xóa ngay.\n", charset="utf-8")
    with smtp_tls(ctx, server, 587) as s:
        s.login(PROBE_UID, password)
        s.send_message(msg)
    raw, _ = _take_message(ctx, server, password, token)
    tags = dkim_tags(raw)
    if not tags:
        raise AssertionError("the message arrived without a DKIM-Signature (is opendkim running?)")
    if tags.get("d") != ctx.domain:
        raise AssertionError(f"signed for d={tags.get('d')}, not {ctx.domain}")
    record = f"{tags.get('s')}._domainkey.{ctx.domain}"
    lookup = lambda name, timeout=5: txt_record(ctx.center.address, name.decode().rstrip("."), ctx.timeout)  # noqa: E731
    if not dkim.verify(raw, dnsfunc=lookup):
        raise AssertionError(f"DKIM-Signature (s={tags.get('s')}) does not verify with the TXT of {record}")
    return f"signed d={ctx.domain} s={tags.get('s')} ({tags.get('a')}), verifies with the TXT of {record}"


# Order matters: the probe is written before mail is tested (and before the replicas are compared).
CENTER_CHECKS = (
    ("mail", "probe-mailbox", ensure_probe),
    ("smtp", "25-starttls-accept-local", check_smtp_deliver),
    ("smtp", "25-relay-refused", check_smtp_relay_refused),
    ("smtp", "25-spoofed-sender-refused", check_smtp_spoofed_sender_refused),
    ("submission", "587-auth-before-starttls-refused", check_submission_plain_auth_refused),
    ("submission", "587-auth-after-starttls", check_submission_auth),
    ("imap", "143-starttls-login", check_imap_starttls),
    ("imap", "993-login-message-delivered", check_imap_delivered),
    ("submission", "587-dkim-signed", check_dkim_signed),
)
