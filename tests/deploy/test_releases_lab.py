"""A province whose servers run two Debian releases (the shared deployed lab: center on 13, first unit
server on 12, second on 13): one deploy converged them all and the next changed nothing, each release
runs its own versions of the services, officials created on the center log in over IMAP and SMB from
and at both units, and the replica of each release follows the center."""
from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import pytest
from ldap3 import BASE, MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, Connection

from provisioning import smb
from provisioning import secrets
from provisioning.verify.probes import smbclient
from tests.deploy.labkit import ldap

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ZONE = DOMAIN = "bentre.gov.vn"
BASE_DN = "dc=bentre,dc=gov,dc=vn"
PEOPLE = f"ou=People,{BASE_DN}"
GROUPS = f"ou=Groups,{BASE_DN}"
SHARE = "tailieu"          # the fileshare role's default share, as deployed on the lab
# What each release brings (Debian 12 "bookworm", Debian 13 "trixie"): the versions the roles tell apart.
VERSIONS = {"12": {"slapd": "2.5.", "dovecot": "2.3.", "samba": "4.17."},
            "13": {"slapd": "2.6.", "dovecot": "2.4.", "samba": "4.22."}}
# A login to the center's IMAPS from a unit server, with the provincial CA and the service name checked.
IMAP_LOGIN = """
import imaplib, ssl, sys
user, password = sys.stdin.read().split("\\n")[:2]
ctx = ssl.create_default_context(cafile="/usr/local/share/ca-certificates/provision-ca.crt")
with imaplib.IMAP4_SSL("imap.{zone}", 993, ssl_context=ctx, timeout=10) as m:
    m.login(user, password)
    print(m.select("INBOX")[0])
"""


def replicator(deployed_lab, ca_pem, host) -> Connection:
    s = secrets.load_secrets(deployed_lab.inventory)
    name = f"ldap.{ZONE}" if host is deployed_lab.center else f"{host.name}.{ZONE}"
    return ldap(host.address, ca_pem, f"cn=replicator,ou=Services,{BASE_DN}", s["ldap_replicator"], name)


def context_csn(conn: Connection) -> set[str]:
    conn.search(BASE_DN, "(objectClass=*)", BASE, attributes=["contextCSN"])
    return {str(v) for v in conn.entries[0].contextCSN.values}


def changed_tasks(artifacts: str) -> list[str]:
    """host: task of every change in a run (what a failed no-change assertion should show)."""
    out = []
    for f in sorted(Path(artifacts, "job_events").glob("*.json")):
        ev = json.loads(f.read_text())
        if ev.get("event") == "runner_on_ok" and ev["event_data"].get("res", {}).get("changed"):
            out.append(f"{ev['event_data'].get('host')}: {ev['event_data'].get('task')}")
    return out


@pytest.fixture(scope="module")
def officials(deployed_lab, ca_pem):
    """One official of each unit, created on the center as the accounts code writes them (with the NT
    hash of the file shares), member of the unit's group; removed at the end."""
    s = secrets.load_secrets(deployed_lab.inventory)
    conn = ldap(deployed_lab.center.address, ca_pem, f"cn=provisioner,ou=Services,{BASE_DN}",
                s["ldap_provisioner"], f"ldap.{ZONE}")
    suffix = str(int(time.time()) % 10000)
    out = []
    for i, server in enumerate(deployed_lab.units):
        uid, password = f"release{i}x{suffix}", f"Hai-ban-Debian-{i}-2026!"
        dn = f"uid={uid},{PEOPLE}"
        samba = smb.samba_attributes(BASE_DN, uid, password)
        assert conn.add(dn, ["inetOrgPerson", "govMailAccount", *samba.pop("objectClass")], {
            "uid": uid, "cn": unicodedata.normalize("NFC", f"Nguyễn Văn Thử {i}"), "sn": "Nguyễn",
            "givenName": "Thử",
            "departmentNumber": server.unit, "mail": f"{uid}@{DOMAIN}", "mailEnabled": "TRUE", "mailQuotaMB": "20",
            "mailHomeDirectory": f"/var/vmail/{DOMAIN}/{uid}", "govAccountState": "active",
            "userPassword": secrets.sha512_crypt(password), **samba}), conn.result
        assert conn.modify(f"cn=unit-{server.unit},{GROUPS}", {"member": [(MODIFY_ADD, [dn])]}), conn.result
        out.append(SimpleNamespace(uid=uid, dn=dn, password=password, server=server))
    yield SimpleNamespace(people=out, conn=conn)
    for o in out:
        conn.modify(f"cn=unit-{o.server.unit},{GROUPS}", {"member": [(MODIFY_DELETE, [o.dn])]})
        conn.delete(o.dn)
    conn.unbind()
    for unit in deployed_lab.units:
        deployed_lab.lab.ssh(unit.name, "/usr/local/sbin/provision-smb-sync", check=True)


def wait_until_replicated(deployed_lab, ca_pem, timeout: float = 30) -> dict[str, set[str]]:
    """Wait until every replica's contextCSN equals the center's; returns each server's contextCSN."""
    center = replicator(deployed_lab, ca_pem, deployed_lab.center)
    want = context_csn(center)
    center.unbind()
    seen = {deployed_lab.center.name: want}
    for unit in deployed_lab.units:
        conn = replicator(deployed_lab, ca_pem, unit)
        deadline = time.monotonic() + timeout
        while (got := context_csn(conn)) != want and time.monotonic() < deadline:
            time.sleep(0.3)
        conn.unbind()
        seen[unit.name] = got
    return seen


def test_the_province_runs_both_releases(deployed_lab):
    releases = deployed_lab.releases
    if deployed_lab.debian == "mixed":
        assert releases[deployed_lab.center.name] == "13"
        assert sorted(releases[u.name] for u in deployed_lab.units) == ["12", "13"], releases
    else:
        assert set(releases.values()) == {deployed_lab.debian}, releases
    lab = deployed_lab.lab
    center = deployed_lab.center.name
    dovecot = lab.ssh(center, "dovecot --version", check=True).stdout
    assert dovecot.startswith(VERSIONS[releases[center]]["dovecot"]), dovecot
    for host in (deployed_lab.center, *deployed_lab.units):
        slapd = lab.ssh(host.name, "dpkg-query -W -f='${Version}' slapd", check=True).stdout
        assert slapd.startswith(VERSIONS[releases[host.name]]["slapd"]), (host.name, slapd)
    for unit in deployed_lab.units:
        samba = lab.ssh(unit.name, "smbd --version", check=True).stdout
        assert VERSIONS[releases[unit.name]]["samba"] in samba, (unit.name, samba)


def test_first_deploy_converged_and_the_second_changed_nothing(deployed_lab):
    first, again = deployed_lab.first, deployed_lab.again
    assert first.ok, [(h.host, h.error) for h in first.hosts]
    servers = {deployed_lab.center.name, *(u.name for u in deployed_lab.units)}
    assert {h.host for h in first.hosts} == servers and all(h.tasks_changed > 0 for h in first.hosts)
    assert again.ok and {h.host for h in again.hosts} == servers, [(h.host, h.error) for h in again.hosts]
    assert again.changed == 0, changed_tasks(again.artifacts)


def test_officials_created_on_the_center_log_in_at_both_units(deployed_lab, ca_pem, officials):
    wait_until_replicated(deployed_lab, ca_pem)
    for unit in deployed_lab.units:
        deployed_lab.lab.ssh(unit.name, "/usr/local/sbin/provision-smb-sync", check=True)
    for o in officials.people:
        release = deployed_lab.releases[o.server.name]
        # IMAP: from the unit's server (its resolver and the WAN path) to the center's Dovecot
        r = deployed_lab.lab.ssh(o.server.name, f"python3 -c '{IMAP_LOGIN.format(zone=ZONE)}'",
                                 input=f"{o.uid}\n{o.password}\n")
        assert r.returncode == 0 and "OK" in r.stdout, (o.server.name, release, r.stdout + r.stderr)
        # SMB: the unit's own file share, accounts synchronised from its replica
        r = smbclient(o.server.address, SHARE, o.uid, o.password, "ls", 5)
        assert r.returncode == 0, (o.server.name, release, r.stdout + r.stderr)
        # ... and only there: the other unit's share refuses this official
        other = next(u for u in deployed_lab.units if u is not o.server)
        r = smbclient(other.address, SHARE, o.uid, o.password, "ls", 5)
        assert r.returncode != 0 and "NT_STATUS_LOGON_FAILURE" in r.stdout + r.stderr, (other.name, r.stdout)


def test_the_replica_of_each_release_follows_the_center(deployed_lab, ca_pem, officials):
    title = f"Chuyên viên {int(time.time())}"
    dn = officials.people[0].dn
    assert officials.conn.modify(dn, {"title": [(MODIFY_REPLACE, [title])]}), officials.conn.result
    seen = wait_until_replicated(deployed_lab, ca_pem)
    center = seen[deployed_lab.center.name]
    for unit in deployed_lab.units:
        release = deployed_lab.releases[unit.name]
        assert seen[unit.name] == center, (unit.name, release, seen)
        conn = replicator(deployed_lab, ca_pem, unit)
        assert conn.search(dn, "(objectClass=*)", BASE, attributes=["title"]), (unit.name, release)
        assert conn.entries[0].title.value == title, (unit.name, release)
        # read-only: a write sent to the replica is referred to the center
        conn.modify(dn, {"title": [(MODIFY_REPLACE, ["x"])]})
        assert conn.result["description"] == "referral", (unit.name, release, conn.result)
        conn.unbind()
