"""The host hardening baseline (role hardening) on the deployed lab province, checked as an auditor or
an attacker would meet it: AIDE notices a changed file in /etc, ClamAV refuses the EICAR test file
by mail (SMTP to the center) and on a unit file share (smbclient), sshd shows the legal banner and
refuses TCP forwarding, and what the lab's shared kernel refuses (auditd, kernel-wide sysctls) is
detected and reported rather than assumed.

Each test leaves the province as it found it (the official it creates is removed at the end)."""
from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
import subprocess
import tempfile
import time
import unicodedata
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from ldap3 import MODIFY_ADD, MODIFY_DELETE

from provisioning import paths, smb
from provisioning import secrets
from provisioning.verify.probes import smbclient
from tests.deploy.labkit import SMTP, ldap, wait_replicas

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ZONE = DOMAIN = "bentre.gov.vn"
BASE_DN = "dc=bentre,dc=gov,dc=vn"
PEOPLE = f"ou=People,{BASE_DN}"
GROUPS = f"ou=Groups,{BASE_DN}"
SHARE = "tailieu"          # the fileshare role's default share, as deployed on the lab
SHARE_DIR = "/srv/samba/tailieu"
# The EICAR anti-virus test file (harmless, detected by every scanner); kept split so that no scanner
# on this machine flags the test module itself.
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture(scope="module")
def official(deployed_lab, ca_pem):
    """An official of the first unit with a file-share account (as the accounts code writes it)."""
    s = secrets.load_secrets(deployed_lab.inventory)
    conn = ldap(deployed_lab.center.address, ca_pem, f"cn=provisioner,ou=Services,{BASE_DN}",
                 s["ldap_provisioner"], f"ldap.{ZONE}")
    server = deployed_lab.units[0]
    uid, password = f"lanhtt{int(time.time()) % 10000}", "Quet-virus-2026!"
    dn, group = f"uid={uid},{PEOPLE}", f"cn=unit-{server.unit},{GROUPS}"
    samba = smb.samba_attributes(BASE_DN, uid, password)
    assert conn.add(dn, ["inetOrgPerson", "govMailAccount", *samba.pop("objectClass")], {
        "uid": uid, "cn": unicodedata.normalize("NFC", "Trần Thị Lành"), "sn": "Trần", "givenName": "Lành",
        "departmentNumber": server.unit, "mail": f"{uid}@{DOMAIN}", "mailEnabled": "TRUE", "mailQuotaMB": "20",
        "mailHomeDirectory": f"/var/vmail/{DOMAIN}/{uid}", "govAccountState": "active",
        "userPassword": secrets.sha512_crypt(password), **samba}), conn.result
    assert conn.modify(group, {"member": [(MODIFY_ADD, [dn])]}), conn.result
    wait_replicas(deployed_lab, ca_pem, s, group, True, f"(member={dn})", units=[server])
    deployed_lab.lab.ssh(server.name, "/usr/local/sbin/provision-smb-sync", check=True)
    yield SimpleNamespace(uid=uid, password=password, dn=dn, server=server)
    conn.modify(group, {"member": [(MODIFY_DELETE, [dn])]})
    conn.delete(dn)
    conn.unbind()
    wait_replicas(deployed_lab, ca_pem, s, group, False, f"(member={dn})", units=[server])
    deployed_lab.lab.ssh(server.name, "/usr/local/sbin/provision-smb-sync", check=True)


# ------------------------------------------------------------------------------------------------ AIDE

def test_aide_notices_a_changed_file_in_etc(deployed_lab):
    """Other modules change the shared lab's servers (accounts, packages): the test first accepts the
    server as it is now, as an administrator would after a deploy (`aide --init`), and puts the deployed
    database back at the end (its copy on the control machine is compared below)."""
    lab, host = deployed_lab.lab, deployed_lab.units[0].name
    lab.ssh(host, "cp -p /var/lib/aide/aide.db /var/lib/aide/aide.db.deployed && "
                  "aide --config /etc/aide/aide.conf --init >/dev/null && "
                  "mv /var/lib/aide/aide.db.new /var/lib/aide/aide.db", check=True, timeout=600)
    before = lab.ssh(host, "cat /etc/issue.net", check=True).stdout
    try:
        clean = lab.ssh(host, "/usr/local/sbin/provision-aide-check", timeout=600)
        assert clean.returncode == 0, lab.ssh(host, "cat /var/log/aide/check-*.log").stdout[-2000:]
        lab.ssh(host, "echo 'Đã bị sửa' >>/etc/issue.net", check=True)
        changed = lab.ssh(host, "/usr/local/sbin/provision-aide-check", timeout=600)
        report = lab.ssh(host, "cat /var/log/aide/check-$(date +%Y-%m-%d).log", check=True).stdout
        assert 0 < changed.returncode < 14, report[-2000:]
        assert "/etc/issue.net" in report
    finally:
        lab.ssh(host, f"printf %s {_sh_quote(before)} >/etc/issue.net", check=True)
        lab.ssh(host, "mv /var/lib/aide/aide.db.deployed /var/lib/aide/aide.db", check=True)


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def test_aide_database_copy_is_kept_on_the_control_machine(deployed_lab):
    copies = paths.data_dir(deployed_lab.inventory) / "aide"
    for host in [deployed_lab.center, *deployed_lab.units]:
        copy = copies / host.name / "aide.db"
        assert copy.is_file(), copy
        on_host = deployed_lab.lab.ssh(host.name, "sha256sum /var/lib/aide/aide.db", check=True).stdout.split()[0]
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == on_host, host.name


# ---------------------------------------------------------------------------------------------- ClamAV

def test_mail_carrying_the_eicar_file_is_refused(deployed_lab, ca_pem):
    msg = EmailMessage()
    msg["From"] = "vanthu@so-ngoai.example.vn"
    msg["To"] = f"postmaster@{DOMAIN}"
    msg["Subject"] = "Hồ sơ đính kèm"
    msg.set_content("Kính gửi: văn bản đính kèm.\n")
    msg.add_attachment(EICAR.encode(), maintype="application", subtype="octet-stream", filename="hoso.com")
    with SMTP(deployed_lab.center.address, 25) as s:
        s.ehlo()
        s.starttls(context=ssl.create_default_context(cadata=ca_pem))
        s.ehlo()
        with pytest.raises(smtplib.SMTPDataError) as refused:
            s.send_message(msg)
    assert refused.value.smtp_code == 550, refused.value
    log = deployed_lab.lab.ssh(deployed_lab.center.name, "cat /var/log/clamav/clamav.log", check=True).stdout
    assert any("Provision.Test.EICAR-1" in line and line.endswith("FOUND") for line in log.splitlines()), log[-2000:]
    # the same message without the test file goes through: the milter refused the content, not the mail
    clean = EmailMessage()
    for h in ("From", "To", "Subject"):
        clean[h] = msg[h]
    clean.set_content("Kính gửi: văn bản đính kèm.\n")
    with SMTP(deployed_lab.center.address, 25) as s:
        s.ehlo()
        s.starttls(context=ssl.create_default_context(cadata=ca_pem))
        s.ehlo()
        assert s.send_message(clean) == {}


def test_eicar_file_never_stays_on_a_file_share(deployed_lab, official):
    lab = deployed_lab.lab
    with tempfile.TemporaryDirectory() as tmp:
        bad, good, back = (os.path.join(tmp, n) for n in ("bad.com", "good.txt", "back"))
        with open(bad, "w") as fh:
            fh.write(EICAR)
        with open(good, "w") as fh:
            fh.write("Báo cáo tháng 12\n")
        r = smbclient(official.server.address, SHARE, official.uid, official.password, f'put "{bad}" virus.com', 5)
        g = smbclient(official.server.address, SHARE, official.uid, official.password, f'get virus.com "{back}"', 5)
        assert g.returncode != 0 and not os.path.exists(back), (r.stdout + r.stderr, g.stdout + g.stderr)
        assert lab.ssh(official.server.name, f"test -e {SHARE_DIR}/virus.com").returncode == 1
        # a clean file is stored and read back through the same scanner
        r = smbclient(official.server.address, SHARE, official.uid, official.password,
                      f'put "{good}" sach.txt; get sach.txt "{back}"; del sach.txt', 5)
        assert r.returncode == 0 and open(back).read() == "Báo cáo tháng 12\n", r.stdout + r.stderr
    # clamd found it (its log names the province's signature)
    log = lab.ssh(official.server.name, "cat /var/log/clamav/clamav.log", check=True).stdout
    assert any("virus.com" in line and "Provision.Test.EICAR-1" in line and line.endswith("FOUND")
               for line in log.splitlines()), log[-2000:]


# ------------------------------------------------------------------------------------------- SSH, kernel

def test_sshd_shows_the_vietnamese_banner_and_refuses_forwarding(deployed_lab):
    lab, host = deployed_lab.lab, deployed_lab.center.name
    ssh = lab.ssh_args(host)
    r = subprocess.run([ssh[0], "-o", "LogLevel=INFO", *ssh[1:], "true"], capture_output=True, timeout=60)
    assert "CẢNH BÁO" in r.stderr.decode("utf-8", "replace"), r.stderr
    cfg = lab.ssh(host, "sshd -T", check=True).stdout
    for line in ("allowtcpforwarding no", "loglevel VERBOSE", "compression no", "permitrootlogin without-password",
                 "passwordauthentication no", "banner /etc/issue.net"):
        assert line in cfg, line
    # a forwarding request on a real connection is refused by the server
    r = subprocess.run(lab.ssh_args(host) + ["-o", "ExitOnForwardFailure=yes", "-L", "127.0.0.1:0:127.0.0.1:389",
                                             "true"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0, r.stderr


def test_what_the_shared_kernel_refuses_is_detected_and_reported(deployed_lab):
    """Lab hosts share the machine's kernel: auditd cannot talk to it and kernel-wide sysctls are the
    machine's. The role must find that out on the host (not be told), and still set what it can."""
    lab, host = deployed_lab.lab, deployed_lab.units[0].name
    fact = lab.ssh(host, "cat /etc/ansible/facts.d/hardening.fact", check=True).stdout
    audit_allowed = lab.ssh(host, "auditctl -s").returncode == 0
    assert f'"audit_kernel": {"true" if audit_allowed else "false"}' in fact
    assert lab.ssh(host, "test -s /etc/audit/rules.d/50-provision.rules").returncode == 0
    out = lab.ssh(host, "/usr/local/sbin/provision-sysctl-apply /etc/sysctl.d/90-provision-hardening.conf",
                  check=True).stdout
    assert "changed" not in out   # converged by the deploy
    assert lab.ssh(host, "cat /proc/sys/net/ipv4/conf/all/accept_redirects", check=True).stdout.strip() == "0"
    assert "skipped kernel.kptr_restrict (shared kernel)" in out
