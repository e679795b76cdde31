"""The `applied_config` module (plugins/modules/applied_config.py) run as Ansible runs it: a Python
process reading its arguments from a JSON file, on real files with real modification times."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

MODULE = ROOT / "plugins" / "modules" / "applied_config.py"


def run(tmp_path, **args) -> dict:
    spec = tmp_path / "args.json"
    spec.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"record_dir": str(tmp_path / "applied"), **args}}))
    r = subprocess.run([sys.executable, str(MODULE), str(spec)], capture_output=True, text=True, timeout=60)
    out = json.loads(r.stdout)
    assert r.returncode == (1 if out.get("failed") else 0), r.stderr
    return out


def age(path, seconds: int) -> None:
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 1_000_000_000))


def test_a_change_after_the_last_restart_is_pending_until_recorded(tmp_path):
    conf = tmp_path / "dovecot.conf"
    conf.write_text("protocols = imap\n")
    # never recorded (a server deployed before the record existed): restart once
    assert run(tmp_path, service="dovecot", paths=[str(conf)])["changed"] is True
    out = run(tmp_path, service="dovecot", state="recorded")
    assert out["changed"] is False and (tmp_path / "applied" / "dovecot").is_file()
    out = run(tmp_path, service="dovecot", paths=[str(conf)])
    assert out["changed"] is False and out["pending"] == []
    # the deploy writes the file again and stops before the handler: pending, and stays pending
    age(tmp_path / "applied" / "dovecot", 5)
    conf.write_text("protocols = imap lmtp\n")
    for _ in range(2):
        out = run(tmp_path, service="dovecot", paths=[str(conf)])
        assert out["changed"] is True and out["pending"] == [str(conf)]
    run(tmp_path, service="dovecot", state="recorded")
    assert run(tmp_path, service="dovecot", paths=[str(conf)])["changed"] is False


def test_globs_and_missing_files(tmp_path):
    (tmp_path / "ldap").mkdir()
    for name in ("a.cf", "b.cf"):
        (tmp_path / "ldap" / name).write_text("x\n")
    run(tmp_path, service="postfix", state="recorded")
    age(tmp_path / "applied" / "postfix", 5)
    age(tmp_path / "ldap" / "a.cf", 10)
    out = run(tmp_path, service="postfix", paths=[str(tmp_path / "ldap" / "*.cf"), str(tmp_path / "absent.cf")])
    assert out["changed"] is True and out["pending"] == [str(tmp_path / "ldap" / "b.cf")]
    # a service whose files do not exist yet (package not installed) has nothing pending
    assert run(tmp_path, service="named", paths=[str(tmp_path / "nothing.conf")])["changed"] is False


def test_check_mode_records_nothing_and_a_path_as_service_is_refused(tmp_path):
    out = run(tmp_path, service="slapd", state="recorded", _ansible_check_mode=True)
    assert out["changed"] is False and not (tmp_path / "applied" / "slapd").exists()
    out = run(tmp_path, service="../etc/passwd", state="recorded")
    assert out.get("failed") and "not a plain name" in out["msg"]


def test_ansible_cfg_points_at_the_module_folder():
    assert "library = plugins/modules" in (ROOT / "ansible.cfg").read_text()


def _load(path):
    import yaml
    return yaml.safe_load(path.read_text()) or [] if path.is_file() else []


def _topics(handler: dict) -> set[str]:
    listen = handler.get("listen", handler.get("name"))
    return set(listen if isinstance(listen, list) else [listen])


def test_every_service_handler_of_every_role_is_recorded_and_checked():
    """A role whose handler restarts or reloads a service records it (applied_config state=recorded,
    listening to the same notification) and checks the record in its tasks (same service name): a
    deploy stopped between a configuration change and its handler converges at the next run."""
    problems = []
    for handlers_file in sorted((ROOT / "roles").glob("*/handlers/main.yml")):
        role = handlers_file.parent.parent
        handlers = _load(handlers_file)
        service_topics: set[str] = set()
        recorded: dict[str, set[str]] = {}
        for h in handlers:
            svc = h.get("ansible.builtin.service")
            if svc and svc.get("state") in ("restarted", "reloaded", "started", "stopped"):
                service_topics |= _topics(h)
            rec = h.get("applied_config")
            if rec and rec.get("state") == "recorded":
                recorded.setdefault(rec["service"], set()).update(_topics(h))
        covered = set().union(*recorded.values()) if recorded else set()
        for topic in sorted(service_topics - covered):
            problems.append(f"{role.name}: handler {topic!r} restarts a service without a record")
        checked = set()
        for tasks_file in (role / "tasks").glob("*.yml"):
            for task in _load(tasks_file):
                chk = task.get("applied_config")
                if chk and chk.get("state", "checked") == "checked":
                    checked.add(chk["service"])
        for service in sorted(set(recorded) - checked):
            problems.append(f"{role.name}: {service!r} is recorded but never checked in its tasks")
    assert not problems, "\n".join(problems)
