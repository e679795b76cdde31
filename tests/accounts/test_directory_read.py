"""Reading the directory as every plan does (directory.entries: a paged search whose entries ldapwire
decodes by hand), against a real slapd holding more officials than one page."""
from __future__ import annotations

import base64
import unicodedata

import ldap3
import pytest

from fixtures.mailstack import start_slapd
from provisioning.accounts.directory import entries
from provisioning.accounts.passwords import SecretStr, sha512_crypt
from provisioning.errors import OperationFailed

BASE = "dc=bentre,dc=gov,dc=vn"
PEOPLE = f"ou=People,{BASE}"
N = 1201   # three pages of 500
GIVEN = ("An", "Bình", "Hà", "Lan", "Tâm", "Vy", "Sơn", "Đức", "Hùng", "Ngọc", "Khoa", "Yến")


def _name(i: int) -> str:
    return unicodedata.normalize("NFC", f"Nguyễn Thị {GIVEN[i % len(GIVEN)]} {i}")


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    s = start_slapd(tmp_path_factory.mktemp("read-ldap"), BASE, ["000.00.01.H29"])
    try:
        ldif = [f"dn: uid=p{i},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: p{i}\n"
                f"cn:: {base64.b64encode(_name(i).encode()).decode()}\nsn: Nguyễn\ntitle: Chuyên viên {i}"
                for i in range(N)]
        ldif.append(f"dn: uid=reader,{PEOPLE}\nobjectClass: inetOrgPerson\nuid: reader\ncn: Reader\nsn: R\n"
                    f"userPassword: {sha512_crypt(SecretStr('Mat-khau-2026'))}")
        s.ldapadd("\n\n".join(ldif) + "\n")
        yield s
    finally:
        s.stop()


def _conn(s, dn: str, pw: str) -> ldap3.Connection:
    return ldap3.Connection(ldap3.Server(s.url), dn, pw, auto_bind=True)


def test_every_official_across_pages_with_their_vietnamese_names(slapd):
    conn = _conn(slapd, slapd.service_dn("provisioner"), slapd.passwords["provisioner"])
    try:
        got = dict(entries(conn, PEOPLE, "(uid=p*)", ["uid", "cn", "objectClass", "title"]))
    finally:
        conn.unbind()
    assert len(got) == N
    a = got[f"uid=p1200,{PEOPLE}"]                                   # on the last page
    assert a["cn"] == [_name(1200)] and a["CN"] == a["cn"]            # names as slapd gives them, any case
    assert a["objectClass"] == ["inetOrgPerson"]
    assert a["title"] == ["Chuyên viên 1200"] and "sn" not in a    # only the attributes asked for
    assert all(e["uid"] == [dn.split(",")[0][4:]] for dn, e in got.items())


def test_a_list_cut_short_by_the_size_limit_is_refused(slapd):
    """An identity without unlimited size (500 by default) sees only part of ou=People: a plan made
    from that would take everyone missing for a leaver, so the read fails instead."""
    conn = _conn(slapd, f"uid=reader,{PEOPLE}", "Mat-khau-2026")
    try:
        with pytest.raises(OperationFailed, match="size limit cut the list short"):
            list(entries(conn, PEOPLE, "(uid=*)", ["uid"]))
    finally:
        conn.unbind()


def test_a_missing_base_reads_as_empty_and_a_refused_search_is_an_error(slapd):
    conn = _conn(slapd, slapd.service_dn("provisioner"), slapd.passwords["provisioner"])
    try:
        assert list(entries(conn, f"ou=Nowhere,{BASE}", "(uid=*)", ["uid"])) == []
        with pytest.raises(OperationFailed, match=r"reading ou=People,=bad failed: invalidDNSyntax \(34\)"):
            list(entries(conn, "ou=People,=bad", "(uid=*)", ["uid"]))
    finally:
        conn.unbind()
