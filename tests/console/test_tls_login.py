"""Logins bind as the official over StartTLS with the provincial CA checked: a directory whose
certificate another CA signed, or that does not carry the expected name, is never sent the password.
The same StartTLS directory also takes the accounts apply's pipelined writes (accounts/ldapwire.py)."""
from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from fixtures.mailstack import start_slapd
from provisioning.accounts.access import authenticate
from provisioning.accounts.directory import Target

BASE = "dc=tls,dc=gov,dc=vn"


def _cert(subject: str, issuer_key, issuer_name, key, ca: bool, names=()):
    now = dt.datetime.now(dt.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        # names only, not the loopback address the test connects to: the expected name must match
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(path, obj):
    if hasattr(obj, "private_bytes"):
        data = obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())
    else:
        data = obj.public_bytes(serialization.Encoding.PEM)
    path.write_bytes(data)
    os.chmod(path, 0o600)
    return path


@pytest.fixture(scope="module")
def tls_slapd(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("slapd's configuration is changed over ldapi as root")
    d = tmp_path_factory.mktemp("tls")
    ca_key, other_key, srv_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _cert("Provincial CA", ca_key, None, ca_key, True)
    other = _cert("Another CA", other_key, None, other_key, True)
    srv = _cert("ldap.tls.gov.vn", ca_key, ca.subject, srv_key, False, names=("ldap.tls.gov.vn",))
    paths = {n: _pem(d / f"{n}.pem", o) for n, o in
             (("ca", ca), ("other", other), ("srv", srv), ("srvkey", srv_key))}
    s = start_slapd(d / "ldap", BASE, [])
    try:
        subprocess.run(["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", s.ldapi], check=True, capture_output=True,
                       input=f"dn: cn=config\nchangetype: modify\nreplace: olcTLSCACertificateFile\n"
                             f"olcTLSCACertificateFile: {paths['ca']}\n-\nreplace: olcTLSCertificateFile\n"
                             f"olcTLSCertificateFile: {paths['srv']}\n-\nreplace: olcTLSCertificateKeyFile\n"
                             f"olcTLSCertificateKeyFile: {paths['srvkey']}\n", text=True)
        s.ldapadd(f"dn: uid=annv,ou=People,{BASE}\nobjectClass: inetOrgPerson\nuid: annv\ncn: Nguyễn Văn An\n"
                  f"sn: Nguyễn\nuserPassword: Mat-khau-2026\n")
        yield s, paths
    finally:
        s.stop()


def _target(s, ca, names=("ldap.tls.gov.vn",)):
    return Target(url=s.url, host=None, base_dn=BASE, bind_dn="", tls_names=tuple(names),
                  password=SecretStr(""), starttls=True, ca_file=ca)


def test_login_over_starttls_checks_the_provincial_ca(tls_slapd):
    s, paths = tls_slapd
    dn = f"uid=annv,ou=People,{BASE}"
    ok = authenticate(_target(s, paths["ca"]), dn, "Mat-khau-2026")
    assert ok.ok and ok.conn.tls_started
    ok.conn.unbind()
    assert authenticate(_target(s, paths["ca"]), dn, "wrong").problem == "bad"
    # another CA's trust, or a certificate without the directory's name: no bind at all
    assert authenticate(_target(s, paths["other"]), dn, "Mat-khau-2026").problem == "unavailable"
    assert authenticate(_target(s, paths["ca"], names=("ldap.elsewhere.gov.vn",)), dn,
                        "Mat-khau-2026").problem == "unavailable"


def test_accounts_writes_over_starttls(tls_slapd):
    """The accounts apply's writes (ldapwire: BER by hand, pipelined) on the TLS socket of a StartTLS
    connection: every official's operations in order, a refusal reported for its own batch."""
    import ldap3

    from provisioning.accounts.apply import run_batches

    s, paths = tls_slapd
    t = Target(url=s.url, host=None, base_dn=BASE, bind_dn=s.admin_dn, tls_names=("ldap.tls.gov.vn",),
               password=SecretStr(s.admin_password), starttls=True, ca_file=paths["ca"])
    dn = lambda i: f"uid=wx{i},ou=People,{BASE}"  # noqa: E731
    batches = [(i, [("add", dn(i), {"objectClass": ["inetOrgPerson"], "uid": [f"wx{i}"],
                                    "cn": [f"Người {i}"], "sn": ["Lê"]}),
                    ("modify", dn(i), {"title": [(ldap3.MODIFY_REPLACE, [f"Chuyên viên {i}"])]})])
               for i in range(300)]
    batches.append((300, [("add", f"uid=annv,ou=People,{BASE}", {"objectClass": ["inetOrgPerson"], "uid": ["annv"],
                                                                 "cn": ["x"], "sn": ["x"]}),
                          ("modify", f"uid=annv,ou=People,{BASE}", {"title": [(ldap3.MODIFY_REPLACE, ["never"])]})]))
    done = dict(run_batches(t, batches))
    assert [i for i in range(300) if done[i] is not None] == []
    assert done[300].startswith("entryAlreadyExists (68)")
    c = ldap3.Connection(ldap3.Server(s.url), s.admin_dn, s.admin_password, auto_bind=True)
    c.search(f"ou=People,{BASE}", "(uid=wx*)", attributes=["cn", "title"])
    got = {e.entry_dn: (e.cn.value, e.title.value) for e in c.entries}
    assert len(got) == 300 and got[dn(299)] == ("Người 299", "Chuyên viên 299")
    c.search(f"ou=People,{BASE}", "(uid=annv)", attributes=["title"])
    assert c.entries[0].title.value is None     # the second operation of a refused batch is never sent
    c.unbind()
