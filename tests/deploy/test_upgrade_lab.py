"""In-place upgrade of a unit server from Debian 12 to 13 on a deployed mixed lab province (center on 13,
one unit server on 12), done as docs/upgrade.md tells an administrator: apt pointed at the trixie suite of the
center's mirror (and, in the lab, at the trixie offline repository the mirror is filled from), `apt-get
full-upgrade`, then `provision deploy` and `provision verify`. Nothing may be lost: the unit's directory
replica (and it keeps following the center), the files of its share, the mailboxes and messages on the center.

In the lab a host's overlay has its release's image as lower layer: the upgrade writes every new file into the
host's own upper layer, like a disk of a real server; the image itself is untouched (other hosts share it).

It takes well over 5 minutes (two deploys and a release upgrade), so it runs only when asked for:
    flock /tmp/labtest-test_upgrade_lab.lock env PROVISION_TEST_UPGRADE_LAB=<name> \\
        python -m pytest tests/deploy/test_upgrade_lab.py -m upgrade -x -q
"""
from __future__ import annotations

import os
import tempfile
import time
import unicodedata

import pytest
from ldap3 import BASE, MODIFY_ADD, MODIFY_DELETE

from provisioning import smb
from provisioning import secrets
from provisioning.deploy.runner import deploy
from provisioning.verify.probes import smbclient
from provisioning.lab import Lab
from provisioning.model import load_province
from tests.conftest import run_cli
from tests.deploy.labkit import deliver, imap_subjects, ldap

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.upgrade]

NAME = os.environ.get("PROVISION_TEST_UPGRADE_LAB", "tupg")
ZONE = DOMAIN = "bentre.gov.vn"
# Mail from outside comes from another domain: the province's own is refused from outside (roles/mail).
OUTSIDE = "vanphong@so-ngoai.example.vn"
SHARE = "tailieu"          # the fileshare role's default share, as deployed on the lab
BASE_DN = f"dc={DOMAIN.replace('.', ',dc=')}"
PEOPLE, GROUPS = f"ou=People,{BASE_DN}", f"ou=Groups,{BASE_DN}"
FILE_NAME = unicodedata.normalize("NFC", "Kế hoạch nâng cấp máy chủ – xã.txt")
FILE_CONTENT = "Danh sách văn bản lưu trước khi nâng cấp Debian 13\n".encode()
SUBJECTS = [f"Công văn số {i}/2026 – trước nâng cấp" for i in (201, 202)]
UPGRADE = ("export DEBIAN_FRONTEND=noninteractive; "
           "sed -i 's/bookworm/trixie/g' /etc/apt/sources.list.d/*.list && apt-get update -qq && "
           "apt-get -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "
           "upgrade --without-new-pkgs && "
           "apt-get -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold full-upgrade")


def on_replica(unit, ca_pem, s, dn: str, attr_filter: str = "(objectClass=*)", seconds: float = 30) -> bool:
    """Whether the unit's replica shows `dn` (matching the filter) within `seconds`."""
    conn = ldap(unit.address, ca_pem, f"cn=replicator,ou=Services,{BASE_DN}", s["ldap_replicator"],
                f"{unit.name}.{ZONE}")
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if conn.search(dn, attr_filter, BASE, attributes=["1.1"]) and conn.entries:
                    return True
            except Exception:
                pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)
    finally:
        conn.unbind()


def replica_dns(lab, unit) -> set[str]:
    """Every entry of the unit's replica, read from its database (slapcat -o ldif-wrap=no)."""
    out = lab.ssh(unit.name, f"slapcat -o ldif-wrap=no -b {BASE_DN} | grep '^dn'", check=True).stdout
    return {line.split(" ", 1)[1].lower() for line in out.splitlines()}


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    inv = tmp_path_factory.mktemp("upgrade") / "inventory" / NAME
    lab = Lab(NAME, inventory_dir=inv)
    lab.down()
    lab.up(units=1, workstations=0, switches=0, debian="mixed")
    try:
        first = deploy(inv)
        assert first.ok, (first.error, [(h.host, h.error) for h in first.hosts if h.error])
        p = load_province(inv)
        servers = [h for h in p.hosts.values() if set(h.groups) & {"center_servers", "unit_servers"}]
        center = next(h for h in servers if "center_servers" in h.groups)
        unit = next(h for h in servers if "unit_servers" in h.groups)
        ca_pem = lab.ssh(center.name, "cat /usr/local/share/ca-certificates/provision-ca.crt", check=True).stdout
        yield lab, inv, center, unit, ca_pem, secrets.load_secrets(inv)
    finally:
        lab.down()


def test_a_unit_server_upgraded_from_12_to_13_converges_and_loses_nothing(province):
    lab, inv, center, unit, ca_pem, s = province
    assert lab.ssh(unit.name, "cut -d. -f1 /etc/debian_version", check=True).stdout.strip() == "12"
    assert lab.ssh(center.name, "cut -d. -f1 /etc/debian_version", check=True).stdout.strip() == "13"

    # Before: an official of the unit (replicated to it), a file in the unit's share, mail on the center.
    conn = ldap(center.address, ca_pem, f"cn=provisioner,ou=Services,{BASE_DN}", s["ldap_provisioner"],
                f"ldap.{ZONE}")
    uid, password = f"nangcap{int(time.time()) % 10000}", "Nang-cap-Debian-13!"
    dn = f"uid={uid},{PEOPLE}"
    samba = smb.samba_attributes(BASE_DN, uid, password)
    assert conn.add(dn, ["inetOrgPerson", "govMailAccount", *samba.pop("objectClass")], {
        "uid": uid, "cn": unicodedata.normalize("NFC", "Lê Văn Nâng"), "sn": "Lê", "givenName": "Nâng",
        "departmentNumber": unit.unit, "mail": f"{uid}@{DOMAIN}", "mailEnabled": "TRUE", "mailQuotaMB": "20",
        "mailHomeDirectory": f"/var/vmail/{DOMAIN}/{uid}", "govAccountState": "active",
        "userPassword": secrets.sha512_crypt(password), **samba}), conn.result
    assert conn.modify(f"cn=unit-{unit.unit},{GROUPS}", {"member": [(MODIFY_ADD, [dn])]}), conn.result
    conn.unbind()
    assert on_replica(unit, ca_pem, s, f"cn=unit-{unit.unit},{GROUPS}", f"(member={dn})")
    lab.ssh(unit.name, "/usr/local/sbin/provision-smb-sync", check=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src.txt")
        with open(src, "wb") as fh:
            fh.write(FILE_CONTENT)
        r = smbclient(unit.address, SHARE, uid, password, f'put "{src}" "{FILE_NAME}"', 5)
        assert r.returncode == 0, r.stdout + r.stderr
    deliver(center.address, ca_pem, OUTSIDE, uid, password, SUBJECTS, "Kính gửi đồng chí Lê Văn Nâng.\n")
    replica_before = replica_dns(lab, unit)
    assert dn.lower() in replica_before

    # The upgrade, as an administrator does it (docs/upgrade.md), then the deploy.
    r = lab.ssh(unit.name, UPGRADE, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert lab.ssh(unit.name, "cut -d. -f1 /etc/debian_version", check=True).stdout.strip() == "13"
    assert "trixie main" in lab.ssh(unit.name, "cat /etc/apt/sources.list.d/provision-mirror.list").stdout
    second = deploy(inv)
    assert second.ok, (second.error, [(h.host, h.error) for h in second.hosts if h.error])
    r = run_cli("verify", "-i", str(inv), "--json")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    third = deploy(inv)
    assert third.ok and sum(h.changed for h in third.hosts) == 0, [(h.host, h.changed) for h in third.hosts]

    # Nothing lost: the replica's entries, the share's file, the center's mailbox and its messages.
    assert replica_before <= replica_dns(lab, unit)
    assert on_replica(unit, ca_pem, s, dn)
    with tempfile.TemporaryDirectory() as tmp:
        back = os.path.join(tmp, "back.txt")
        r = smbclient(unit.address, SHARE, uid, password, f'get "{FILE_NAME}" "{back}"', 5)
        assert r.returncode == 0, r.stdout + r.stderr
        with open(back, "rb") as fh:
            assert fh.read() == FILE_CONTENT
    assert sorted(imap_subjects(center.address, ca_pem, uid, password)) == sorted(SUBJECTS)
    # ...and the upgraded replica still follows the center.
    conn = ldap(center.address, ca_pem, f"cn=provisioner,ou=Services,{BASE_DN}", s["ldap_provisioner"],
                f"ldap.{ZONE}")
    assert conn.modify(f"cn=unit-{unit.unit},{GROUPS}", {"member": [(MODIFY_DELETE, [dn])]}), conn.result
    conn.unbind()
    assert on_replica(unit, ca_pem, s, f"cn=unit-{unit.unit},{GROUPS}", f"(!(member={dn}))")
