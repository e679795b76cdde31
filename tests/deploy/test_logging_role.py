"""Role logging's input checks, run by ansible-playbook on this machine: they stop the role before its
first change (nothing is installed or written here)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.deploy.runner import province_vars
from provisioning.model import load_province
from tests.conftest import EXAMPLE, ROOT

BIN = Path(sys.executable).parent
PLAY = "- hosts: localhost\n  connection: local\n  gather_facts: false\n  roles: [logging]\n"


def _run(tmp_path, **extra) -> subprocess.CompletedProcess:
    variables = {**province_vars(load_province(EXAMPLE)), **extra}
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    (tmp_path / "play.yml").write_text(PLAY)
    env = {"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
           "PATH": f"{BIN}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "ANSIBLE_NOCOLOR": "1"}
    # --check: should a check ever let the role go on, nothing is installed or written on this machine
    return subprocess.run([str(BIN / "ansible-playbook"), "--check", "-i", "localhost,", "-e", f"@{tmp_path / 'vars.json'}",
                           str(tmp_path / "play.yml")], capture_output=True, text=True, timeout=300, env=env)


def test_a_retention_below_the_levels_minimum_is_refused(tmp_path):
    r = _run(tmp_path, province_log_retention_min_days=365)     # province.yml compliance.log_retention_days
    assert r.returncode != 0
    assert "logging_retention_days is 180: the level asks for at least 365 days" in r.stdout, r.stdout[-2000:]
    assert "Install rsyslog" not in r.stdout


@pytest.mark.parametrize("percent", [0, 100])
def test_a_threshold_that_is_not_a_percentage_is_refused(tmp_path, percent):
    r = _run(tmp_path, logging_disk_warn_percent=percent)
    assert r.returncode != 0
    assert f"logging_disk_warn_percent is {percent}: give a percentage between 1 and 99" in r.stdout, r.stdout[-2000:]
    assert "Install rsyslog" not in r.stdout
