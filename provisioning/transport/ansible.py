"""The one ansible-runner session builder: every Ansible run of the project (deploy's playbook, backup's
ad-hoc commands) is configured here, so they reach hosts the same way.

A session is: the repository as project dir, `ansible.cfg` (ANSIBLE_CONFIG), the ansible-playbook of
this Python's environment first on PATH, no colour, host key checking ON (ansible-runner turns it off
unless told otherwise: a changed or unknown host key must stop the run for that host, as the project's
own SSH sessions do, see transport.ssh), the province's hosts.yml as inventory, and a private data dir
`var/<province>/<job>/<run>/` that keeps the run's artifacts (job events, stdout, command). Optionally
the Mitogen strategy (one persistent interpreter per host; `mitogen_strategies()`).

Host keys: Ansible's ssh connection checks them against the inventory's own options
(`ansible_ssh_common_args`, e.g. the lab's UserKnownHostsFile and StrictHostKeyChecking=yes); Mitogen
adds StrictHostKeyChecking=yes ahead of them. A unit's first-contact opt-out (`ssh_first_contact:
accept-new`) records a new key in that same known_hosts file when the project's SSH sessions (audit,
report, CA fetch) first reach the host; Ansible runs then find it there.

API:
    envvars(mitogen=False) -> dict[str, str]              (BadInput when Mitogen is wanted and missing)
    Session(inventory, job, run=None, mitogen=False)       .private_dir, .artifact_dir, .ident, .envvars,
                                                           .engine ("mitogen" | "ansible"), .inventory_file
        .run(event_handler=None, **ansible_runner_kwargs) -> ansible_runner.Runner
    mitogen_strategies() -> Path | None
    HOST_KEY_SIGNS / explain(msg): OpenSSH's host-key failure said plainly (transport.ssh)
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Callable

from .. import paths
from ..errors import BadInput
from . import ssh

REPO = ssh.REPO
ANSIBLE_CFG = ssh.ANSIBLE_CFG
HOST_KEY_SIGNS = ssh.HOST_KEY_SIGNS
explain = ssh.explain_ssh_failure


def mitogen_strategies() -> Path | None:
    """The installed Mitogen's Ansible strategy plugins (None when Mitogen is not installed)."""
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent / "plugins" / "strategy"


def envvars(mitogen: bool = False) -> dict[str, str]:
    """The environment of every Ansible run of the project."""
    env = {"ANSIBLE_CONFIG": str(ANSIBLE_CFG),
           # ansible-playbook from the same environment as this Python (the venv)
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
           "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1",
           # ansible-runner sets ANSIBLE_HOST_KEY_CHECKING=False unless told otherwise
           "ANSIBLE_HOST_KEY_CHECKING": "True"}
    if mitogen:
        strategies = mitogen_strategies()
        if strategies is None:
            raise BadInput("Mitogen is not installed (pip install mitogen); "
                           "or run with --no-mitogen for plain Ansible over SSH")
        env.update(ANSIBLE_STRATEGY_PLUGINS=str(strategies), ANSIBLE_STRATEGY="mitogen_linear")
    return env


class Session:
    """One ansible-runner run on a province: `var/<province>/<job>/<run>/` holds its artifacts."""

    def __init__(self, inventory: str | Path, job: str, run: str | None = None, mitogen: bool = False,
                 suffix: str = ""):
        self.inventory = Path(inventory)
        self.envvars = envvars(mitogen)   # first: a missing engine is refused before any folder exists
        self.engine = "mitogen" if mitogen else "ansible"
        self.artifact_dir = paths.data_dir(self.inventory, job)
        if run:
            self.ident = run
            self.private_dir = self.artifact_dir / run
        else:   # claimed now: two runs started in the same second get distinct folders
            self.private_dir = paths.new_run_dir(self.inventory, job, suffix)
            self.ident = self.private_dir.name
        self._job = job

    @property
    def inventory_file(self) -> Path:
        hosts = self.inventory / "hosts.yml"
        if not hosts.exists() and (self.inventory / "hosts.yaml").exists():
            hosts = self.inventory / "hosts.yaml"
        return hosts.resolve()

    def prepare(self, exist_ok: bool = True) -> Path:
        """Create the private data dir (exist_ok=False: refuse to reuse another run's folder)."""
        self.private_dir.mkdir(parents=True, exist_ok=exist_ok)
        return self.private_dir

    def run(self, event_handler: Callable[[dict], bool] | None = None, **kwargs: Any):
        """ansible_runner.run() with the session's settings; `kwargs` add the playbook or module."""
        import ansible_runner

        if not self.private_dir.exists():
            self.prepare()
        return ansible_runner.run(
            private_data_dir=str(self.private_dir), project_dir=str(REPO), inventory=str(self.inventory_file),
            envvars=self.envvars, event_handler=event_handler, quiet=True,
            artifact_dir=str(self.artifact_dir), ident=self.ident, **kwargs)
