"""`provision verify`: check every deployed service from outside, as a user would.

The checks run on this machine and talk to the servers over the network only (directory, SMTP, IMAP,
DNS, HTTPS, NTP); nothing is read from the servers except the provincial CA certificate, fetched once
from the center over SSH (the inventory's own host-key checking vouches for it). Every TLS connection
is verified against that CA and the service name; verification is never disabled.

Connections go to the inventory's addresses, never through the system resolver: the province's names
(mail.<zone>, ...) are only used for TLS name checks, so no query for them ever leaves for the Internet.

Mail is tested end to end with a dedicated service mailbox `uid=verify-probe` in ou=People (employeeType
`service`), which verify itself creates or updates through the provisioner account, with a new random
password on every run (no stored secret): a message sent on port 25 must arrive in its INBOX over IMAP,
and is then deleted; one it sends itself on 587 must arrive DKIM-signed, the signature verified (dkimpy)
with the public key the center's DNS publishes. The probe has no employeeNumber (HR id) and no
departmentNumber (unit), so the accounts reconciliation and the monthly report, which work on
officials, leave it out. The probe never sends anything outside the province: the relay check stops
at RCPT.

Results: a list of `Check` (host, unit, service, check, ok, detail), saved as
`var/<inventory>/verify/<run>.json`: {"run": {"started", "finished", "inventory"}, "checks": [...]}.
"""
from __future__ import annotations

import datetime as dt
import email.policy
import http.client
import imaplib
import json
import re
import secrets as _random
import shlex
import smtplib
import socket
import ssl
import struct
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Callable, Iterator

import dkim
import ldap3

from .. import paths, secrets
from ..errors import BadInput, OperationFailed
from ..model import Host, HostRole, Province, load_province
from ..render.console import to_plain

CA_PATH = "/usr/local/share/ca-certificates/provision-ca.crt"
PROBE_UID = "verify-probe"
# A reserved domain (RFC 2606): the relay check must be refused at RCPT; nothing is ever sent there.
OUTSIDE_RECIPIENT = "relay-probe@example.com"
OUTSIDE_SENDER = "sender-probe@example.com"
DELIVERY_WAIT = 20.0     # seconds for a message to reach the probe's INBOX
REPLICA_WAIT = 15.0      # seconds for a replica to catch up with the probe's new password


@dataclass
class Check:
    host: str
    unit: str
    service: str
    check: str
    ok: bool
    detail: str = ""


@dataclass
class VerifyRun:
    inventory: str
    started: str
    finished: str = ""
    checks: list[Check] = field(default_factory=list)
    saved: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def document(self) -> dict:
        """The saved format (contract with the report code)."""
        return {"run": {"started": self.started, "finished": self.finished, "inventory": self.inventory},
                "checks": to_plain(self.checks)}


@dataclass
class Server:
    name: str
    unit: str
    address: str
    fqdn: str
    center: bool


class Context:
    """What every check needs: the province, its names, the verified TLS context and the secrets."""

    def __init__(self, province: Province, ca_pem: str, service_secrets: dict[str, str], timeout: float):
        self.province = province
        self.zone = province.dns_zone
        self.domain = province.info.mail_domain
        self.base_dn = province.info.base_dn
        self.timeout = timeout
        self.ca_pem = ca_pem
        self.tls = ssl.create_default_context(cadata=ca_pem)  # only the provincial CA is trusted
        self.tls.minimum_version = ssl.TLSVersion.TLSv1_2
        self.secrets = service_secrets
        self.probe_password: str | None = None   # set by the probe check
        self.delivery_token: str | None = None   # subject token of the message sent on port 25
        self.servers = [_server(h, self.zone) for h in province.hosts.values() if _is_server(h)]
        self.center = next(s for s in self.servers if s.center)

    def name(self, service: str) -> str:
        return f"{service}.{self.zone}"

    @property
    def probe_mail(self) -> str:
        return f"{PROBE_UID}@{self.domain}"


def _is_server(h: Host) -> bool:
    return h.role == HostRole.server and bool({"center_servers", "unit_servers"} & set(h.groups))


def _server(h: Host, zone: str) -> Server:
    return Server(h.name, h.unit, h.address, f"{h.name}.{zone}", "center_servers" in h.groups)


# ---------------------------------------------------------------------------------------------- helpers

def fetch_ca(host: Host, timeout: float = 10.0) -> str:
    """The provincial CA certificate, read from the center over SSH with the inventory's settings."""
    cmd = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={int(timeout)}", "-p", str(host.port)]
    if host.key_file:
        cmd += ["-i", str(host.key_file)]
    cmd += shlex.split(str(host.vars.get("ansible_ssh_common_args", "")))
    cmd += [f"{host.user}@{host.address}", f"cat {CA_PATH}"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 5)
    except subprocess.TimeoutExpired:
        raise OperationFailed(f"{host.name}: no answer over SSH while fetching the provincial CA") from None
    if r.returncode != 0 or "BEGIN CERTIFICATE" not in r.stdout:
        raise OperationFailed(f"{host.name}: cannot read {CA_PATH} over SSH (deployed?): "
                              f"{(r.stderr or r.stdout).strip()[:200]}")
    try:
        ssl.create_default_context(cadata=r.stdout)
    except ssl.SSLError as e:
        raise OperationFailed(f"{host.name}: {CA_PATH} is not a usable CA certificate: {e}") from None
    return r.stdout


def provincial_ca(inventory: str | Path, center: Host, timeout: float) -> tuple[str, str]:
    """The CA from the center, kept in var/<inventory>/verify/ca.crt for the next run. When the center
    cannot be reached, the kept copy lets the unit servers still be checked (WAN outage); the second
    value then says why (empty when the CA came from the center)."""
    kept = paths.data_dir(inventory, "verify") / "ca.crt"
    try:
        pem = fetch_ca(center, timeout)
    except OperationFailed as e:
        if not kept.exists():
            raise
        return kept.read_text(), f"{e}; using the copy kept at {kept}"
    kept.write_text(pem)
    return pem, ""


class _SMTP(smtplib.SMTP):
    """SMTP to an address, with TLS checked against the service name (no resolver involved)."""

    def __init__(self, name: str, address: str, port: int, timeout: float):
        self._address = address
        super().__init__(name, port, local_hostname="verify.invalid", timeout=timeout)

    def _get_socket(self, host, port, timeout):
        return socket.create_connection((self._address, port), timeout)


@contextmanager
def _smtp_tls(ctx: Context, server: Server, port: int) -> Iterator[_SMTP]:
    """An SMTP session after a verified STARTTLS: port 25 as mail.<zone> (MX), 587 as smtp.<zone>."""
    with _SMTP(ctx.name("mail" if port == 25 else "smtp"), server.address, port, ctx.timeout) as s:
        s.ehlo()
        if not s.has_extn("starttls"):
            raise AssertionError(f"port {port} does not offer STARTTLS")
        s.starttls(context=ctx.tls)
        s.ehlo()
        yield s


class _IMAP(imaplib.IMAP4):
    def __init__(self, name: str, address: str, port: int, timeout: float):
        self._address = address
        super().__init__(name, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self._address, self.port), timeout)


class _IMAPS(imaplib.IMAP4_SSL):
    def __init__(self, name: str, address: str, ctx: ssl.SSLContext, timeout: float):
        self._address = address
        super().__init__(name, 993, ssl_context=ctx, timeout=timeout)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self._address, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class _HTTPS(http.client.HTTPSConnection):
    def __init__(self, name: str, address: str, ctx: ssl.SSLContext, timeout: float):
        self._address = address
        super().__init__(name, 443, context=ctx, timeout=timeout)

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _HTTP(http.client.HTTPConnection):
    def __init__(self, name: str, address: str, timeout: float):
        self._address = address
        super().__init__(name, 80, timeout=timeout)

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def _ldap(ctx: Context, server: Server, user: str | None, password: str | None):
    """An ldap3 connection over StartTLS, verified against the CA and the server's names."""
    names = [server.fqdn] + ([ctx.name("ldap")] if server.center else [])
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=ctx.ca_pem, valid_names=names,
                    version=ssl.PROTOCOL_TLS_CLIENT)
    srv = ldap3.Server(server.address, port=389, tls=tls, connect_timeout=ctx.timeout, get_info=ldap3.NONE)
    conn = ldap3.Connection(srv, user=user, password=password, receive_timeout=max(1, int(ctx.timeout)),  # ldap3 needs an int
                            raise_exceptions=True, read_only=False)
    conn.open()
    conn.start_tls()
    if user:
        conn.bind()
    return conn


def _svc_dn(ctx: Context, name: str) -> str:
    return f"cn={name},ou=Services,{ctx.base_dn}"


def dig(server: str, name: str, rtype: str, timeout: float) -> list[str]:
    """Answers of one query (`dig +short`), sorted."""
    r = subprocess.run(["dig", "+short", f"+time={max(1, int(timeout))}", "+tries=2", f"@{server}", name, rtype],
                       capture_output=True, text=True, timeout=timeout * 3 + 5)
    if r.returncode != 0:
        raise OSError(f"dig @{server} {name} {rtype}: {(r.stdout + r.stderr).strip()[:200]}")
    return sorted(line.strip() for line in r.stdout.splitlines() if line.strip() and not line.startswith(";"))


def ntp_query(address: str, timeout: float) -> tuple[int, float]:
    """One SNTP client request (RFC 4330): returns (stratum, offset in seconds). Raises on no answer
    or an unsynchronised server."""
    ntp_epoch = 2208988800
    packet = b"\x23" + b"\0" * 47          # LI 0, version 4, mode 3 (client)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        sent = time.time()
        s.sendto(packet, (address, 123))
        data, _ = s.recvfrom(512)
        received = time.time()
    if len(data) < 48:
        raise OSError(f"short NTP answer ({len(data)} bytes)")
    leap, mode, stratum = data[0] >> 6, data[0] & 7, data[1]
    if mode != 4:
        raise OSError(f"NTP answer has mode {mode}, not 4 (server)")
    if leap == 3 or not 1 <= stratum <= 15:
        raise OSError(f"server is not synchronised (leap {leap}, stratum {stratum})")
    secs, frac = struct.unpack("!II", data[40:48])
    server_time = secs - ntp_epoch + frac / 2**32
    return stratum, server_time - (sent + received) / 2


# ---------------------------------------------------------------------------------------------- checks

CheckFn = Callable[[Context, Server], str]


def check_ldap_bind(ctx: Context, server: Server) -> str:
    conn = _ldap(ctx, server, _svc_dn(ctx, "mail-reader"), ctx.secrets["ldap_mail_reader"])
    try:
        conn.search(f"ou=People,{ctx.base_dn}", "(objectClass=govMailAccount)", ldap3.LEVEL,
                    attributes=["uid"], size_limit=1000)
        return f"StartTLS, bound as mail-reader, {len(conn.entries)} mailbox entries visible"
    finally:
        conn.unbind()


def check_ldap_anonymous(ctx: Context, server: Server) -> str:
    conn = _ldap(ctx, server, None, None)
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
    conn = _ldap(ctx, server, _svc_dn(ctx, "mail-reader"), ctx.secrets["ldap_mail_reader"])
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


def ensure_probe(ctx: Context, server: Server) -> str:
    """Create or refresh the verify-probe mailbox with a new random password (provisioner account)."""
    password = _random.token_urlsafe(18)
    dn = f"uid={PROBE_UID},ou=People,{ctx.base_dn}"
    attrs = {
        "cn": "Hộp thư kiểm tra dịch vụ", "sn": "Kiểm tra", "displayName": "Hộp thư kiểm tra dịch vụ",
        "mail": ctx.probe_mail, "mailEnabled": "TRUE", "mailQuotaMB": "10",
        "mailHomeDirectory": f"/var/vmail/{ctx.domain}/{PROBE_UID}", "govAccountState": "active",
        "employeeType": "service",
        "description": "Service mailbox of `provision verify` (not an official; password changes every run)",
    }
    conn = _ldap(ctx, server, _svc_dn(ctx, "provisioner"), ctx.secrets["ldap_provisioner"])
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


def _need_probe(ctx: Context) -> str:
    if not ctx.probe_password:
        raise AssertionError("no probe mailbox (see the probe check)")
    return ctx.probe_password


def check_smtp_deliver(ctx: Context, server: Server) -> str:
    """Port 25: STARTTLS (verified) and a message to the probe accepted; then read back over IMAP."""
    _need_probe(ctx)
    token = _random.token_hex(8)
    msg = EmailMessage()
    msg["From"] = OUTSIDE_SENDER      # mail from outside, as the MX receives it
    msg["To"] = ctx.probe_mail
    msg["Subject"] = f"provision verify {token}"
    msg.set_content("Thư kiểm tra tự động của `provision verify`; sẽ được xóa ngay.\n", charset="utf-8")
    with _smtp_tls(ctx, server, 25) as s:
        refused = s.send_message(msg)
        if refused:
            raise AssertionError(f"recipient refused: {refused}")
        version = s.sock.version()
    ctx.delivery_token = token
    return f"STARTTLS ({version}), message for {ctx.probe_mail} accepted"


def check_smtp_relay_refused(ctx: Context, server: Server) -> str:
    with _smtp_tls(ctx, server, 25) as s:
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
    with _smtp_tls(ctx, server, 25) as s:
        s.mail(ctx.probe_mail)
        code, reply = s.rcpt(ctx.probe_mail)
        s.rset()
        text = f"{code} {reply.decode(errors='replace')}"
        if code < 500:
            raise AssertionError(f"MAIL FROM:<{ctx.probe_mail}> without login not refused: {text}")
        return f"MAIL FROM:<{ctx.probe_mail}> without login refused: {text}"


def check_submission_plain_auth_refused(ctx: Context, server: Server) -> str:
    """Port 587 before STARTTLS: AUTH is neither offered nor accepted (no credentials are sent)."""
    with _SMTP(ctx.name("smtp"), server.address, 587, ctx.timeout) as s:
        s.ehlo()
        if s.has_extn("auth"):
            raise AssertionError("AUTH offered before STARTTLS")
        code, reply = s.docmd("AUTH", "PLAIN")
        text = f"{code} {reply.decode(errors='replace')}"
        if code < 500:
            raise AssertionError(f"AUTH before STARTTLS not refused: {text}")
        return f"AUTH before STARTTLS refused: {text}"


def check_submission_auth(ctx: Context, server: Server) -> str:
    password = _need_probe(ctx)
    with _smtp_tls(ctx, server, 587) as s:
        code, _ = s.login(PROBE_UID, password)
        return f"STARTTLS then AUTH as {PROBE_UID}: {code}"


def check_imap_starttls(ctx: Context, server: Server) -> str:
    password = _need_probe(ctx)
    with _IMAP(ctx.name("imap"), server.address, 143, ctx.timeout) as m:
        m.starttls(ssl_context=ctx.tls)
        m.login(PROBE_UID, password)
        m.logout()
    return f"143 STARTTLS, login as {PROBE_UID}"


def check_imap_delivered(ctx: Context, server: Server) -> str:
    """993: login over TLS and find the message sent on port 25 (then delete it)."""
    password = _need_probe(ctx)
    if not ctx.delivery_token:
        with _IMAPS(ctx.name("imap"), server.address, ctx.tls, ctx.timeout) as m:
            m.login(PROBE_UID, password)
        return f"993 TLS, login as {PROBE_UID} (no test message: see the SMTP check)"
    _, waited = _take_message(ctx, server, password, ctx.delivery_token)
    return f"993 TLS, login as {PROBE_UID}, test message in INBOX after {waited:.1f} s (deleted)"


def _take_message(ctx: Context, server: Server, password: str, token: str) -> tuple[bytes, float]:
    """Wait for the probe's message whose subject holds `token` (IMAPS), return it whole and delete it."""
    with _IMAPS(ctx.name("imap"), server.address, ctx.tls, ctx.timeout) as m:
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


def txt_records(server: str, name: str, timeout: float) -> list[str]:
    """The TXT records of `name` from one server, each with its strings joined (as receivers read them)."""
    return ["".join(re.findall(r'"((?:[^"\\]|\\.)*)"', answer)) for answer in dig(server, name, "TXT", timeout)]


def txt_record(server: str, name: str, timeout: float) -> bytes | None:
    """The first TXT record of `name` (what a DKIM verifier asks for its key)."""
    found = txt_records(server, name, timeout)
    return found[0].encode() if found else None


def dkim_tags(raw: bytes) -> dict[str, str]:
    """Tags of the message's first DKIM-Signature header ({} when unsigned)."""
    header = BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)["DKIM-Signature"]
    if not header:
        return {}
    tags = (t.split("=", 1) for t in re.sub(r"\s+", "", str(header)).split(";") if "=" in t)
    return {k: v for k, v in tags}


def check_dkim_signed(ctx: Context, server: Server) -> str:
    """Mail an official sends (587, logged in) leaves signed for the province's domain, and the
    signature verifies with the key published in the province zone (asked from the center)."""
    password = _need_probe(ctx)
    token = _random.token_hex(8)
    msg = EmailMessage()
    msg["From"] = ctx.probe_mail
    msg["To"] = ctx.probe_mail
    msg["Subject"] = f"provision verify DKIM {token}"
    msg.set_content("Thư kiểm tra chữ ký DKIM của `provision verify`; sẽ được xóa ngay.\n", charset="utf-8")
    with _smtp_tls(ctx, server, 587) as s:
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


def check_dns_records(ctx: Context, server: Server) -> str:
    """The province's A and MX records as answered by this server (primary or unit resolver)."""
    want = {(ctx.name(s), "A"): [ctx.center.address] for s in ("www", "portal", "mail", "ldap", "ns1")}
    want.update({(s.fqdn, "A"): [s.address] for s in ctx.servers})
    want[(ctx.domain, "MX")] = [f"10 {ctx.name('mail')}."]
    # the mail policy receivers look up: SPF, DMARC and the DKIM key (values are the roles' to choose)
    policy = {ctx.domain: "v=spf1 ", f"_dmarc.{ctx.domain}": "v=DMARC1;",
              f"{ctx.province.info.dkim_selector}._domainkey.{ctx.domain}": "v=DKIM1;"}
    wrong = []
    for (name, rtype), expected in want.items():
        got = dig(server.address, name, rtype, ctx.timeout)
        if got != expected:
            wrong.append(f"{name} {rtype}: {got or 'no answer'} (want {expected})")
    for name, prefix in policy.items():
        got = txt_records(server.address, name, ctx.timeout)
        if not any(t.startswith(prefix) for t in got):
            wrong.append(f"{name} TXT: {[t[:40] for t in got] or 'no answer'} (want {prefix.strip()}...)")
    if wrong:
        raise AssertionError("; ".join(wrong))
    return f"{len(want) + len(policy)} records (A of servers and services, MX, SPF, DMARC, DKIM) as expected"


def check_dns_serial(ctx: Context, server: Server) -> str:
    """A unit server's secondary copy of the zone is as recent as the center's."""
    center = dig(ctx.center.address, ctx.zone, "SOA", ctx.timeout)
    mine = dig(server.address, ctx.zone, "SOA", ctx.timeout)
    serial = lambda soa: soa[0].split()[2] if soa else "none"  # noqa: E731
    if serial(center) != serial(mine):
        raise AssertionError(f"zone serial {serial(mine)} differs from the center's {serial(center)}")
    return f"secondary zone serial {serial(mine)} = center"


def check_https(service: str) -> CheckFn:
    def check(ctx: Context, server: Server) -> str:
        conn = _HTTPS(ctx.name(service), server.address, ctx.tls, ctx.timeout)
        try:
            conn.request("GET", "/")
            resp = conn.getresponse()
            body = resp.read(200_000)
            version = conn.sock.version()
        finally:
            conn.close()
        if resp.status != 200:
            raise AssertionError(f"https://{ctx.name(service)}/ answered {resp.status}")
        if b"<html" not in body.lower():
            raise AssertionError("answer is not an HTML page")
        return f"200, certificate chains to the provincial CA ({version})"
    return check


def check_http_redirect(ctx: Context, server: Server) -> str:
    conn = _HTTP(ctx.name("www"), server.address, ctx.timeout)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        location = resp.getheader("Location", "")
    finally:
        conn.close()
    if resp.status not in (301, 308) or not location.startswith(f"https://{ctx.name('www')}/"):
        raise AssertionError(f"http:// answered {resp.status} {location!r}, not a redirect to https://")
    return f"{resp.status} -> {location}"


def check_ntp(ctx: Context, server: Server) -> str:
    stratum, offset = ntp_query(server.address, ctx.timeout)
    return f"stratum {stratum}, offset {offset * 1000:+.0f} ms"


# Order matters: the probe is written before the replicas are compared and before mail is tested.
CENTER_CHECKS: list[tuple[str, str, CheckFn]] = [
    ("ldap", "starttls-bind-search", check_ldap_bind),
    ("ldap", "anonymous-read-refused", check_ldap_anonymous),
    ("mail", "probe-mailbox", ensure_probe),
    ("smtp", "25-starttls-accept-local", check_smtp_deliver),
    ("smtp", "25-relay-refused", check_smtp_relay_refused),
    ("smtp", "25-spoofed-sender-refused", check_smtp_spoofed_sender_refused),
    ("submission", "587-auth-before-starttls-refused", check_submission_plain_auth_refused),
    ("submission", "587-auth-after-starttls", check_submission_auth),
    ("imap", "143-starttls-login", check_imap_starttls),
    ("imap", "993-login-message-delivered", check_imap_delivered),
    ("submission", "587-dkim-signed", check_dkim_signed),
    ("dns", "records", check_dns_records),
    ("web", "https-www", check_https("www")),
    ("web", "https-portal", check_https("portal")),
    ("web", "http-redirects-to-https", check_http_redirect),
    ("ntp", "answers", check_ntp),
]
UNIT_CHECKS: list[tuple[str, str, CheckFn]] = [
    ("ldap", "replica-contextCSN", check_replica_csn),
    ("dns", "records", check_dns_records),
    ("dns", "secondary-serial", check_dns_serial),
    ("ntp", "answers", check_ntp),
]


def _run_check(ctx: Context, server: Server, service: str, name: str, fn: CheckFn) -> Check:
    try:
        return Check(server.name, server.unit, service, name, True, fn(ctx, server))
    except AssertionError as e:
        return Check(server.name, server.unit, service, name, False, str(e))
    except Exception as e:  # a service down or misconfigured is a failed check, not a crash
        detail = str(e) or type(e).__name__
        return Check(server.name, server.unit, service, name, False, f"{type(e).__name__}: {detail}"[:400])


def verify(inventory: str | Path, limit: str | None = None, timeout: float = 5.0,
           on_check: Callable[[Check], None] | None = None) -> VerifyRun:
    """Run every check on the selected servers and save the run. Raises InventoryError/BadInput on bad
    input, OperationFailed when the province was never deployed (no secrets, no CA)."""
    province = load_province(inventory)
    try:
        selected = {h.name for h in province.select(limit) if _is_server(h)}
    except KeyError as e:
        raise BadInput(str(e.args[0])) from None
    if not selected:
        raise BadInput(f"--limit {limit!r} selects no server (verify checks center_servers and unit_servers)")
    center_host = next(h for h in province.hosts.values() if _is_server(h) and "center_servers" in h.groups)
    service_secrets = secrets.load_secrets(inventory)  # a never-deployed province stops here, offline
    run = VerifyRun(inventory=str(inventory), started=_now())
    ca_pem, ca_problem = provincial_ca(inventory, center_host, timeout)
    if ca_problem:
        run.checks.append(Check(center_host.name, center_host.unit, "pki", "ca-from-center", False, ca_problem))
        if on_check:
            on_check(run.checks[-1])
    ctx = Context(province, ca_pem, service_secrets, timeout)
    plan = [(ctx.center, CENTER_CHECKS)] if ctx.center.name in selected else []
    plan += [(s, UNIT_CHECKS) for s in ctx.servers if not s.center and s.name in selected]
    for server, checks in plan:
        for service, name, fn in checks:
            result = _run_check(ctx, server, service, name, fn)
            run.checks.append(result)
            if on_check:
                on_check(result)
    run.finished = _now()
    out = paths.data_dir(inventory, "verify") / f"{paths.run_stamp()}.json"
    out.write_text(json.dumps(run.document(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    run.saved = str(out)
    return run


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")

# Checks of the unit services and operations (issue 6: file share, proxy, webmail, backups).
from . import verify_ops  # noqa: E402,F401  (it appends its checks to the two lists above)
