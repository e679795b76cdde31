"""The provincial CA's database and CRL (roles/pki/files/provision-ca, the script the pki role installs on
the center), run here with the real `openssl` on a CA made in a temporary directory as the role makes it;
the CRL as clients read it (provisioning/crl.py), a listener's certificate read from a real
`openssl s_server`; verify's CRL check against a CRL served over HTTP on loopback."""
from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from provisioning import crl
from provisioning.errors import OperationFailed
from provisioning.model import load_province
from provisioning.pki.ops import certificates
from provisioning.verify.checks import pki as pki_check
from tests.conftest import EXAMPLE, ROOT

SCRIPT = ROOT / "roles" / "pki" / "files" / "provision-ca"
PASS = "mật-khẩu-CA-thử"
ZONE = "bentre.gov.vn"
URL = f"http://pki.{ZONE}/provision-ca.crl"


def sh(*argv: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, (argv, r.stderr)
    return r


def make_ca(d: Path, subject: str = "/O=Tỉnh Bến Tre/CN=Bến Tre - CA nội bộ") -> None:
    """The CA as roles/pki/tasks/ca.yml makes it: an AES-256 key under the passphrase, a CA certificate."""
    d.mkdir(parents=True, exist_ok=True)
    sh("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes-256-cbc",
       "-pass", "stdin", "-out", str(d / "ca.key"), stdin=PASS)
    sh("openssl", "req", "-x509", "-new", "-utf8", "-sha256", "-days", "3650", "-key", str(d / "ca.key"),
       "-passin", "stdin", "-subj", subject, "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", str(d / "ca.crt"), stdin=PASS)


@dataclass
class Ca:
    dir: Path
    publish: Path
    config: Path

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(SCRIPT), *args], input=stdin, capture_output=True, text=True,
                              env={**os.environ, "PROVISION_CA_CONFIG": str(self.config)}, timeout=60)

    def ok(self, *args: str, stdin: str = "") -> dict:
        r = self.run(*args, stdin=stdin)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def issue(self, tmp: Path, cn: str, days: int = 825) -> tuple[str, Path]:
        """A server's key and request made as certificate.yml makes them, signed by the CA tool."""
        key = tmp / f"{cn}.{time.monotonic_ns()}.key"
        sh("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key))
        csr = sh("openssl", "req", "-new", "-key", str(key), "-subj", f"/CN={cn}",
                 "-addext", f"subjectAltName=DNS:{cn}").stdout
        r = self.run("issue", "--days", str(days), stdin=f"{PASS}\n{csr}")
        assert r.returncode == 0 and "BEGIN CERTIFICATE" in r.stdout, r.stderr
        return r.stdout, key

    @property
    def ca_pem(self) -> str:
        return (self.dir / "ca.crt").read_text()

    def published(self) -> crl.Crl:
        return crl.parse((self.publish / "provision-ca.crl").read_bytes(), self.ca_pem)


def settings(ca: Path, publish: Path, **over) -> dict:
    return {"dir": str(ca), "publish_dir": str(publish), "crl_name": "provision-ca.crl", "crl_url": URL,
            "crl_days": 30, "crl_renew_days": 10, **over}


@pytest.fixture
def ca(tmp_path) -> Ca:
    d, publish = tmp_path / "provision-ca", tmp_path / "www-pki"
    make_ca(d)
    (d / "ca.json").write_text(json.dumps(settings(d, publish)))
    c = Ca(d, publish, d / "ca.json")
    assert c.ok("init") == {"changed": True}
    assert c.ok("init") == {"changed": False}
    return c


def test_issued_certificate_names_the_crl_keeps_its_names_and_is_recorded(ca, tmp_path):
    pem, key = ca.issue(tmp_path, f"u1.{ZONE}")
    info = crl.certificate_info(pem)
    assert info.crl_urls == (URL,)
    text = sh("openssl", "x509", "-noout", "-ext", "subjectAltName,extendedKeyUsage,basicConstraints",
              stdin=pem).stdout
    assert f"DNS:u1.{ZONE}" in text and "TLS Web Server Authentication" in text and "CA:FALSE" in text
    sh("openssl", "verify", "-CAfile", str(ca.dir / "ca.crt"), stdin=pem)
    status = ca.ok("status")
    assert [(c["serial"], c["cn"], c["state"]) for c in status["certificates"]] == [(info.serial, f"u1.{ZONE}", "valid")]
    assert (ca.dir / "issued" / f"{info.serial}.pem").is_file()
    assert status["crl_state"] == "missing" and status["crl"] is None


def test_crl_is_signed_when_due_only_and_published_in_der(ca):
    first = ca.ok("crl", "--if-due", stdin=PASS + "\n")
    assert first["changed"] and first["state"] == "missing"
    again = ca.ok("crl", "--if-due", stdin="")       # not due: no passphrase needed, nothing signed
    assert not again["changed"] and again["state"] == "ok"
    assert (ca.publish / "provision-ca.crt").read_text() == ca.ca_pem
    der = (ca.publish / "provision-ca.crl").read_bytes()
    assert not der.startswith(b"-----")              # DER, as HTTP clients expect it
    found = ca.published()
    assert found.signed_by_ca and found.revoked == frozenset()
    assert 29 < found.days_left() <= 30


def test_revoke_lists_every_valid_certificate_of_the_name_and_openssl_refuses_them(ca, tmp_path):
    old, _ = ca.issue(tmp_path, f"u1.{ZONE}")
    new, _ = ca.issue(tmp_path, f"u1.{ZONE}")
    other, _ = ca.issue(tmp_path, f"u2.{ZONE}")
    ca.ok("crl", stdin=PASS + "\n")
    serials = [crl.certificate_info(p).serial for p in (old, new, other)]
    done = ca.ok("revoke", "--cn", f"u1.{ZONE}", "--reason", "keyCompromise", stdin=PASS + "\n")
    assert sorted(done["revoked"]) == sorted(serials[:2])
    found = ca.published()
    assert found.signed_by_ca and found.revoked == frozenset(serials[:2])
    states = {c["serial"]: (c["state"], c["reason"]) for c in ca.ok("status")["certificates"]}
    assert states == {serials[0]: ("revoked", "keyCompromise"), serials[1]: ("revoked", "keyCompromise"),
                      serials[2]: ("valid", "")}
    # what the pki role's certificate check asks openssl on each server
    crl_pem = ca.dir / "crl.pem"
    for pem, revoked in ((new, True), (other, False)):
        r = sh("openssl", "verify", "-crl_check", "-CAfile", str(ca.dir / "ca.crt"), "-CRLfile", str(crl_pem),
               stdin=pem, check=False)
        assert ("certificate revoked" in r.stdout + r.stderr) is revoked, r.stdout + r.stderr
    # nothing valid is left for that name: a second revoke changes nothing
    assert ca.ok("revoke", "--cn", f"u1.{ZONE}", stdin=PASS + "\n")["revoked"] == []


def test_a_wrong_passphrase_changes_nothing(ca, tmp_path):
    ca.issue(tmp_path, f"u1.{ZONE}")
    ca.ok("crl", stdin=PASS + "\n")
    before = {p.name: p.read_bytes() for p in ca.dir.iterdir() if p.is_file() and p.name != ".lock"}
    crl_before = (ca.publish / "provision-ca.crl").read_bytes()
    r = ca.run("revoke", "--cn", f"u1.{ZONE}", stdin="not-the-passphrase\n")
    assert r.returncode == 1 and "openssl" in r.stderr
    assert {p.name: p.read_bytes() for p in ca.dir.iterdir() if p.is_file() and p.name != ".lock"} == before
    assert (ca.publish / "provision-ca.crl").read_bytes() == crl_before
    r = ca.run("crl", stdin="")
    assert r.returncode == 1 and "passphrase" in r.stderr


def test_bad_arguments_exit_2(ca):
    assert ca.run("revoke", "--cn", f"u1.{ZONE}", "--reason", "stolen", stdin=PASS + "\n").returncode == 2
    assert ca.run("issue", stdin=PASS + "\n").returncode == 2


def test_a_crl_close_to_its_next_update_or_missing_a_revocation_is_due(tmp_path):
    d, publish = tmp_path / "ca", tmp_path / "pub"
    make_ca(d)
    (d / "ca.json").write_text(json.dumps(settings(d, publish, crl_days=5, crl_renew_days=10)))
    c = Ca(d, publish, d / "ca.json")
    c.ok("init")
    c.ok("crl", stdin=PASS + "\n")
    assert c.ok("status")["crl_state"] == "due"
    assert c.ok("crl", "--if-due", stdin=PASS + "\n")["changed"]
    # a revocation recorded in the database but not yet in the CRL (e.g. signing failed half-way)
    (d / "ca.json").write_text(json.dumps(settings(d, publish)))
    pem, _ = c.issue(tmp_path, f"u1.{ZONE}")
    c.ok("crl", stdin=PASS + "\n")
    serial = crl.certificate_info(pem).serial
    sh("openssl", "ca", "-config", "/dev/stdin", "-revoke", str(d / "issued" / f"{serial}.pem"), "-passin",
       f"pass:{PASS}", stdin=f"[ca]\ndefault_ca=x\n[x]\ndir={d}\ndatabase=$dir/index.txt\ncertificate=$dir/ca.crt\n"
                             f"private_key=$dir/ca.key\ndefault_md=sha256\n")
    assert c.ok("status")["crl_state"] == "changed"
    assert c.ok("crl", "--if-due", stdin=PASS + "\n")["state"] == "changed"
    assert serial in c.published().revoked


def test_a_crl_from_another_ca_does_not_verify(ca, tmp_path):
    ca.ok("crl", stdin=PASS + "\n")
    make_ca(tmp_path / "other", "/CN=Another CA")
    found = crl.parse((ca.publish / "provision-ca.crl").read_bytes(), (tmp_path / "other" / "ca.crt").read_text())
    assert not found.signed_by_ca and found.problem
    with pytest.raises(OperationFailed, match="not a CRL"):
        crl.parse(b"\x30\x03garbage", ca.ca_pem)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_served_certificate_is_read_from_a_real_listener(ca, tmp_path):
    pem, key = ca.issue(tmp_path, f"u1.{ZONE}")
    (tmp_path / "srv.crt").write_text(pem)
    port = _free_port()
    server = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert",
                               str(tmp_path / "srv.crt"), "-key", str(key), "-quiet"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):        # wait until it listens (not a timed assertion: a readiness poll)
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        got = crl.served_certificate("127.0.0.1", port, f"u1.{ZONE}", timeout=5)
    finally:
        server.kill()
        server.wait()
    assert crl.certificate_info(got).serial == crl.certificate_info(pem).serial
    with pytest.raises(OperationFailed, match="no certificate"):
        crl.served_certificate("127.0.0.1", _free_port(), "nothing", timeout=2)


def test_ca_database_rows_are_named_by_server_and_the_last_one_is_current():
    province = load_province(EXAMPLE)
    a, b = province.servers()[:2]
    rows = [{"serial": "01", "cn": province.fqdn(a), "state": "revoked", "expires": "x"},
            {"serial": "02", "cn": province.fqdn(a), "state": "valid", "expires": "x"},
            {"serial": "03", "cn": province.fqdn(b), "state": "valid", "expires": "x"},
            {"serial": "04", "cn": "gone.example", "state": "valid", "expires": "x"}]
    got = certificates(province, rows)
    assert [(c.serial, c.host, c.current) for c in got] == [("01", a.name, False), ("02", a.name, True),
                                                           ("03", b.name, True), ("04", "", True)]


# --- verify's CRL check, against a CRL served over HTTP on loopback -----------------------------------

@dataclass
class FakeServer:
    name: str
    address: str
    center: bool = True
    unit: str = "tthdl"
    fqdn: str = ""


class FakeContext:
    """The part of verify's Context the CRL check reads: the center, the pki role's crl_url, the CA."""

    def __init__(self, url: str, ca_pem: str):
        self.center = FakeServer("center", "127.0.0.1")
        self.url, self.ca_pem, self.timeout = url, ca_pem, 5.0

    def fact(self, srv, role, key):
        assert (role, key) == ("pki", "crl_url")
        return self.url


@pytest.fixture
def http_dir(tmp_path):
    root = tmp_path / "served"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, httpd.server_address[1]
    httpd.shutdown()


def _gencrl(ca: Ca, out: Path, *dates: str) -> None:
    cnf = (f"[ca]\ndefault_ca=x\n[x]\ndir={ca.dir}\ndatabase=$dir/index.txt\ncertificate=$dir/ca.crt\n"
           f"private_key=$dir/ca.key\ncrlnumber=$dir/crlnumber\ndefault_md=sha256\n")
    (ca.dir / "test.cnf").write_text(cnf)
    sh("openssl", "ca", "-config", str(ca.dir / "test.cnf"), "-gencrl", "-passin", f"pass:{PASS}",
       "-out", str(out) + ".pem", *dates)
    sh("openssl", "crl", "-in", str(out) + ".pem", "-outform", "DER", "-out", str(out))


def _stamp(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.timezone.utc) + delta).strftime("%Y%m%d%H%M%SZ")


def test_verify_crl_check_passes_warns_and_fails_on_the_next_update(ca, http_dir):
    root, port = http_dir
    url = f"http://pki.{ZONE}:{port}/provision-ca.crl"
    cases = [(dt.timedelta(days=30), True, ""), (dt.timedelta(days=5), True, "warning"),
             (dt.timedelta(hours=20), False, "provision pki crl"), (-dt.timedelta(hours=1), False, "expired")]
    for ahead, ok, said in cases:
        _gencrl(ca, root / "provision-ca.crl", "-crl_lastupdate", _stamp(-dt.timedelta(days=2)),
                "-crl_nextupdate", _stamp(ahead))
        ctx = FakeContext(url, ca.ca_pem)
        if ok:
            detail = pki_check.check_crl(ctx, ctx.center)
            assert said in detail and "signed by the provincial CA" in detail
        else:
            with pytest.raises(AssertionError, match=said):
                pki_check.check_crl(ctx, ctx.center)
    # signed by another CA: refused whatever its dates
    other = ca.dir.parent / "other"
    make_ca(other, "/CN=Another CA")
    ctx = FakeContext(url, (other / "ca.crt").read_text())
    with pytest.raises(AssertionError, match="not signed by the provincial CA"):
        pki_check.check_crl(ctx, ctx.center)
    ctx = FakeContext(f"http://pki.{ZONE}:{port}/nothing.crl", ca.ca_pem)
    with pytest.raises(AssertionError, match="HTTP 404"):
        pki_check.check_crl(ctx, ctx.center)
