"""The province's one SHA-512-crypt (provisioning.secrets): the same bytes as OpenSSL's, and hashes that
a real slapd verifies. The vault's service hashes and the accounts' first passwords both come from it."""
import subprocess

import pytest
from ldap3 import Connection, Server

from provisioning import secrets
from provisioning.accounts import passwords
from provisioning.accounts.passwords import SecretStr
from tests.fixtures.mailstack import start_slapd

BASE = "dc=bentre,dc=gov,dc=vn"


def openssl_sha512_crypt(password: str, salt: str) -> str:
    """`salt` may start with `rounds=N$` (OpenSSL reads the count from it, as crypt(3) does)."""
    r = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, "-stdin"], input=password.encode() + b"\n",
                       capture_output=True, check=True)
    return r.stdout.decode().strip()


@pytest.mark.parametrize("password,salt", [
    ("Kiem-Tra-2026!", "saltsaltsaltsalt"),
    ("Mật khẩu đầu tiên", "./0123456789AbCd"),   # UTF-8, NFC: the bytes slapd and Dovecot receive
    ("x", "ab"),                                   # short salts are valid too
    ("p" * 200, "Zz9/Zz9/Zz9/Zz9/"),
])
def test_same_salt_gives_the_same_hash_as_openssl(password, salt):
    ours = secrets.sha512_crypt(password, salt=salt)
    assert ours == "{CRYPT}" + openssl_sha512_crypt(password, salt)
    assert secrets.verify_crypt(password, ours) and not secrets.verify_crypt(password + "x", ours)


def test_random_salts_differ_and_verify_against_openssl():
    a, b = secrets.sha512_crypt("cùng mật khẩu"), secrets.sha512_crypt("cùng mật khẩu")
    assert a != b and a.startswith("{CRYPT}$6$") and b.startswith("{CRYPT}$6$")
    for h in (a, b):
        salt = h.split("$")[2]
        assert len(salt) == 16 and h == "{CRYPT}" + openssl_sha512_crypt("cùng mật khẩu", salt)


def test_accounts_hash_with_the_same_implementation():
    pws = [passwords.generate() for _ in range(70)]   # 70 >= 64: the parallel path
    hashed = passwords.hash_many(pws, workers=2)
    for pw, h in zip(pws, hashed):
        salt = h.split("$")[2]
        assert h == secrets.sha512_crypt(pw.get_secret_value(), salt=salt)
        assert passwords.verify(pw.get_secret_value(), h)


@pytest.mark.parametrize("rounds", [1000, 5000, 12345])
def test_an_explicit_round_count_gives_the_same_hash_as_openssl(rounds):
    ours = secrets.sha512_crypt("Mật khẩu đầu tiên", salt="./0123456789AbCd", rounds=rounds)
    assert ours == "{CRYPT}" + openssl_sha512_crypt("Mật khẩu đầu tiên", f"rounds={rounds}$./0123456789AbCd")
    assert ours.startswith(f"{{CRYPT}}$6$rounds={rounds}$")
    assert secrets.verify_crypt("Mật khẩu đầu tiên", ours) and not secrets.verify_crypt("Mật khẩu đầu tiêN", ours)


@pytest.mark.parametrize("rounds", [0, 999, 1_000_000_000, True, 1000.0])
def test_a_round_count_crypt_would_clamp_is_refused(rounds):
    with pytest.raises(ValueError, match="rounds"):
        secrets.sha512_crypt("pw", rounds=rounds)


def test_first_passwords_take_1000_rounds_and_everything_else_the_default():
    pw = passwords.generate()
    first = passwords.first_password_hash(pw)
    assert first.startswith("{CRYPT}$6$rounds=1000$")
    salt = first.split("$")[3]
    assert len(salt) == 16 and first == "{CRYPT}" + openssl_sha512_crypt(pw.get_secret_value(), f"rounds=1000${salt}")
    assert passwords.verify(pw.get_secret_value(), first)
    for full in (passwords.sha512_crypt(pw), secrets.sha512_crypt("dịch vụ"), passwords.hash_many([pw])[0]):
        assert full.startswith("{CRYPT}$6$") and "rounds=" not in full   # 5000, the scheme's default


@pytest.mark.parametrize("salt", ["", "bad salt", "a$b", "ă"])
def test_a_bad_salt_is_refused(salt):
    with pytest.raises(ValueError, match="salt"):
        secrets.sha512_crypt("pw", salt=salt)


def test_verify_rejects_what_is_not_a_crypt_hash():
    assert not secrets.verify_crypt("pw", "{CRYPT}")
    assert not secrets.verify_crypt("pw", "{SSHA}abcdef")


def test_a_nul_character_is_refused_not_cut_off():
    h = secrets.sha512_crypt("pw", salt="saltsaltsaltsalt")
    with pytest.raises(ValueError, match="NUL"):
        secrets.sha512_crypt("pw\0tail", salt="saltsaltsaltsalt")
    assert not secrets.verify_crypt("pw\0tail", h)


def test_real_slapd_binds_users_whose_hash_the_project_made(tmp_path):
    slapd = start_slapd(tmp_path / "slapd", BASE, ["000.01.01.H09"])
    try:
        people = {"vault-made": ("Mật-khẩu-dịch-vụ", secrets.sha512_crypt("Mật-khẩu-dịch-vụ")),
                  "accounts-made": ("Ab3defGh7kMn", passwords.sha512_crypt(SecretStr("Ab3defGh7kMn"))),
                  "first-password": ("Xy7PqrStUv2w", passwords.first_password_hash(SecretStr("Xy7PqrStUv2w")))}
        slapd.ldapadd("\n".join(
            f"dn: uid={uid},ou=People,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n"
            f"userPassword: {hashed}\n" for uid, (_, hashed) in people.items()))
        server = Server(slapd.url)
        for uid, (password, _) in people.items():
            dn = f"uid={uid},ou=People,{BASE}"
            ok = Connection(server, dn, password)
            assert ok.bind(), (uid, ok.result)
            ok.unbind()
            bad = Connection(server, dn, password + "!")
            assert not bad.bind() and bad.result["description"] == "invalidCredentials"
    finally:
        slapd.stop()
