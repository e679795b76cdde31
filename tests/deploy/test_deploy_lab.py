"""`provision deploy` on the session's lab province (tests/deploy/conftest.py: center + 2 unit servers,
checked while bare, then deployed twice), and the directory checked from this machine with ldap3, as
Postfix, an official or an attacker would see it.

Tests run in file order: the bare check and the deploys, check mode, LDAP behaviour, then faults (a
package gone, a unit server down, a changed host key), each leaving the province as it found it.
"""
from __future__ import annotations

import json
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from ldap3 import BASE, MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, SUBTREE, Connection, Server, Tls

from provisioning import secrets
from provisioning.deploy.runner import deploy
from provisioning.model import load_province
from tests.conftest import run_cli

pytestmark = [pytest.mark.lab, pytest.mark.slow]

BASE_DN = "dc=bentre,dc=gov,dc=vn"
SVC = f"ou=Services,{BASE_DN}"
PEOPLE = f"ou=People,{BASE_DN}"


@pytest.fixture(scope="module")
def lab(deployed_lab):
    return deployed_lab.lab


@pytest.fixture(scope="module")
def province(deployed_lab):
    return deployed_lab.province


@pytest.fixture(scope="module")
def first(deployed_lab):
    return deployed_lab.first


@pytest.fixture(scope="module")
def hosts(deployed_lab):
    return deployed_lab.center, deployed_lab.units


@pytest.fixture(scope="module")
def ca_file(ca_pem, tmp_path_factory):
    f = tmp_path_factory.mktemp("ca") / "ca.crt"
    f.write_text(ca_pem)
    return f


def connect(host, ca_file: Path, dn: str | None = None, password: str | None = None, tls: bool = True) -> Connection:
    """StartTLS on 389, certificate checked against the provincial CA and the host's FQDN."""
    t = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(ca_file), valid_names=[f"{host.name}.bentre.gov.vn"])
    # auto_referrals off: following a replica's referral would resolve the center's name outside the lab
    conn = Connection(Server(host.address, port=389, tls=t, connect_timeout=5), user=dn, password=password,
                      receive_timeout=10, raise_exceptions=False, auto_referrals=False)
    conn.open()
    if tls:
        assert conn.start_tls(), conn.result
    conn.bind()
    return conn


def test_check_on_a_never_deployed_province_says_so_and_touches_nothing(deployed_lab, province):
    # Run by the session fixture before the first deploy: `--check` cannot query services that are not
    # installed yet, so each server is reported as never deployed instead of failing.
    out = deployed_lab.bare_check
    assert out["ok"] and out["check"] and not out["no_changes"]
    servers = {h.name for h in province.hosts.values() if {"center_servers", "unit_servers"} & set(h.groups)}
    assert {h["host"] for h in out["hosts"]} == servers
    for h in out["hosts"]:
        assert h["note"].startswith("never deployed"), h
        assert h["failed"] == 0 and h["changed"] > 0
    assert deployed_lab.bare_touched == []


def test_full_deploy_converges_every_server(first, hosts, lab):
    assert first.ok, (first.error, [(h.host, h.error) for h in first.hosts])
    center, units = hosts
    assert {h.host for h in first.hosts} == {center.name, *(u.name for u in units)}
    assert all(h.changed and h.tasks_changed > 0 for h in first.hosts)
    assert Path(first.artifacts, "job_events").is_dir()
    for h in first.hosts:   # what a later --check relies on
        assert lab.ssh(h.host, "test -f /etc/provision/deployed").returncode == 0, h.host


def test_second_deploy_changes_nothing(deployed_lab, lab, first, hosts):
    # Both engines must see the converged province the same way: Mitogen (the default, which made
    # the first deploy and the session's second one, over every server) and plain Ansible over SSH
    # (the escape hatch; on one unit server, the engine being the point: it is several times slower).
    assert first.engine == "mitogen" and deployed_lab.again.engine == "mitogen"
    again = deployed_lab.again
    assert again.ok and again.changed == 0, [(h.host, h.tasks_changed, h.error) for h in again.hosts]
    unit = hosts[1][0]
    r = run_cli("deploy", "-i", str(lab.inventory_dir), "--json", "--no-mitogen", "--limit", unit.name)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["engine"] == "ansible" and [h["host"] for h in out["hosts"]] == [unit.name]
    assert out["ok"] and out["no_changes"], [(h["host"], h["changed"]) for h in out["hosts"]]
    assert all(h["changed"] is False and h["tasks_changed"] == 0 and h["failed"] == 0 for h in out["hosts"])


def test_check_mode_on_converged_province_reports_no_change(lab, first):
    r = run_cli("deploy", "-i", str(lab.inventory_dir), "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no changes" in r.stdout


def test_check_then_deploy_on_a_server_deployed_before_a_role_gained_a_package(lab, first, hosts):
    """Upgrading the project adds packages to roles (here OpenDKIM and the DKIM key, as on a center
    deployed before DKIM existed). `--check` must report what would change instead of failing on the
    missing user, key and service; the real run then converges and the next one changes nothing."""
    center, units = hosts
    quiet = " >/dev/null 2>&1 </dev/null"
    lab.ssh(center.name, "service opendkim stop" + quiet + "; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "
                         "opendkim" + quiet + " && rm -rf /etc/ssl/provision/dkim /etc/dkimkeys", check=True)
    # the roles that make the key, run the service and publish the key (pki, mail, dns): the rest of the
    # center is unchanged. The zone changes with the new key: every unit server is up to follow it.
    r = run_cli("deploy", "-i", str(lab.inventory_dir), "--check", "--limit", center.name, "--tags", "pki,mail,dns",
                "--json")
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["hosts"][0]["failed"] == 0, r.stdout + r.stderr
    assert out["hosts"][0]["changed"] > 0 and not out["hosts"][0]["note"]
    assert lab.ssh(center.name, "test -e /usr/sbin/opendkim || test -e /etc/ssl/provision/dkim").returncode == 1
    for expect_changes in (True, False):
        r = run_cli("deploy", "-i", str(lab.inventory_dir), "--limit", center.name, "--tags", "pki,mail,dns",
                    "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["no_changes"] is not expect_changes, r.stdout + r.stderr
    assert lab.ssh(center.name, "pgrep -x opendkim && test -s /etc/dkimkeys/mail.private").returncode == 0


def test_secrets_never_reach_the_artifacts(lab, first, hosts):
    raw = secrets._read(lab.inventory_dir)
    values = [v for v in raw.values() if len(v) > 8]
    # nor do the private keys the roles make on the center (server TLS key, DKIM key): a line from
    # the middle of each key's base64 body stands for it
    center, _ = hosts
    for key in (f"/etc/ssl/provision/{center.name}.bentre.gov.vn.key", "/etc/ssl/provision/dkim/mail.key"):
        raw[key] = lab.ssh(center.name, f"cat {key}", check=True).stdout.splitlines()[10]
    deploy_dir = Path(first.artifacts).parent
    for f in deploy_dir.rglob("*"):
        if f.is_file():
            text = f.read_text(errors="replace")
            leaked = [k for k, v in raw.items() if v in text]
            assert not leaked, f"{f} contains {leaked}"
    assert values


def test_mail_reader_binds_with_starttls_and_searches(lab, first, hosts, ca_file):
    center, _ = hosts
    pw = secrets.load_secrets(lab.inventory_dir)["ldap_mail_reader"]
    conn = connect(center, ca_file, f"cn=mail-reader,{SVC}", pw)
    assert conn.bound, conn.result
    assert conn.search(f"ou=Groups,{BASE_DN}", "(objectClass=groupOfNames)", SUBTREE, attributes=["cn"])
    names = {e.cn.value for e in conn.entries}
    for code in load_province(lab.inventory_dir).units:
        assert {f"unit-{code}", f"admins-{code}"} <= names
    # mail-reader is read-only
    conn.modify(f"cn=unit-{code},ou=Groups,{BASE_DN}", {"description": [(MODIFY_REPLACE, ["x"])]})
    assert conn.result["description"] == "insufficientAccessRights"


def test_simple_bind_without_tls_is_refused(lab, first, hosts, ca_file):
    center, _ = hosts
    pw = secrets.load_secrets(lab.inventory_dir)["ldap_mail_reader"]
    conn = connect(center, ca_file, f"cn=mail-reader,{SVC}", pw, tls=False)
    assert not conn.bound
    assert conn.result["description"] == "confidentialityRequired"


def _person(uid: str, unit: str, password: str | None = None) -> dict:
    attrs = {"objectClass": ["inetOrgPerson", "govMailAccount"], "uid": uid, "cn": f"Nguyễn Văn {uid}",
             "sn": "Nguyễn", "givenName": uid, "departmentNumber": unit, "mail": f"{uid}@bentre.gov.vn",
             "mailEnabled": "TRUE", "govAccountState": "active"}
    if password:
        attrs["userPassword"] = secrets.sha512_crypt(password)
    return attrs


@pytest.fixture(scope="module")
def people(lab, first, hosts, ca_file, province):
    """Two officials in two units and the first unit's administrator, written by the provisioner;
    removed again afterwards (the lab is the session's)."""
    center, _ = hosts
    codes = sorted(c for c in province.units if c != province.center.code)
    pw = secrets.load_secrets(lab.inventory_dir)["ldap_provisioner"]
    conn = connect(center, ca_file, f"cn=provisioner,{SVC}", pw)
    assert conn.bound, conn.result
    made = {"a": ("dlannv", codes[0]), "b": ("dlbinhtt", codes[1]), "admin": ("dlquantri", codes[0])}
    for key, (uid, unit) in made.items():
        assert conn.add(f"uid={uid},{PEOPLE}", attributes=_person(uid, unit, "Mật-khẩu-" + uid)), conn.result
    group = f"cn=admins-{codes[0]},ou=Groups,{BASE_DN}"
    admin_dn = f"uid={made['admin'][0]},{PEOPLE}"
    assert conn.modify(group, {"member": [(MODIFY_ADD, [admin_dn])]}), conn.result
    yield {k: (f"uid={uid},{PEOPLE}", "Mật-khẩu-" + uid) for k, (uid, unit) in made.items()}
    conn = connect(center, ca_file, f"cn=provisioner,{SVC}", pw)
    conn.modify(group, {"member": [(MODIFY_DELETE, [admin_dn])]})
    for uid, _ in made.values():
        conn.delete(f"uid={uid},{PEOPLE}")


def test_anonymous_cannot_read_people(lab, hosts, ca_file, people):
    center, _ = hosts
    conn = connect(center, ca_file)
    conn.search(PEOPLE, "(uid=*)", SUBTREE, attributes=["uid", "mail"])
    assert conn.entries == []
    conn.search(BASE_DN, "(uid=dlannv)", SUBTREE, attributes=["*"])
    assert conn.entries == []


def test_unit_admin_writes_only_own_unit(lab, hosts, ca_file, people):
    center, _ = hosts
    dn, pw = people["admin"]
    conn = connect(center, ca_file, dn, pw)
    assert conn.bound, conn.result
    own, other = people["a"][0], people["b"][0]
    assert conn.modify(own, {"title": [(MODIFY_REPLACE, ["Chuyên viên"])]}), conn.result
    assert not conn.modify(other, {"title": [(MODIFY_REPLACE, ["Chuyên viên"])]})
    assert conn.result["description"] == "insufficientAccessRights"
    # identity keys stay with HR (provision accounts): no moving people to another unit
    assert not conn.modify(own, {"departmentNumber": [(MODIFY_REPLACE, ["000.00.02.H09"])]})
    assert conn.result["description"] == "insufficientAccessRights"


def _context_csn(host, ca_file, pw) -> str:
    conn = connect(host, ca_file, f"cn=replicator,{SVC}", pw)
    assert conn.bound, (host.name, conn.result)
    conn.search(BASE_DN, "(objectClass=*)", BASE, attributes=["contextCSN"])
    return conn.entries[0].contextCSN.value


def test_replicas_catch_up_with_the_center(lab, hosts, ca_file, people):
    center, units = hosts
    pw = secrets.load_secrets(lab.inventory_dir)["ldap_replicator"]
    want = _context_csn(center, ca_file, pw)
    deadline = time.monotonic() + 30
    for u in units:
        while (got := _context_csn(u, ca_file, pw)) != want and time.monotonic() < deadline:
            time.sleep(0.5)
        assert got == want, u.name
        # the person written on the center is there, and an official can log in at the unit
        dn, upw = people["a"]
        conn = connect(u, ca_file, dn, upw)
        assert conn.bound, (u.name, conn.result)
        # the replica is read-only: writes are referred to the center
        conn.modify(dn, {"title": [(MODIFY_REPLACE, ["x"])]})
        assert conn.result["description"] == "referral"


def _member_of(host, ca_file, pw, dn) -> set[str]:
    conn = connect(host, ca_file, f"cn=replicator,{SVC}", pw)
    assert conn.bound, (host.name, conn.result)
    assert conn.search(dn, "(objectClass=*)", BASE, attributes=["memberOf"]), (host.name, conn.result)
    return {v.lower() for v in conn.entries[0].entry_attributes_as_dict.get("memberOf", [])}


def test_memberof_is_computed_everywhere_and_a_deploy_brings_it_to_a_directory_without_it(lab, hosts, ca_file,
                                                                                          people, province):
    """memberOf comes from the dynlist overlay on the center and on each replica (no stored value
    replicates it). A directory configured before that (here: the overlay taken out of the center's and a
    replica's cn=config) gets it back from the next `deploy --tags directory`, and the one after changes
    nothing."""
    center, units = hosts
    pw = secrets.load_secrets(lab.inventory_dir)["ldap_replicator"]
    admin_dn = people["admin"][0]
    unit = sorted(c for c in province.units if c != province.center.code)[0]   # as the people fixture
    want = {f"cn=admins-{unit},ou=Groups,{BASE_DN}".lower()}   # the only group the fixture puts him in
    for h in (center, *units):
        deadline = time.monotonic() + 30
        while (got := _member_of(h, ca_file, pw, admin_dn)) != want and time.monotonic() < deadline:
            time.sleep(0.5)  # the replica may not have the group change yet
        assert got == want, (h.name, got)
    old = (center, units[0])
    for h in old:
        lab.ssh(h.name, "ldapdelete -Q -Y EXTERNAL -H ldapi:/// 'olcOverlay={0}dynlist,olcDatabase={1}mdb,cn=config'",
                check=True)
        assert _member_of(h, ca_file, pw, admin_dn) == set(), h.name
    limit = ",".join(h.name for h in old)
    for expect_changes in (True, False):
        r = run_cli("deploy", "-i", str(lab.inventory_dir), "--limit", limit, "--tags", "directory", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["no_changes"] is not expect_changes, r.stdout + r.stderr
    for h in old:
        assert _member_of(h, ca_file, pw, admin_dn) == want, h.name


def test_leaver_cannot_bind_anywhere(lab, hosts, ca_file, people):
    center, units = hosts
    dn, upw = people["b"]
    s = secrets.load_secrets(lab.inventory_dir)
    conn = connect(center, ca_file, f"cn=provisioner,{SVC}", s["ldap_provisioner"])
    assert conn.modify(dn, {"pwdAccountLockedTime": [(MODIFY_REPLACE, ["000001010000Z"])],
                            "mailEnabled": [(MODIFY_REPLACE, ["FALSE"])]}), conn.result
    want = _context_csn(center, ca_file, s["ldap_replicator"])
    for host in (center, *units):
        deadline = time.monotonic() + 30
        while _context_csn(host, ca_file, s["ldap_replicator"]) != want and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not connect(host, ca_file, dn, upw).bound, host.name


def _cert_names(lab, host) -> str:
    return lab.ssh(host.name, f"openssl x509 -noout -ext subjectAltName -in /etc/ssl/provision/{host.name}.bentre.gov.vn.crt",
                   check=True).stdout


def test_certificates_follow_their_names_and_the_ca_key_stays_on_the_center(lab, first, hosts):
    center, units = hosts
    unit = units[0]
    assert "DNS:ldap.bentre.gov.vn" in _cert_names(lab, center) and "DNS:mail.bentre.gov.vn" in _cert_names(lab, center)
    assert f"DNS:{unit.name}.bentre.gov.vn" in _cert_names(lab, unit)
    key = lab.ssh(center.name, "head -1 /etc/ssl/provision-ca/ca.key; stat -c %a /etc/ssl/provision-ca/ca.key",
                  check=True).stdout.split("\n")
    assert key[:2] == ["-----BEGIN ENCRYPTED PRIVATE KEY-----", "600"]
    assert lab.ssh(unit.name, "ls /etc/ssl/provision-ca").returncode != 0, "the CA key never leaves the center"
    # the DKIM key is made on the center, readable by root and (its copy) by OpenDKIM only
    dkim = lab.ssh(center.name, "stat -c '%a %U' /etc/ssl/provision/dkim/mail.key /etc/dkimkeys/mail.private",
                   check=True).stdout.split("\n")
    assert dkim[:2] == ["600 root", "600 opendkim"], dkim
    assert lab.ssh(unit.name, "ls /etc/ssl/provision/dkim /etc/dkimkeys").returncode != 0

    host_vars = lab.inventory_dir / "host_vars"
    host_vars.mkdir(exist_ok=True)
    (host_vars / f"{unit.name}.yml").write_text("pki_extra_names: [hoso.bentre.gov.vn]\n")
    try:
        r = deploy(lab.inventory_dir, limit=unit.name, tags="pki")
        assert r.ok and r.changed > 0, [(h.host, h.error) for h in r.hosts]
        assert "DNS:hoso.bentre.gov.vn" in _cert_names(lab, unit)
    finally:
        (host_vars / f"{unit.name}.yml").unlink()
    r = deploy(lab.inventory_dir, limit=unit.name, tags="pki")
    assert r.ok and r.changed > 0
    assert "hoso" not in _cert_names(lab, unit)
    assert lab.ssh(unit.name, f"openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt "
                              f"/etc/ssl/provision/{unit.name}.bentre.gov.vn.crt").returncode == 0


def test_unreachable_unit_server_fails_only_itself(lab, hosts):
    center, units = hosts
    down = units[-1]
    lab.stop_host(down.name)
    try:
        r = run_cli("deploy", "-i", str(lab.inventory_dir), "--json")
    finally:
        lab.start_host(down.name)
    assert r.returncode == 1, r.stdout + r.stderr
    by_host = {h["host"]: h for h in json.loads(r.stdout)["hosts"]}
    assert by_host[down.name]["unreachable"] > 0
    for h in (center, *units[:-1]):
        assert by_host[h.name]["failed"] == 0 and by_host[h.name]["unreachable"] == 0, by_host[h.name]
        assert by_host[h.name]["ok"] is True and by_host[h.name]["tasks_ok"] > 0


@pytest.mark.parametrize("engine", ["--mitogen", "--no-mitogen"])
def test_changed_host_key_stops_that_host_only(lab, hosts, engine, tmp_path):
    # ansible-runner disables host key checking by default; deploy must not: a server answering with
    # another key (reinstalled, or a man in the middle) is refused, the others still run.
    center, units = hosts
    victim = units[0]
    known = lab.dir / "known_hosts"
    original = known.read_text()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    other_key = " ".join((tmp_path / "k.pub").read_text().split()[:2])
    known.write_text("".join(line.split(" ")[0] + " " + other_key + "\n" if victim.name in line.split(" ")[0].split(",")
                             else line + "\n" for line in original.splitlines()))
    try:
        # fresh SSH control sockets: an open master from an earlier run would skip the key exchange
        r = run_cli("deploy", "-i", str(lab.inventory_dir), "--json", "--tags", "common", engine,
                    env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "cp")})
    finally:
        known.write_text(original)
    assert r.returncode == 1, r.stdout + r.stderr
    by_host = {h["host"]: h for h in json.loads(r.stdout)["hosts"]}
    assert by_host[victim.name]["unreachable"] > 0 and by_host[victim.name]["ok"] is False
    assert by_host[victim.name]["tasks_ok"] == 0
    assert "host key is not the one in known_hosts" in by_host[victim.name]["error"]
    for h in (center, *units[1:]):
        assert by_host[h.name]["unreachable"] == 0 and by_host[h.name]["failed"] == 0, by_host[h.name]


def test_firewall_and_sshd_hardening(lab, hosts):
    center, units = hosts
    out = lab.ssh(center.name, "nft list ruleset; sshd -T", check=True).stdout
    assert "policy drop" in out
    assert "tcp dport { 389, 636 } accept" in out
    assert "permitrootlogin without-password" in out
    assert "passwordauthentication no" in out
