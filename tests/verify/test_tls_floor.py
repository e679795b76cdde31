"""verify's TLS floor probe against real TLS servers on loopback (`openssl s_server`): a server that
holds the floor passes; one that accepts TLS 1.0, one that serves a CBC-only client and one that
accepts a client-initiated renegotiation each fail with that reason."""
from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from provisioning.verify.checks import tls
from provisioning.verify.context import Server

NAME = "srv.tinh.test"
STRICT = ["-no_tls1", "-no_tls1_1", "-no_renegotiation",
          "-cipher", "ECDHE+AESGCM:ECDHE+CHACHA20", "-serverpref"]


@dataclass
class Ctx:
    """What the probe reads of verify's Context: the provincial CA and the timeout."""
    ca_pem: str
    timeout: float = 5.0

    def name(self, service: str) -> str:
        return f"{service}.tinh.test"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tlsfloor")
    run = lambda *a: subprocess.run(a, cwd=d, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=test CA", "-addext", "basicConstraints=critical,CA:TRUE")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
        "-subj", f"/CN={NAME}", "-addext", f"subjectAltName=DNS:{NAME}")
    (d / "ext.cnf").write_text(f"subjectAltName=DNS:{NAME}\nbasicConstraints=CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "ext.cnf", "-out", "srv.crt")
    return d


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(pki: Path, *options: str):
    port = free_port()
    proc = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", pki / "srv.crt",
                             "-key", pki / "srv.key", "-naccept", "20", "-quiet", *options],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


def probe(pki: Path, *options: str) -> str:
    proc, port = serve(pki, *options)
    try:
        ctx = Ctx((pki / "ca.crt").read_text())
        srv = Server("srv", "u", "127.0.0.1", NAME, False)
        return tls.floor(ctx, srv, tls.Listener("test", port))
    finally:
        proc.kill()
        proc.wait()


def test_a_server_holding_the_floor_passes(pki):
    assert "renegotiation refused" in probe(pki, *STRICT)


def test_tls13_only_passes(pki):
    assert "TLSv1.3 only" in probe(pki, "-tls1_3")


def test_tls10_accepted_fails(pki):
    with pytest.raises(AssertionError, match="TLS 1.0 handshake accepted"):
        probe(pki, "-cipher", "DEFAULT:@SECLEVEL=0", "-no_renegotiation")


def test_cbc_only_client_served_fails(pki):
    with pytest.raises(AssertionError, match="only CBC suites was served"):
        probe(pki, "-no_tls1", "-no_tls1_1", "-no_renegotiation")


def test_renegotiation_accepted_fails(pki):
    with pytest.raises(AssertionError, match="renegotiation accepted"):
        probe(pki, *STRICT[:2], *STRICT[3:], "-client_renegotiation")


def test_a_wrong_name_or_ca_fails(pki, tmp_path):
    proc, port = serve(pki, *STRICT)
    try:
        ctx = Ctx((pki / "ca.crt").read_text())
        with pytest.raises(AssertionError, match="no verified TLS handshake"):
            tls.floor(ctx, Server("srv", "u", "127.0.0.1", "other.tinh.test", False), tls.Listener("t", port))
    finally:
        proc.kill()
        proc.wait()
