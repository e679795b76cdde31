"""Every password change updates the file shares' NT hash with it, or neither: officials write no NT hash
themselves, the Password Modify extended operation (webmail, the console) makes slapd's smbk5pwd overlay
write it, after ppolicy's quality checks. Real loopback slapd with the directory role's ACL and overlays.

The attacks: an empty or policy-breaking NT hash written directly (the share then accepts a password the
policy forbids), and a password changed over LDAP leaving the first password valid on the share."""
from __future__ import annotations

import base64
import os
import shutil
import tempfile
from pathlib import Path

import ldap3
import pytest

from fixtures.directory import apply_role_acl, apply_role_overlays, ldapi_modify
from fixtures.mailstack import start_slapd
from provisioning import smb
from provisioning.accounts.passwords import SecretStr, first_password_hash, sha512_crypt

BASE = "dc=pw,dc=gov,dc=vn"
PEOPLE = f"ou=People,{BASE}"
UNIT = "000.00.01.H09"
FIRST = "Mat-khau-dau-2026!"


@pytest.fixture(scope="module")
def slapd():
    if os.geteuid() != 0:
        pytest.skip("ldapi EXTERNAL as root applies the role's configuration")
    work = Path(tempfile.mkdtemp(prefix="pw-"))
    s = start_slapd(work, BASE, [UNIT], unit_groups=False)
    try:
        apply_role_acl(s, [UNIT])
        apply_role_overlays(s)
        # how the role has slapd hash the passwords it is given (roles/directory: slapd-init.ldif.j2, config.yml)
        ldapi_modify(s, "dn: olcDatabase={-1}frontend,cn=config\nchangetype: modify\nreplace: olcPasswordHash\n"
                        "olcPasswordHash: {CRYPT}\n")
        ldapi_modify(s, "dn: cn=config\nchangetype: modify\nreplace: olcPasswordCryptSaltFormat\n"
                        "olcPasswordCryptSaltFormat: $6$%.16s\n")
        # the role's default policy: quality checked on the clear text the extended operation carries
        ldapi_modify(s, f"dn: cn=default,ou=Policies,{BASE}\nchangetype: modify\nreplace: pwdMinLength\n"
                        "pwdMinLength: 8\n-\nreplace: pwdCheckQuality\npwdCheckQuality: 1\n")
        yield s
    finally:
        s.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def official(slapd):
    uid = f"u{os.urandom(3).hex()}"
    dn = f"uid={uid},{PEOPLE}"
    samba = smb.samba_attributes(BASE, uid, FIRST)
    c = ldap3.Connection(slapd.url, slapd.service_dn("provisioner"), slapd.passwords["provisioner"], auto_bind=True)
    assert c.add(dn, ["inetOrgPerson", *samba.pop("objectClass")], {
        "uid": uid, "cn": uid, "sn": uid, "departmentNumber": UNIT,
        "userPassword": first_password_hash(SecretStr(FIRST)), "pwdReset": "TRUE", **samba}), c.result
    c.unbind()
    return dn


def state(slapd, dn: str) -> tuple[str, str]:
    """(userPassword, NT hash) as local root sees them."""
    out = slapd.search(dn, "(objectClass=*)", "userPassword", "sambaNTPassword", scope="base")
    attrs = dict(line.split(":", 1) for line in out.splitlines() if ":" in line and not line.startswith("#"))
    return attrs.get("userPassword:", attrs.get("userPassword", "")).strip(), attrs["sambaNTPassword"].strip().upper()


def binds(slapd, dn: str, password: str) -> bool:
    c = ldap3.Connection(slapd.url, dn, password)
    ok = c.bind()
    c.unbind()
    return ok


@pytest.mark.parametrize("value", ["", smb.nt_hash(""), smb.nt_hash("1")], ids=["empty", "nt-of-empty", "nt-of-1"])
def test_an_official_cannot_write_their_own_nt_hash(slapd, official, value):
    c = ldap3.Connection(slapd.url, official, FIRST, auto_bind=True)
    change = [(ldap3.MODIFY_DELETE, [])] if value == "" else [(ldap3.MODIFY_REPLACE, [value])]
    assert not c.modify(official, {"sambaNTPassword": change, "sambaPwdLastSet": [(ldap3.MODIFY_REPLACE, ["0"])]})
    assert c.result["description"] == "insufficientAccessRights", c.result
    c.unbind()
    assert state(slapd, official)[1] == smb.nt_hash(FIRST)


def test_the_extended_operation_changes_password_and_nt_hash_together(slapd, official):
    new = "Mat-khau-moi-2026!"
    c = ldap3.Connection(slapd.url, official, FIRST, auto_bind=True)
    assert c.extend.standard.modify_password(old_password=FIRST, new_password=new), c.result
    c.unbind()
    assert state(slapd, official)[1] == smb.nt_hash(new)     # the first password no longer opens the share
    assert binds(slapd, official, new) and not binds(slapd, official, FIRST)
    assert "pwdReset" not in slapd.search(official, "(objectClass=*)", "pwdReset", scope="base")


def test_the_password_an_official_chooses_is_stored_at_full_cost(slapd, official):
    """First passwords are hashed with 1000 rounds (accounts/passwords.py); the one the official sets at
    the first login is hashed by slapd at SHA-512-crypt's default 5000 (no rounds= in the hash)."""
    def stored() -> str:   # slapcat-style output: userPassword:: <base64>
        return base64.b64decode(state(slapd, official)[0].removeprefix(":").strip()).decode()
    assert stored().startswith("{CRYPT}$6$rounds=1000$")
    assert binds(slapd, official, FIRST)
    new = "Mat-khau-rieng-2026!"
    c = ldap3.Connection(slapd.url, official, FIRST, auto_bind=True)
    assert c.extend.standard.modify_password(old_password=FIRST, new_password=new), c.result
    c.unbind()
    assert stored().startswith("{CRYPT}$6$") and "rounds=" not in stored() and len(stored().split("$")[2]) == 16
    assert binds(slapd, official, new) and not binds(slapd, official, FIRST)


@pytest.mark.parametrize("bad", ["ngan", "1234567"], ids=["too-short", "seven-digits"])
def test_a_password_the_policy_refuses_changes_neither(slapd, official, bad):
    before = state(slapd, official)
    c = ldap3.Connection(slapd.url, official, FIRST, auto_bind=True)
    assert not c.extend.standard.modify_password(old_password=FIRST, new_password=bad)
    assert c.result["description"] == "constraintViolation", c.result
    c.unbind()
    assert state(slapd, official) == before and binds(slapd, official, FIRST) and not binds(slapd, official, bad)


def test_the_provisioner_resets_both_through_the_extended_operation(slapd, official):
    new = "Dat-lai-boi-HR-2026!"
    c = ldap3.Connection(slapd.url, slapd.service_dn("provisioner"), slapd.passwords["provisioner"], auto_bind=True)
    assert c.extend.standard.modify_password(user=official, new_password=new), c.result
    c.unbind()
    assert state(slapd, official)[1] == smb.nt_hash(new) and binds(slapd, official, new)


def _policy(slapd, cn: str, policy) -> None:
    """A ppolicy entry as roles/directory/tasks/tree.yml writes it: the role's common attributes and the
    numbers of province.yml `security:` (model/settings.py)."""
    from fixtures.directory import apply_role_policy, role_defaults

    attrs = {**role_defaults()["directory_password_policy_common"], **policy.ppolicy()}
    subprocess_ldif = f"dn: cn={cn},ou=Policies,{BASE}\nchangetype: delete\n"
    if cn == "default":
        ldapi_modify(slapd, subprocess_ldif)
    apply_role_policy(slapd, f"cn={cn},ou=Policies,{BASE}", attrs)


@pytest.fixture(scope="module")
def policies(slapd):
    from provisioning.model.settings import AdminPasswordPolicy, PasswordPolicy

    _policy(slapd, "default", PasswordPolicy())
    _policy(slapd, "administrators", AdminPasswordPolicy())
    return PasswordPolicy(), AdminPasswordPolicy()


def _admin(slapd, dn: str) -> None:
    ldapi_modify(slapd, f"dn: {dn}\nchangetype: modify\nreplace: pwdPolicySubentry\n"
                        f"pwdPolicySubentry: cn=administrators,ou=Policies,{BASE}\n")


def test_administrators_need_longer_passwords_than_officials(slapd, policies, official):
    officials, admins = policies
    twelve = "Mk-12-ky-tu!"
    assert officials.min_length <= len(twelve) < admins.min_length
    other = official
    c = ldap3.Connection(slapd.url, other, FIRST, auto_bind=True)
    assert c.extend.standard.modify_password(old_password=FIRST, new_password=twelve), c.result
    c.unbind()
    admin = f"uid=qt{os.urandom(3).hex()},{PEOPLE}"
    p = ldap3.Connection(slapd.url, slapd.service_dn("provisioner"), slapd.passwords["provisioner"], auto_bind=True)
    assert p.add(admin, ["inetOrgPerson"], {"cn": "qt", "sn": "qt", "departmentNumber": UNIT,
                                            "userPassword": sha512_crypt(SecretStr(FIRST))}), p.result
    p.unbind()
    _admin(slapd, admin)
    c = ldap3.Connection(slapd.url, admin, FIRST, auto_bind=True)
    assert not c.extend.standard.modify_password(old_password=FIRST, new_password=twelve)
    assert c.result["description"] == "constraintViolation", c.result
    assert c.extend.standard.modify_password(old_password=FIRST, new_password=twelve + "-dai-hon"), c.result
    c.unbind()


def test_administrators_are_locked_out_sooner(slapd, policies, official):
    officials, admins = policies
    assert admins.max_failures < officials.max_failures
    admin = official
    _admin(slapd, admin)
    for _ in range(admins.max_failures):
        assert not binds(slapd, admin, "sai-mat-khau")
    assert not binds(slapd, admin, FIRST)                      # locked: even the right password fails
    assert "pwdAccountLockedTime" in slapd.search(admin, "(objectClass=*)", "pwdAccountLockedTime", scope="base")
