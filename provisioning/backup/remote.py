"""Run one command on inventory hosts through Ansible (ad-hoc `command` module via ansible-runner).

Going through Ansible rather than plain ssh keeps whatever connection settings the inventory has
(keys, users, jump hosts, known_hosts), exactly as `provision deploy` uses them: the same session
builder (provisioning.transport.ansible), host keys checked. Each call keeps its artifacts in
`var/<inventory>/<job>/<run>/`.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from ..model import load_province
from ..transport import ansible, ssh


@dataclass
class Reply:
    host: str
    rc: int | None         # None: unreachable
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.rc == 0


def run(inventory: str | Path, hosts: list[str], argv: list[str], job: str) -> dict[str, Reply]:
    """Run `argv` (no shell) on `hosts`; one Reply per host (rc None when unreachable; a refused host key
    is said plainly)."""
    replies = {h: Reply(h, None, stderr="no answer") for h in hosts}

    def on_event(event: dict) -> bool:
        data = event.get("event_data", {})
        host, res = data.get("host"), data.get("res") or {}
        if host in replies and event.get("event") in ("runner_on_ok", "runner_on_failed"):
            replies[host] = Reply(host, int(res.get("rc", 1)), res.get("stdout", ""),
                                  res.get("stderr", "") or str(res.get("msg", "")))
        elif host in replies and event.get("event") == "runner_on_unreachable":
            replies[host] = Reply(host, None, stderr=ansible.explain(str(res.get("msg", "unreachable"))))
        return True

    ansible.Session(inventory, job).run(
        event_handler=on_event, host_pattern=",".join(hosts), module="ansible.builtin.command",
        module_args=shlex.join(argv))
    lost = [r for r in replies.values() if r.rc is None and "host key" not in r.stderr]
    if lost:   # Ansible may say "broken pipe" when ssh stopped at the host key: ask the key itself
        province = load_province(inventory)
        for r in lost:
            problem = ssh.host_key_problem(province, province.hosts[r.host]) if r.host in province.hosts else None
            if problem:
                r.stderr = str(problem)
    return replies
