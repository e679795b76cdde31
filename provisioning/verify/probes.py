"""The clients verify talks to the services with, as a user's program would: SMTP, IMAP, HTTP(S), LDAP,
DNS (dig), NTP (SNTP), SMB (smbclient) and an HTTP proxy.

Connections go to the inventory's addresses, never through the system resolver: the province's names
(mail.<zone>, ...) are only used for TLS name checks, so no query for them ever leaves for the Internet.
Every TLS connection is verified against the provincial CA and the service name.
"""
from __future__ import annotations

import base64
import email.policy
import http.client
import imaplib
import os
import re
import smtplib
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from email.parser import BytesParser
from typing import Iterator

import ldap3

from .context import Context, Server


class SMTP(smtplib.SMTP):
    """SMTP to an address, with TLS checked against the service name (no resolver involved)."""

    def __init__(self, name: str, address: str, port: int, timeout: float):
        self._address = address
        super().__init__(name, port, local_hostname="verify.invalid", timeout=timeout)

    def _get_socket(self, host, port, timeout):
        return socket.create_connection((self._address, port), timeout)


@contextmanager
def smtp_tls(ctx: Context, server: Server, port: int) -> Iterator[SMTP]:
    """An SMTP session after a verified STARTTLS: port 25 as mail.<zone> (MX), 587 as smtp.<zone>."""
    with SMTP(ctx.name("mail" if port == 25 else "smtp"), server.address, port, ctx.timeout) as s:
        s.ehlo()
        if not s.has_extn("starttls"):
            raise AssertionError(f"port {port} does not offer STARTTLS")
        s.starttls(context=ctx.tls)
        s.ehlo()
        yield s


class IMAP(imaplib.IMAP4):
    def __init__(self, name: str, address: str, port: int, timeout: float):
        self._address = address
        super().__init__(name, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self._address, self.port), timeout)


class IMAPS(imaplib.IMAP4_SSL):
    def __init__(self, name: str, address: str, ctx: ssl.SSLContext, timeout: float):
        self._address = address
        super().__init__(name, 993, ssl_context=ctx, timeout=timeout)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self._address, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class HTTPS(http.client.HTTPSConnection):
    def __init__(self, name: str, address: str, ctx: ssl.SSLContext, timeout: float):
        self._address = address
        super().__init__(name, 443, context=ctx, timeout=timeout)

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class HTTP(http.client.HTTPConnection):
    def __init__(self, name: str, address: str, timeout: float):
        self._address = address
        super().__init__(name, 80, timeout=timeout)

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def ldap(ctx: Context, server: Server, user: str | None, password: str | None):
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


def svc_dn(ctx: Context, name: str) -> str:
    return f"cn={name},ou=Services,{ctx.base_dn}"


def dig(server: str, name: str, rtype: str, timeout: float) -> list[str]:
    """Answers of one query (`dig +short`), sorted."""
    r = subprocess.run(["dig", "+short", f"+time={max(1, int(timeout))}", "+tries=2", f"@{server}", name, rtype],
                       capture_output=True, text=True, timeout=timeout * 3 + 5)
    if r.returncode != 0:
        raise OSError(f"dig @{server} {name} {rtype}: {(r.stdout + r.stderr).strip()[:200]}")
    return sorted(line.strip() for line in r.stdout.splitlines() if line.strip() and not line.startswith(";"))


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


def smbclient(address: str, share: str, user: str, password: str, command: str,
              timeout: float) -> subprocess.CompletedProcess:
    """Real smbclient, SMB3 with signing; the password goes through a 0600 file, never argv."""
    with tempfile.TemporaryDirectory() as tmp:
        auth = os.path.join(tmp, "auth")
        fd = os.open(auth, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"username = {user}\npassword = {password}\n")
        return subprocess.run(["smbclient", f"//{address}/{share}", "-A", auth, "-m", "SMB3",
                               "--option=client signing=required", "--option=client min protocol=SMB2_10",
                               "-c", command], capture_output=True, text=True, timeout=timeout * 6, cwd=tmp)


def proxy_get(proxy: str, port: int, url: str, timeout: float, credentials: tuple[str, str] | None = None) -> int:
    """Status of a GET of `url` through the HTTP proxy at `proxy` (address) and `port`."""
    conn = http.client.HTTPConnection(proxy, port, timeout=timeout * 4)
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


class Browser:
    """Just enough of a browser for Roundcube: one HTTPS host (mail.<zone>), cookies kept."""

    def __init__(self, ctx: Context, server: Server):
        self.ctx, self.server, self.cookies = ctx, server, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        conn = HTTPS(self.ctx.name("mail"), self.server.address, self.ctx.tls, self.ctx.timeout * 2)
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
