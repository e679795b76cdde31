"""One host-key policy for every SSH session (provisioning.transport.ssh), against a real sshd on loopback:
a known key is used, an unknown or changed key is refused before anything is sent, and the per-unit
first-contact opt-out accepts and records an unknown key but never a changed one."""
from __future__ import annotations

import subprocess

import pytest

from fixtures.sshd import A, UNKNOWN, write_inventory
from provisioning.errors import HostKeyError, OperationFailed
from provisioning.model import load_province
from provisioning.transport import ssh


def _province(tmp_path, sshd, **kw):
    return load_province(write_inventory(tmp_path / "inv", sshd, **kw))


def test_known_key_opens_a_session_and_runs_a_command(sshd, tmp_path):
    p = _province(tmp_path, sshd)
    with ssh.open_session(p, p.hosts["c-srv01"]) as s:
        rc, out, _ = s.run("echo hello; cat", stdin="from stdin")
        assert (rc, out) == (0, b"hello\nfrom stdin")
        assert s.first_contact is False
        assert s.read_file(str(sshd.dir / "host.pub")).decode().split()[1] == sshd.host_pub.split()[1]


def test_unknown_key_is_refused_naming_the_host_and_the_way_out(sshd, tmp_path):
    p = _province(tmp_path, sshd)
    before = (p.inventory_dir / "known_hosts").read_text()
    with pytest.raises(HostKeyError) as e:
        ssh.open_session(p, p.hosts["a-srv01"])
    assert isinstance(e.value, OperationFailed) and e.value.kind == "unknown" and e.value.host == "a-srv01"
    msg = str(e.value)
    assert "a-srv01" in msg and f"[{UNKNOWN}]:{sshd.port}" in msg and "ssh_first_contact: accept-new" in msg
    assert (p.inventory_dir / "known_hosts").read_text() == before     # nothing recorded


def test_changed_key_is_refused(sshd, tmp_path):
    p = _province(tmp_path, sshd)
    with pytest.raises(HostKeyError) as e:
        ssh.open_session(p, p.hosts["a-srv02"])
    assert e.value.kind == "changed" and "CHANGED" in str(e.value) and "a-srv02" in str(e.value)


def test_first_contact_opt_out_accepts_and_records_but_refuses_a_changed_key(sshd, tmp_path):
    p = _province(tmp_path, sshd, first_contact={A: "accept-new"})
    pol = ssh.policy(p, p.hosts["a-srv01"])
    assert pol.accept_new and "ssh_first_contact" in pol.why
    with ssh.open_session(p, p.hosts["a-srv01"]) as s:
        assert s.first_contact is True and s.run("true")[0] == 0
    assert sshd.known_line(UNKNOWN) in (p.inventory_dir / "known_hosts").read_text()
    with ssh.open_session(p, p.hosts["a-srv01"]) as s:       # now known: an ordinary contact
        assert s.first_contact is False
    with pytest.raises(HostKeyError) as e:                      # same unit, changed key: never accepted
        ssh.open_session(p, p.hosts["a-srv02"])
    assert e.value.kind == "changed"
    # the center's unit did not opt out
    assert not ssh.policy(p, p.hosts["c-srv01"]).accept_new


def test_strict_host_key_checking_no_in_the_inventory_still_refuses_a_changed_key(sshd, tmp_path):
    p = _province(tmp_path, sshd, strict="no")
    with pytest.raises(HostKeyError):
        ssh.open_session(p, p.hosts["a-srv02"])
    with ssh.open_session(p, p.hosts["a-srv01"]) as s:
        assert s.first_contact is True


def test_bad_first_contact_value_is_an_inventory_error(sshd, tmp_path):
    from provisioning.model import InventoryError
    with pytest.raises(InventoryError) as e:
        _province(tmp_path, sshd, first_contact={A: "yes"})
    assert "ssh_first_contact" in str(e.value) and A in str(e.value)


def _run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def test_ssh_argv_follows_the_same_policy(sshd, tmp_path):
    p = _province(tmp_path, sshd)
    argv = ssh.ssh_argv(p, p.hosts["c-srv01"], "echo", "a b")
    assert argv[0] == "ssh" and argv[-1] == "echo 'a b'"
    r = _run(argv)
    assert (r.returncode, r.stdout) == (0, "a b\n")
    for name in ("a-srv01", "a-srv02"):
        r = _run(ssh.ssh_argv(p, p.hosts[name], "touch /tmp/provision-must-not-exist"))
        assert r.returncode == 255 and ssh.is_host_key_failure(r.stderr), r.stderr
    # the policy's options come before the inventory's: an inventory saying "no" cannot loosen them
    p2 = _province(tmp_path / "2", sshd, strict="no")
    r = _run(ssh.ssh_argv(p2, p2.hosts["a-srv02"], "true"))
    assert r.returncode == 255 and ssh.is_host_key_failure(r.stderr)


def test_ssh_argv_first_contact_records_the_key(sshd, tmp_path):
    p = _province(tmp_path, sshd, first_contact={A: "accept-new"})
    r = _run(ssh.ssh_argv(p, p.hosts["a-srv01"], "true"))
    assert r.returncode == 0, r.stderr
    # recorded (OpenSSH may hash the name): the paramiko side now knows it without the opt-out
    p_strict = load_province(write_inventory(tmp_path / "strict", sshd))
    (p_strict.inventory_dir / "known_hosts").write_text((p.inventory_dir / "known_hosts").read_text())
    with ssh.open_session(p_strict, p_strict.hosts["a-srv01"]) as s:
        assert s.first_contact is False
    r = _run(ssh.ssh_argv(p, p.hosts["a-srv02"], "true"))
    assert r.returncode == 255 and ssh.is_host_key_failure(r.stderr)


def test_host_key_problem_diagnoses_without_logging_in_or_recording(sshd, tmp_path):
    p = _province(tmp_path, sshd)
    before = (p.inventory_dir / "known_hosts").read_text()
    assert ssh.host_key_problem(p, p.hosts["c-srv01"]) is None
    assert ssh.host_key_problem(p, p.hosts["a-srv01"]).kind == "unknown"
    assert ssh.host_key_problem(p, p.hosts["a-srv02"]).kind == "changed"
    p2 = _province(tmp_path / "2", sshd, first_contact={A: "accept-new"})
    assert ssh.host_key_problem(p2, p2.hosts["a-srv01"]) is None
    assert ssh.host_key_problem(p2, p2.hosts["a-srv02"]).kind == "changed"
    assert (p.inventory_dir / "known_hosts").read_text() == before
    assert UNKNOWN not in (p2.inventory_dir / "known_hosts").read_text()
