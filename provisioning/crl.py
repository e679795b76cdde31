"""The provincial CA's certificate revocation list (CRL) as a client reads it, with the `openssl` command:
its dates and revoked serials, whether the CA's certificate verifies its signature; and the serial
and CRL location of a certificate a server presents.

The CA (the pki role's `provision-ca` on the center) publishes the CRL in DER at
`http://pki.<zone>/provision-ca.crl`; `provision verify` and `provision pki status` read it here.

API:
    parse(data, ca_pem) -> Crl                 DER or PEM bytes; OperationFailed when it is not a CRL
    fetch(address, name, path, timeout, port=80) -> bytes   GET over plain HTTP from an address, Host: name
    certificate_info(pem) -> CertInfo          serial, not-after, CRL distribution points
    served_certificate(address, port, name, starttls, timeout) -> str   the PEM a listener presents
"""
from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field

from .errors import OperationFailed

OPENSSL = "openssl"
DEFAULT_PATH = "/provision-ca.crl"
_DATE = "%b %d %H:%M:%S %Y %Z"


@dataclass(frozen=True)
class Crl:
    this_update: dt.datetime
    next_update: dt.datetime | None
    number: str
    revoked: frozenset[str] = field(default_factory=frozenset)   # serials, upper-case hex
    signed_by_ca: bool = False
    problem: str = ""        # why the signature does not verify (empty when it does)

    def days_left(self, now: dt.datetime | None = None) -> float | None:
        if self.next_update is None:
            return None
        now = now or dt.datetime.now(dt.timezone.utc)
        return (self.next_update - now).total_seconds() / 86400


@dataclass(frozen=True)
class CertInfo:
    serial: str
    not_after: dt.datetime
    crl_urls: tuple[str, ...]
    subject: str


def _run(argv: list[str], data: bytes, timeout: float = 30.0) -> subprocess.CompletedProcess:
    return subprocess.run(argv, input=data, capture_output=True, timeout=timeout)


def _date(text: str) -> dt.datetime:
    return dt.datetime.strptime(" ".join(text.split()), _DATE).replace(tzinfo=dt.timezone.utc)


def parse(data: bytes, ca_pem: str) -> Crl:
    """Read a CRL (DER or PEM) and check its signature against the CA certificate `ca_pem`."""
    form = "PEM" if data.lstrip().startswith(b"-----BEGIN") else "DER"
    r = _run([OPENSSL, "crl", "-inform", form, "-noout", "-text"], data)
    if r.returncode != 0:
        raise OperationFailed(f"not a CRL ({form}): {r.stderr.decode(errors='replace').strip()[-200:]}")
    text = r.stdout.decode("utf-8", errors="replace")
    last = re.search(r"Last Update: (.+)", text)
    nxt = re.search(r"Next Update: (.+)", text)
    number = re.search(r"X509v3 CRL Number:\s*\n\s*([0-9A-Fa-f]+)", text)
    if not last:
        raise OperationFailed("the CRL has no Last Update")
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as ca:
        ca.write(ca_pem)
    try:
        v = _run([OPENSSL, "crl", "-inform", form, "-noout", "-CAfile", ca.name], data)
    finally:
        os.unlink(ca.name)
    said = (v.stdout + v.stderr).decode("utf-8", errors="replace").strip()
    signed = v.returncode == 0 and "verify OK" in said
    return Crl(this_update=_date(last.group(1)),
               next_update=_date(nxt.group(1)) if nxt and "NONE" not in nxt.group(1) else None,
               number=number.group(1) if number else "",
               revoked=frozenset(s.upper() for s in re.findall(r"Serial Number: ([0-9A-Fa-f]+)", text)),
               signed_by_ca=signed, problem="" if signed else (said.splitlines() or ["no answer"])[-1][:200])


def fetch(address: str, name: str, path: str = DEFAULT_PATH, timeout: float = 10.0, port: int = 80) -> bytes:
    """GET http://<name><path> from `address` (no resolver involved); OperationFailed unless 200."""
    conn = http.client.HTTPConnection(name, port, timeout=timeout)
    try:
        conn.sock = socket.create_connection((address, port), timeout)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read(10_000_000)
    except OSError as e:
        raise OperationFailed(f"http://{name}{path} ({address}): {type(e).__name__}: {e}") from None
    finally:
        conn.close()
    if resp.status != 200:
        raise OperationFailed(f"http://{name}{path} ({address}): HTTP {resp.status}")
    return body


def certificate_info(pem: str) -> CertInfo:
    r = _run([OPENSSL, "x509", "-noout", "-serial", "-enddate", "-subject", "-ext", "crlDistributionPoints"],
             pem.encode("ascii", errors="replace"))
    if r.returncode != 0 and b"serial=" not in r.stdout:
        raise OperationFailed(f"not a certificate: {r.stderr.decode(errors='replace').strip()[-200:]}")
    text = r.stdout.decode("utf-8", errors="replace")
    serial = re.search(r"serial=([0-9A-Fa-f]+)", text)
    end = re.search(r"notAfter=(.+)", text)
    subject = re.search(r"subject=(.+)", text)
    if not serial or not end:
        raise OperationFailed("certificate without serial or expiry")
    return CertInfo(serial.group(1).upper(), _date(end.group(1)),
                    tuple(re.findall(r"URI:(\S+)", text)), subject.group(1).strip() if subject else "")


def served_certificate(address: str, port: int, name: str, starttls: str = "", timeout: float = 5.0) -> str:
    """The certificate a TLS listener presents (PEM), read with `openssl s_client` (STARTTLS for smtp,
    imap, ldap). The chain is not judged here: the tls checks do that."""
    argv = [OPENSSL, "s_client", "-connect", f"{address}:{port}", "-servername", name]
    if starttls:
        argv += ["-starttls", starttls]
    try:
        r = _run(argv, b"", timeout=timeout * 3)
    except subprocess.TimeoutExpired:
        raise OperationFailed(f"{address}:{port}: no TLS answer in {timeout * 3:.0f} s") from None
    out = r.stdout.decode("utf-8", errors="replace")
    m = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", out, re.S)
    if not m:
        last = [ln for ln in (out + r.stderr.decode(errors="replace")).splitlines() if ln.strip()]
        raise OperationFailed(f"{address}:{port}: no certificate presented ({(last or ['no answer'])[-1][:160]})")
    return m.group(0) + "\n"
