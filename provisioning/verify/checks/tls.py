"""TLS floors of every listener, probed from outside as a scanner would (`openssl s_client`, with
STARTTLS for SMTP, IMAP and LDAP): a TLS 1.2 handshake verified against the provincial CA and the
service name works; TLS 1.0 and 1.1 handshakes fail even with every legacy suite offered
(`@SECLEVEL=0`: the client's own floor would otherwise hide a server that accepts them); a TLS 1.2
client offering only CBC suites is refused; a client-initiated renegotiation is refused.

The listeners: the center's directory (389 StartTLS, 636), mail (25, 587, 143, 993), web (443, portal
and webmail names) and package mirror (its port from the role's facts); a unit server's directory
replica and, when the proxy role published one, its TLS proxy port. And HTTPS answers are not
compressed (BREACH)."""
from __future__ import annotations

import os
import select
import subprocess
import tempfile
import time
from dataclasses import dataclass

from ..context import CheckFn, Context, Server
from ..probes import HTTPS

OPENSSL = "openssl"
LEGACY = "DEFAULT:@SECLEVEL=0"
# TLS 1.2 suites with a SHA1/SHA256/SHA384 MAC are exactly the CBC ones (AEAD suites have none).
CBC_ONLY = "SHA1:SHA256:SHA384:!aNULL:!eNULL:@SECLEVEL=0"


@dataclass(frozen=True)
class Listener:
    label: str          # check name: tls-floor-<label>
    port: int
    starttls: str = ""  # openssl s_client -starttls protocol (smtp, imap, ldap), "" for TLS from the start
    service: str = ""   # service name in the zone for SNI and the name check ("" = the server's FQDN)


def _name(ctx: Context, server: Server, listener: Listener) -> str:
    return ctx.name(listener.service) if listener.service else server.fqdn


def _s_client(ctx: Context, server: Server, listener: Listener, *options: str,
              stdin: bytes = b"") -> tuple[bool, str]:
    """One handshake (then stdin, then EOF): (established, openssl's output)."""
    name = _name(ctx, server, listener)
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as ca:
        ca.write(ctx.ca_pem)
    argv = [OPENSSL, "s_client", "-connect", f"{server.address}:{listener.port}", "-servername", name,
            "-CAfile", ca.name, "-verify_return_error", "-verify_hostname", name, *options]
    if listener.starttls:
        argv += ["-starttls", listener.starttls]
    try:
        proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=ctx.timeout * 3)
    except subprocess.TimeoutExpired:
        return False, "timeout"
    finally:
        os.unlink(ca.name)
    out = (proc.stdout + proc.stderr).decode("utf-8", errors="replace")
    established = proc.returncode == 0 and "Cipher is (NONE)" not in out and "New, " in out
    return established, out


def _protocol(out: str) -> str:
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Protocol") and ":" in line:
            return line.split(":", 1)[1].strip()
        if line.startswith("New, "):
            return line.split(",")[1].strip()
    return "?"


def _renegotiation_accepted(ctx: Context, server: Server, listener: Listener) -> bool:
    """Ask for a renegotiation (`R` in s_client) inside a TLS 1.2 session: True when the server
    answered with a new handshake (a ServerHello after RENEGOTIATING in the -msg trace), False when it
    refused (an alert, the connection closed) or stayed silent."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as ca:
        ca.write(ctx.ca_pem)
    argv = [OPENSSL, "s_client", "-connect", f"{server.address}:{listener.port}",
            "-servername", _name(ctx, server, listener), "-CAfile", ca.name, "-tls1_2", "-msg"]
    if listener.starttls:
        argv += ["-starttls", listener.starttls]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out = _read_until(proc, lambda got: b"Verify return code" in got, ctx.timeout * 2)
        if b"New, TLSv1.2" not in out:
            raise AssertionError(f"port {listener.port}: no TLS 1.2 session to renegotiate: {_last(out)}")
        proc.stdin.write(b"R\n")
        proc.stdin.flush()
        out = _read_until(proc, lambda got: b"ServerHello" in got or b"Alert" in got, ctx.timeout * 2)
    finally:
        proc.kill()
        proc.wait()
        os.unlink(ca.name)
    return b"ServerHello" in out


def _read_until(proc: subprocess.Popen, done, timeout: float) -> bytes:
    """openssl's output until done(output) holds, openssl exits or the timeout passes."""
    got = b""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline and not done(got):
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            got += chunk
    return got


def _last(out: bytes) -> str:
    lines = [ln for ln in out.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    return (lines[-1] if lines else "no answer")[:200]


def check_floor(listener: Listener) -> CheckFn:
    def check(ctx: Context, server: Server) -> str:
        return floor(ctx, server, listener)
    return check


def floor(ctx: Context, server: Server, listener: Listener) -> str:
    where = f"port {listener.port}" + (f" (STARTTLS {listener.starttls})" if listener.starttls else "")
    ok, out = _s_client(ctx, server, listener)
    if not ok:
        raise AssertionError(f"{where}: no verified TLS handshake: {_last(out.encode())}")
    best = _protocol(out)
    for flag, version in (("-tls1", "TLS 1.0"), ("-tls1_1", "TLS 1.1")):
        accepted, out = _s_client(ctx, server, listener, flag, "-cipher", LEGACY)
        if accepted:
            raise AssertionError(f"{where}: {version} handshake accepted ({_protocol(out)})")
    accepted, out = _s_client(ctx, server, listener, "-tls1_2", "-cipher", CBC_ONLY)
    if accepted:
        raise AssertionError(f"{where}: a client offering only CBC suites was served ({_cipher(out)})")
    tls12, _ = _s_client(ctx, server, listener, "-tls1_2")
    if not tls12:
        return f"{where}: {best} only (TLS 1.2 and older refused)"
    if _renegotiation_accepted(ctx, server, listener):
        raise AssertionError(f"{where}: client-initiated renegotiation accepted")
    return f"{where}: {best}, TLS 1.2 without CBC suites, TLS 1.0/1.1 and renegotiation refused"


def _cipher(out: str) -> str:
    for line in out.splitlines():
        if "Cipher is" in line:
            return line.split("Cipher is", 1)[1].strip()
    return "?"


CENTER_LISTENERS = (
    Listener("ldap-389", 389, "ldap", "ldap"),
    Listener("ldaps-636", 636, "", "ldap"),
    Listener("smtp-25", 25, "smtp", "mail"),
    Listener("submission-587", 587, "smtp", "smtp"),
    Listener("imap-143", 143, "imap", "mail"),
    Listener("imaps-993", 993, "", "mail"),
    Listener("https-443", 443, "", "www"),
    Listener("webmail-443", 443, "", "mail"),
)
UNIT_LISTENERS = (
    Listener("ldap-389", 389, "ldap"),
    Listener("ldaps-636", 636),
)


def check_mirror(ctx: Context, server: Server) -> str:
    port = int(ctx.fact(server, "package_mirror", "port"))
    return floor(ctx, server, Listener("mirror", port))


def check_proxy(ctx: Context, server: Server) -> str:
    port = ctx.fact(server, "proxy", "tls_port")
    return floor(ctx, server, Listener("proxy", int(port)))  # the proxy is named by the server's FQDN


def check_not_compressed(service: str) -> CheckFn:
    """HTTPS answers are never compressed (BREACH), even for a client that asks for it."""
    def check(ctx: Context, server: Server) -> str:
        conn = HTTPS(ctx.name(service), server.address, ctx.tls, ctx.timeout)
        try:
            conn.request("GET", "/", headers={"Accept-Encoding": "gzip, deflate, br"})
            resp = conn.getresponse()
            resp.read(200_000)
        finally:
            conn.close()
        encoding = resp.getheader("Content-Encoding", "")
        if encoding and encoding.lower() != "identity":
            raise AssertionError(f"https://{ctx.name(service)}/ answered with Content-Encoding: {encoding}")
        return f"https://{ctx.name(service)}/: {resp.status}, not compressed"
    return check


CENTER_CHECKS = (
    *(("tls", f"floor-{item.label}", check_floor(item)) for item in CENTER_LISTENERS),
    ("tls", "floor-mirror", check_mirror),
    ("tls", "https-not-compressed-www", check_not_compressed("www")),
    ("tls", "https-not-compressed-webmail", check_not_compressed("mail")),
)
UNIT_CHECKS = (
    *(("tls", f"floor-{item.label}", check_floor(item)) for item in UNIT_LISTENERS),
    ("tls", "floor-proxy", check_proxy),
)
