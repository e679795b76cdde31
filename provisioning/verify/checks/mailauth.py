"""Mail authentication, probed as a forger would: the verify probe, logged in on 587, writes another
address of the province in From: and sends MAIL FROM:<>; a client outside (this machine, which is not
one of the province's servers) uses the province's domain as envelope sender and as From:. All four
must be refused. A message from outside with a foreign sender must be delivered with the
Authentication-Results header (SPF, DKIM, DMARC) under the server's authserv-id (published by the mail
role). Nothing here leaves the province: refused messages never reach DATA's end, the one delivered
goes to the probe's mailbox and is deleted."""
from __future__ import annotations

import secrets as _random
import smtplib
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

import ldap3

from ..context import PROBE_UID, Context, Server
from ..probes import ldap, smtp_tls, svc_dn
from .mail import OUTSIDE_SENDER, _take_message

# What the Authentication-Results headers of a message received from outside report (DMARC only where
# the mail role runs OpenDMARC: its published fact `dmarc`).
METHODS = ("spf", "dkim", "dmarc")


def _message(sender: str, to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content("Thư kiểm tra chống giả mạo người gửi của `provision verify`.\n", charset="utf-8")
    return msg


def _refused_data(s: smtplib.SMTP, sender: str, to: str, msg: EmailMessage) -> str:
    """Send `msg` with envelope `sender`; return the refusal (5xx at MAIL, RCPT or end of DATA)."""
    try:
        s.send_message(msg, from_addr=sender, to_addrs=[to])
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
        if e.smtp_code >= 500:
            return f"{e.smtp_code} {e.smtp_error.decode(errors='replace')}"
        raise AssertionError(f"deferred, not refused: {e.smtp_code} {e.smtp_error.decode(errors='replace')}")
    except smtplib.SMTPRecipientsRefused as e:
        code, reply = next(iter(e.recipients.values()))
        if code >= 500:
            return f"{code} {reply.decode(errors='replace')}"
        raise AssertionError(f"deferred, not refused: {code} {reply.decode(errors='replace')}")
    raise AssertionError("accepted")


def another_address(ctx: Context, server: Server) -> str:
    """An address of the province that is not the probe's: an official's, else postmaster@."""
    conn = ldap(ctx, server, svc_dn(ctx, "provisioner"), ctx.secrets["ldap_provisioner"])
    try:
        conn.search(f"ou=People,{ctx.base_dn}",
                    f"(&(objectClass=govMailAccount)(mailEnabled=TRUE)(mail=*)(!(uid={PROBE_UID})))",
                    ldap3.SUBTREE, attributes=["mail"], size_limit=1)
        found = [str(e.mail) for e in conn.entries]
    except ldap3.core.exceptions.LDAPSizeLimitExceededResult:
        found = [str(e.mail) for e in conn.entries]
    finally:
        conn.unbind()
    return found[0] if found else f"postmaster@{ctx.domain}"


def check_submission_from_bound_to_login(ctx: Context, server: Server) -> str:
    """587, logged in as the probe: From: another address of the province is refused."""
    password = ctx.need_probe()
    other = another_address(ctx, server)
    msg = _message(other, ctx.probe_mail, f"provision verify forged From {_random.token_hex(6)}")
    with smtp_tls(ctx, server, 587) as s:
        s.login(PROBE_UID, password)
        refusal = _refused_data(s, ctx.probe_mail, ctx.probe_mail, msg)
    return f"logged in as {PROBE_UID}, From: <{other}> refused: {refusal}"


def check_submission_null_sender_refused(ctx: Context, server: Server) -> str:
    """587, logged in: MAIL FROM:<> is refused (at MAIL or at RCPT)."""
    password = ctx.need_probe()
    with smtp_tls(ctx, server, 587) as s:
        s.login(PROBE_UID, password)
        code, reply = s.mail("")
        if code < 500:
            code, reply = s.rcpt(ctx.probe_mail)
        s.rset()
    text = f"{code} {reply.decode(errors='replace')}"
    if code < 500:
        raise AssertionError(f"MAIL FROM:<> after login not refused: {text}")
    return f"MAIL FROM:<> after login refused: {text}"


def check_forged_domain_sender_refused(ctx: Context, server: Server) -> str:
    """25, no login, from outside: any address of the province's domain as envelope sender is refused
    (an address nobody has, so the refusal is the domain's, not an official's)."""
    forged = f"khong-co-{_random.token_hex(4)}@{ctx.domain}"
    with smtp_tls(ctx, server, 25) as s:
        s.mail(forged)
        code, reply = s.rcpt(ctx.probe_mail)
        s.rset()
    text = f"{code} {reply.decode(errors='replace')}"
    if code < 500:
        raise AssertionError(f"MAIL FROM:<{forged}> from outside not refused: {text}")
    return f"MAIL FROM:<{forged}> from outside refused: {text}"


def check_forged_from_refused(ctx: Context, server: Server) -> str:
    """25, no login, from outside, a foreign envelope sender: From: an address of the province is refused."""
    msg = _message(ctx.probe_mail, ctx.probe_mail, f"provision verify forged From {_random.token_hex(6)}")
    with smtp_tls(ctx, server, 25) as s:
        refusal = _refused_data(s, OUTSIDE_SENDER, ctx.probe_mail, msg)
    return f"From: <{ctx.probe_mail}> with MAIL FROM:<{OUTSIDE_SENDER}> from outside refused: {refusal}"


def check_authentication_results(ctx: Context, server: Server) -> str:
    """25, from outside: the delivered message carries this server's Authentication-Results with SPF
    and DKIM results (and DMARC where OpenDMARC runs)."""
    password = ctx.need_probe()
    authserv = ctx.fact(server, "mail", "authserv_id")
    wanted = METHODS if ctx.fact(server, "mail", "dmarc") else ("spf", "dkim")
    token = _random.token_hex(8)
    msg = _message(OUTSIDE_SENDER, ctx.probe_mail, f"provision verify Authentication-Results {token}")
    with smtp_tls(ctx, server, 25) as s:
        refused = s.send_message(msg)
        if refused:
            raise AssertionError(f"recipient refused: {refused}")
    raw, _ = _take_message(ctx, server, password, token)
    results = authentication_results(raw, authserv)
    missing = [m for m in wanted if m not in results]
    if missing:
        raise AssertionError(f"no {', '.join(missing)} result in the Authentication-Results of {authserv} "
                             f"(found: {results or 'none'})")
    return f"{authserv}: " + ", ".join(f"{m}={'/'.join(results[m])}" for m in wanted)


def authentication_results(raw: bytes, authserv: str) -> dict[str, list[str]]:
    """{method: [results]} of the message's Authentication-Results headers written by `authserv` (SPF
    may come twice: from the SPF policy service and from OpenDMARC's own check)."""
    message = BytesParser(policy=default_policy).parsebytes(raw, headersonly=True)
    found: dict[str, list[str]] = {}
    for header in message.get_all("Authentication-Results") or []:
        text = " ".join(str(header).split())
        name, _, rest = text.partition(";")
        if not name.strip() or name.split()[0].lower() != authserv.lower():
            continue
        for part in rest.split(";"):
            method, eq, value = part.strip().partition("=")
            if eq and method.strip().lower() in METHODS and value.split():
                found.setdefault(method.strip().lower(), []).append(value.split()[0])
    return found


CENTER_CHECKS = (
    ("submission", "587-from-bound-to-login", check_submission_from_bound_to_login),
    ("submission", "587-null-sender-after-login-refused", check_submission_null_sender_refused),
    ("smtp", "25-forged-domain-sender-refused", check_forged_domain_sender_refused),
    ("smtp", "25-forged-from-refused", check_forged_from_refused),
    ("smtp", "25-authentication-results", check_authentication_results),
)
