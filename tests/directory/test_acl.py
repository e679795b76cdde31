"""What each kind of account reads of an official's password-derived attributes, under the directory
role's own ACL (acl.yml.j2: the same list on the center and every replica), on a real loopback slapd.

The attack: a signed-in official or a unit administrator reading pwdHistory, userPassword or the NT
hashes of another official (or their own) to crack them offline. Only the replicator (syncrepl, the
file-share sync) and local root may read them."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import ldap3
import pytest

from fixtures.directory import apply_role_acl
from fixtures.mailstack import start_slapd
from provisioning import smb
from provisioning.accounts.passwords import SecretStr, sha512_crypt

BASE = "dc=acl,dc=gov,dc=vn"
PEOPLE = f"ou=People,{BASE}"
U1, U2 = "000.00.01.H09", "000.00.02.H09"
SECRETS = {"userpassword", "pwdhistory", "sambantpassword", "sambalmpassword", "sambapasswordhistory"}
PW = {"annv": "An-mat-khau-1!", "binhtt": "Binh-mat-khau-1!", "quantri": "Quan-tri-mat-khau-1!"}


@pytest.fixture(scope="module")
def slapd():
    if os.geteuid() != 0:
        pytest.skip("ldapi EXTERNAL as root applies the role's ACL")
    work = Path(tempfile.mkdtemp(prefix="acl-"))
    s = start_slapd(work, BASE, [U1, U2], unit_groups=False)
    try:
        apply_role_acl(s, [U1, U2])
        people = []
        for uid, unit in (("annv", U1), ("binhtt", U1), ("quantri", U1)):
            samba = smb.samba_attributes(BASE, uid, PW[uid] + "-old")
            ocs = "".join(f"objectClass: {o}\n" for o in samba.pop("objectClass"))
            extra = "".join(f"{k}: {v}\n" for k, vals in samba.items() for v in vals)
            people.append(f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\n{ocs}uid: {uid}\ncn: {uid}\n"
                          f"sn: {uid}\ndepartmentNumber: {unit}\n"
                          f"userPassword: {sha512_crypt(SecretStr(PW[uid] + '-old'))}\n{extra}")
        people.append(f"dn: cn=admins-{U1},ou=Groups,{BASE}\nobjectClass: groupOfNames\ncn: admins-{U1}\n"
                      f"member: uid=quantri,{PEOPLE}\n")
        s.ldapadd("\n".join(people))
        # Each official changes their own password once: ppolicy now keeps the old hash in pwdHistory.
        for uid in PW:
            c = ldap3.Connection(s.url, f"uid={uid},{PEOPLE}", PW[uid] + "-old", auto_bind=True)
            assert c.extend.standard.modify_password(new_password=PW[uid]), c.result
            c.unbind()
        assert "pwdHistory:" in s.search(f"uid=annv,{PEOPLE}", "(objectClass=*)", "pwdHistory", scope="base")
        yield s
    finally:
        s.stop()
        shutil.rmtree(work, ignore_errors=True)


def readable(s, dn: str, password: str, target: str) -> set[str]:
    c = ldap3.Connection(ldap3.Server(s.url, get_info=ldap3.NONE), dn, password, auto_bind=True)
    try:
        c.search(target, "(objectClass=*)", ldap3.BASE, attributes=["*", "+"])
        return {k.lower() for k, v in c.response[0]["attributes"].items() if v} if c.response else set()
    finally:
        c.unbind()


def who(s) -> dict[str, tuple[str, str]]:
    svc = {n: (s.service_dn(n), s.passwords[n]) for n in ("provisioner", "mail-reader", "replicator")}
    return {"official": (f"uid=binhtt,{PEOPLE}", PW["binhtt"]), "unit admin": (f"uid=quantri,{PEOPLE}", PW["quantri"]),
            **svc}


@pytest.mark.parametrize("reader", ["official", "unit admin", "provisioner", "mail-reader", "replicator"])
def test_password_derived_attributes_of_another_official(slapd, reader):
    dn, pw = who(slapd)[reader]
    seen = readable(slapd, dn, pw, f"uid=annv,{PEOPLE}")
    assert "cn" in seen  # the entry itself is visible to every signed-in account
    if reader == "replicator":  # syncrepl copies everything, the file-share sync needs the NT hash
        assert {"userpassword", "pwdhistory", "sambantpassword"} <= seen
    else:
        assert not seen & SECRETS, (reader, seen & SECRETS)


@pytest.mark.parametrize("uid", ["binhtt", "quantri"])
def test_officials_read_none_of_their_own_password_derived_attributes(slapd, uid):
    seen = readable(slapd, f"uid={uid},{PEOPLE}", PW[uid], f"uid={uid},{PEOPLE}")
    assert "cn" in seen and not seen & SECRETS, seen & SECRETS


def test_unit_admin_writes_neither_passwords_nor_hashes_of_their_people(slapd):
    c = ldap3.Connection(slapd.url, f"uid=quantri,{PEOPLE}", PW["quantri"], auto_bind=True)
    target = f"uid=annv,{PEOPLE}"
    assert c.modify(target, {"title": [(ldap3.MODIFY_REPLACE, ["Chuyên viên"])]}), c.result  # delegation holds
    for attr, value in (("userPassword", "x"), ("sambaNTPassword", smb.nt_hash("x")), ("pwdReset", "FALSE"),
                        ("sambaAcctFlags", "[U          ]")):
        assert not c.modify(target, {attr: [(ldap3.MODIFY_REPLACE, [value])]}), attr
        assert c.result["description"] == "insufficientAccessRights", (attr, c.result)
    c.unbind()


def test_a_filter_on_a_hidden_attribute_reveals_nothing(slapd):
    """An official cannot guess a hash by filtering on it (search needs read or search access)."""
    c = ldap3.Connection(slapd.url, f"uid=binhtt,{PEOPLE}", PW["binhtt"], auto_bind=True)
    c.search(PEOPLE, f"(sambaNTPassword={smb.nt_hash(PW['annv'] + '-old')})", attributes=["uid"])
    assert c.entries == []
    c.search(PEOPLE, "(pwdHistory=*)", attributes=["uid"])
    assert c.entries == []
    c.unbind()
