"""One deployed lab province for the whole test session (building and converging it is the expensive
part): a fresh lab `tdl` (center + 2 unit servers), `provision deploy --check` on the bare hosts, then
`provision deploy` twice (the second must change nothing). Modules that need a
converged province use `deployed_lab`; each must leave the services running as it found them.
$PROVISION_TEST_LAB names the lab instead (two sessions on one machine must not share a lab).

The province runs two Debian releases, as a province upgrading its servers one by one does: the
center on 13, the first unit server on 12, the second on 13 (`provision lab up --debian mixed`), so
every module that uses it checks the roles on both releases at no extra cost.
$PROVISION_TEST_DEBIAN (12, 13 or mixed) builds a single-release province instead.
PROVISION_TEST_KEEP_LAB=1 leaves the lab up at the end (to look into a failure; `provision lab down -n NAME`)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from provisioning.deploy.runner import DeployResult, deploy
from provisioning.lab import Lab
from provisioning.model import Host, Province, load_province
from tests.conftest import run_cli
from tests.deploy.labkit import read_ca

LAB = os.environ.get("PROVISION_TEST_LAB", "tdl")
DEBIAN = os.environ.get("PROVISION_TEST_DEBIAN", "mixed")


@dataclass
class DeployedLab:
    lab: Lab
    inventory: Path
    province: Province
    bare_check: dict         # `provision deploy --check --json` on the bare hosts, before the first deploy
    bare_touched: list[str]  # servers that had project files after that check (must be none)
    first: DeployResult      # the first deploy (from bare hosts)
    again: DeployResult      # the next deploy, run at once (must change nothing)
    center: Host
    units: list[Host]        # unit servers, by name
    debian: str               # the lab's shape: "mixed", "12" or "13"
    releases: dict[str, str]  # server name -> Debian major version it runs ("12", "13")


@pytest.fixture(scope="session")
def deployed_lab(tmp_path_factory) -> DeployedLab:
    inv = tmp_path_factory.mktemp("deployed") / "inventory" / LAB
    lab = Lab(LAB, inventory_dir=inv)
    lab.down()
    lab.up(units=2, workstations=0, switches=0, debian=DEBIAN)
    # Lab hosts share the machine's kernel clock: chronyd must not steer it.
    (inv / "group_vars").mkdir(exist_ok=True)
    (inv / "group_vars" / "servers.yml").write_text("common_chrony_set_clock: false\n")
    try:
        province = load_province(inv)
        r = run_cli("deploy", "-i", str(inv), "--check", "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        bare_check = json.loads(r.stdout)
        bare_touched = [h["host"] for h in bare_check["hosts"]
                        if lab.ssh(h["host"], "test -e /etc/provision || test -e /etc/chrony/chrony.conf").returncode != 1]
        first = deploy(inv)
        again = deploy(inv)
        servers = [h for h in province.hosts.values() if set(h.groups) & {"center_servers", "unit_servers"}]
        center = next(h for h in servers if "center_servers" in h.groups)
        units = sorted((h for h in servers if "unit_servers" in h.groups), key=lambda h: h.name)
        releases = {h.name: lab.ssh(h.name, "cut -d. -f1 /etc/debian_version", check=True).stdout.strip()
                    for h in servers}
        yield DeployedLab(lab, inv, province, bare_check, bare_touched, first, again, center, units, DEBIAN, releases)
    finally:
        if os.environ.get("PROVISION_TEST_KEEP_LAB") != "1":   # 1: left up to look into a failure
            lab.down()


@pytest.fixture(scope="session")
def ca_pem(deployed_lab) -> str:
    """The provincial CA certificate (PEM) of the deployed lab."""
    return read_ca(deployed_lab.lab, deployed_lab.center.name)
