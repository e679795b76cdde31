"""Every command that reaches hosts follows the one host-key policy: an unknown or changed key stops the
report's log collection, backup and the provincial CA fetch for THAT host only, against a real sshd on
loopback playing three hosts (c-srv01 known, a-srv01 unknown, a-srv02 changed)."""
from __future__ import annotations

import re
import subprocess

import pytest

from fixtures.sshd import A, write_inventory
from provisioning.backup import ops as backup
from provisioning.errors import HostKeyError, OperationFailed
from provisioning.model import load_province
from provisioning.report import monthly
from provisioning.report.period import Month
from provisioning.transport import ca

# Ansible's explained OpenSSH banner, or (when Ansible lost it to a broken pipe) transport.ssh's diagnosis
REFUSED = re.compile(r"host key is not the one in known_hosts|SSH host key (unknown|CHANGED)")


def test_report_collects_logs_from_the_known_host_only(sshd, tmp_path, monkeypatch):
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "dovecot.log").write_text("Nov 20 08:01:02 imap-login: Info: Login: user=<a1>, method=PLAIN, "
                                      "rip=10.31.1.20, lip=10.31.0.10, mpid=101, TLS, session=<abc>\n")
    inv = write_inventory(tmp_path / "inv", sshd, report={"mail_hosts": ["c-srv01", "a-srv01", "a-srv02"],
                                                           "mail_logs": [str(logs / "dovecot.log*")]})
    g = monthly.gather(load_province(inv), Month.parse("2026-11"))
    assert g.sources["mail_logs"] == [f"c-srv01:{logs / 'dovecot.log'}"]
    failed = " | ".join(g.failed)
    assert len(g.failed) == 2 and "a-srv01" in failed and "unknown" in failed and "a-srv02" in failed \
        and "CHANGED" in failed, failed
    assert "Traceback" not in failed


def test_backup_stops_at_a_refused_key_and_reaches_the_known_host(sshd, tmp_path, monkeypatch):
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    inv = write_inventory(tmp_path / "inv", sshd)
    by = {r.host: r for r in backup.list_snapshots(inv)}
    # the known host was reached (the command ran there and failed: this machine has no backup role)
    assert not by["c-srv01"].ok and not by["c-srv01"].error.startswith("unreachable"), by["c-srv01"].error
    for name in ("a-srv01", "a-srv02"):
        assert not by[name].ok and by[name].error.startswith("unreachable") and REFUSED.search(by[name].error), \
            by[name].error
    assert "provision-backup" not in by["a-srv01"].error + by["a-srv02"].error   # nothing ran there


def test_backup_first_contact_goes_through_the_audit(sshd, tmp_path, monkeypatch):
    """Ansible (backup, deploy) reads the same known_hosts: once a first contact under the unit's opt-out
    recorded a key, the backup reaches that host; a changed key stays refused."""
    from provisioning.transport import ssh
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    inv = write_inventory(tmp_path / "inv", sshd, first_contact={A: "accept-new"})
    p = load_province(inv)
    with ssh.open_session(p, p.hosts["a-srv01"]) as s:
        assert s.first_contact
    by = {r.host: r for r in backup.list_snapshots(inv)}
    assert not by["a-srv01"].error.startswith("unreachable"), by["a-srv01"].error
    assert REFUSED.search(by["a-srv02"].error), by["a-srv02"].error


def _ca(path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-subj", f"/CN={path.stem}",
                    "-days", "30", "-keyout", str(path.with_suffix(".key")), "-out", str(path)],
                   check=True, capture_output=True)
    return path.read_text()


def test_provincial_ca_is_read_from_the_center_and_kept_in_one_place(sshd, tmp_path, monkeypatch):
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    on_server = tmp_path / "provision-ca.crt"
    pem = _ca(on_server)
    monkeypatch.setattr(ca, "CA_ON_SERVERS", str(on_server))
    p = load_province(write_inventory(tmp_path / "inv", sshd))
    kept = ca.cache_path(p.inventory_dir)
    assert kept == tmp_path / "var" / "inv" / "ca.crt"
    kept.write_text(_ca(tmp_path / "old.crt"))          # a stale copy (rebuilt center, renewed CA)
    got = ca.fetch(p)
    assert (got.pem, got.problem, got.path) == (pem, "", kept) and kept.read_text() == pem
    assert ca.provincial_ca(p) == pem and ca.ca_file(p) == kept

    # the center's key changes: the kept copy is used and the result says why; without one, the error
    known = p.inventory_dir / "known_hosts"
    known.write_text(known.read_text().replace(sshd.host_pub, sshd.other_pub))
    got = ca.fetch(p)
    assert got.pem == pem and "c-srv01" in got.problem and "CHANGED" in got.problem
    kept.unlink()
    with pytest.raises(HostKeyError):
        ca.provincial_ca(p)
    assert not kept.exists()


def test_a_file_that_is_not_a_certificate_is_refused(sshd, tmp_path, monkeypatch):
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    bad = tmp_path / "ca.crt"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    monkeypatch.setattr(ca, "CA_ON_SERVERS", str(bad))
    p = load_province(write_inventory(tmp_path / "inv", sshd))
    with pytest.raises(OperationFailed, match="c-srv01.*not a usable CA certificate"):
        ca.provincial_ca(p)
    monkeypatch.setattr(ca, "CA_ON_SERVERS", str(tmp_path / "missing.crt"))
    with pytest.raises(OperationFailed, match="c-srv01: no .*missing.crt"):
        ca.provincial_ca(p)
