"""The report against the lab: the deployed directory (slapd with StartTLS, the contract's ACLs), log
collection over the lab hosts' real sshd, and an unreachable mail server. Lab `rep`; about 90 s."""
from __future__ import annotations

import json

import pytest

from provisioning.secrets import load_secrets
from provisioning.lab import Lab

from reportdata import run_cli

pytestmark = pytest.mark.lab
NAME, CENTER, UNIT = "rep", "tthdl-srv01", "000.00.01.H09"
BASE = "dc=bentre,dc=gov,dc=vn"

PEOPLE = "\n".join(f"""dn: uid={uid},ou=People,{BASE}
objectClass: inetOrgPerson
objectClass: govMailAccount
uid: {uid}
cn: {cn}
sn: {cn.split()[0]}
employeeNumber: {hr}
departmentNumber: {UNIT}
mail: {uid}@bentre.gov.vn
mailEnabled: {enabled}
govAccountState: {state}
""" for uid, cn, hr, enabled, state in (("annv", "Nguyễn Văn An", "VP001", "TRUE", "active"),
                                       ("binhtt", "Trần Thị Bình", "VP002", "TRUE", "active"),
                                       ("cuonglv", "Lê Văn Cường", "VP003", "FALSE", "disabled")))


@pytest.fixture(scope="module")
def lab():
    lab = Lab(NAME)
    lab.down()            # a fresh directory: the figures below count every entry
    lab.up(units=2, workstations=1, switches=0)
    r = run_cli("deploy", "-i", str(lab.inventory_dir), "--limit", CENTER, "--tags", "common,pki,directory")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    yield lab
    lab.down()


def test_report_reads_the_deployed_directory_and_the_center_logs(lab):
    inv = str(lab.inventory_dir)
    pw = load_secrets(inv)["ldap_admin"]
    # the admin password travels on stdin, never in a command line
    lab.ssh(CENTER, f"umask 077; cat > /root/.adm; ldapadd -c -x -H ldapi:/// -D cn=admin,{BASE} -y /root/.adm "
                    "-f /dev/fd/3 3<<'EOF'\n" + PEOPLE + "\nEOF\nrc=$?; rm -f /root/.adm; exit $rc", input=pw)
    ws = lab.host("vpubnd-ws01").ip
    lines = (f"Nov 20 08:00:00 imap-login: Info: Login: user=<annv>, method=PLAIN, rip={ws}, lip=x, mpid=1\n"
             f"Nov 21 08:00:00 imap-login: Info: Login: user=<cuonglv>, method=PLAIN, rip={ws}, lip=x, mpid=2\n")
    old = "Nov  3 09:00:00 imap-login: Info: Login: user=<binhtt>, method=PLAIN, rip=198.51.100.7, lip=x, mpid=3\n"
    lab.ssh(CENTER, f"printf '%s' '{lines}' > /var/log/dovecot.log && printf '%s' '{old}' | gzip > "
                    "/var/log/dovecot.log.1.gz && touch -d 2026-11-30 /var/log/dovecot.log && "
                    "touch -d 2026-11-04 /var/log/dovecot.log.1.gz", check=True)
    r = run_cli("report", "monthly", "--month", "2026-11", "-i", inv, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    unit = next(u for u in data["units"] if u["code"] == UNIT)
    assert (unit["accounts"], unit["mailboxes"]) == (2, 2)          # cuonglv is a leaver
    assert (unit["mail_users"], unit["mail_users_wan"], unit["mail_users_internet"]) == (2, 1, 1)
    assert unit["mail_use_ratio"] == 1.0 and data["sources"]["directory"] == "ldap"
    assert sorted(data["sources"]["mail_logs"]) == [f"{CENTER}:/var/log/dovecot.log",
                                                    f"{CENTER}:/var/log/dovecot.log.1.gz"]
    assert pw not in r.stdout + r.stderr


def test_unreachable_center_is_reported_and_exits_1(lab, tmp_path):
    lab.stop_host(CENTER)
    try:
        r = run_cli("report", "monthly", "--month", "2026-11", "-i", str(lab.inventory_dir), "--out", str(tmp_path))
    finally:
        lab.start_host(CENTER)
    assert r.returncode == 1 and CENTER in r.stderr and "not collected" in r.stderr
    assert (tmp_path / "report.pdf").is_file()
