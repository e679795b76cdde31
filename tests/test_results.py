"""Every job's per-host result speaks the same small protocol (provisioning/results.py): host, ok, changed,
error; and ok is True exactly when error is empty."""
from pathlib import Path

import pytest

from provisioning.results import HostResult, ProgressStep


def _audit(ok: bool):
    from provisioning.audit.grading import AuditHostResult
    if ok:
        return AuditHostResult("ws1", "U1", "workstation", "10.0.0.5", "audited", grade="fail")
    return AuditHostResult("ws1", "U1", "workstation", "10.0.0.5", "unreachable", reason="timed out")


def _deploy(ok: bool):
    from provisioning.deploy.runner import HostStats
    return HostStats("srv1", tasks_ok=40, tasks_changed=3) if ok else \
        HostStats("srv1", tasks_ok=2, unreachable=1, error="Gathering Facts: no route to host")


def _backup(ok: bool):
    from provisioning.backup.ops import BackupHostResult
    return BackupHostResult("srv1", True, changed=True) if ok else BackupHostResult("srv1", False, "unreachable: x")


def _restore(ok: bool):
    from provisioning.backup.ops import RestoreResult
    return RestoreResult("srv1", "latest", True, entries=10) if ok else \
        RestoreResult("srv1", "latest", False, error="no such snapshot")


def _apply(ok: bool):
    from provisioning.accounts.apply import ApplyResult, Failure
    failed = [] if ok else [Failure("create", "NV001", "annv", "connection lost")]
    return ApplyResult({"create": 1}, {"create": 1} if ok else {}, failed, [], host="10.0.0.1")


def _purge(ok: bool):
    from provisioning.accounts.service import PurgeResult
    return PurgeResult("2026-01-01T00:00:00", ["annv"], [] if ok else ["binhtt: busy"], 0, host="10.0.0.1")


def _collected(ok: bool):
    import datetime as dt

    from provisioning.report.collect import Collected
    from provisioning.report.maillog import LogFile
    return Collected("srv1", [LogFile("srv1:/var/log/mail.log", b"", dt.datetime(2026, 12, 1))]) if ok else \
        Collected("srv1", error="srv1 (10.0.0.1:22): timed out")


def _verify(ok: bool):
    from provisioning.verify.run import Check
    return Check("srv1", "U1", "smtp", "25-banner", ok, "" if ok else "refused")


MAKERS = [_audit, _deploy, _backup, _restore, _apply, _purge, _collected, _verify]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("ok", [True, False])
def test_every_per_host_result_satisfies_the_protocol(make, ok):
    r = make(ok)
    assert isinstance(r, HostResult)
    assert isinstance(r.host, str) and r.host
    assert r.ok is ok and isinstance(r.changed, bool) and isinstance(r.error, str)
    assert (r.error == "") is ok, r.error


def test_changed_means_something_changed():
    assert _deploy(True).changed and not _audit(True).changed and not _collected(True).changed
    from provisioning.deploy.runner import HostStats
    assert not HostStats("srv1", tasks_ok=40).changed
    assert _backup(True).changed and _restore(True).changed and not _restore(False).changed
    assert _apply(True).changed and _purge(True).changed


def test_audit_ok_is_audited_whatever_the_grade():
    r = _audit(True)
    assert r.ok and not r.compliant and r.error == ""
    assert _audit(False).error == "timed out"


def test_deploy_json_keeps_the_recap_counts_next_to_the_protocol():
    from provisioning.cli.deploy import _host
    d = _host(_deploy(False))
    assert d["ok"] is False and d["changed"] is False and d["error"].startswith("Gathering Facts")
    assert d["tasks_ok"] == 2 and d["unreachable"] == 1 and d["status"] == "unreachable"


def test_a_host_that_cannot_be_read_does_not_stop_the_collection(tmp_path):
    """report.collect.from_hosts: one result per host; an unreachable one is data, not an exception."""
    from provisioning.model import Host, HostRole
    from provisioning.report.collect import from_hosts
    dead = Host(name="dead", address="127.0.0.1", port=1, unit="U1", role=HostRole.server, groups=["center_servers"],
                key_file=Path(tmp_path / "none"))
    [r] = from_hosts(None, [dead], timeout=2)
    assert r.host == "dead" and not r.ok and "dead" in r.error and r.files == []


def test_progress_steps_are_plain_values():
    s = ProgressStep("audit", done=3, total=10, item="ws1")
    assert (s.job, s.phase, s.done, s.total, s.item, s.result) == ("audit", "", 3, 10, "ws1", None)
