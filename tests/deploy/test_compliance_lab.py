"""`provision compliance` on the deployed lab: after `provision verify`, the controls the baseline
deploy provides pass on every server with their evidence, and the report names every control."""
from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from provisioning.compliance import MANUAL, TECHNICAL, compliance
from provisioning.verify import verify
from tests.conftest import run_cli

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def test_compliance_on_the_deployed_lab(deployed_lab, tmp_path):
    v = verify(deployed_lab.inventory)
    assert v.ok, [c for c in v.checks if not c.ok]
    r = compliance(deployed_lab.inventory, lang="en", out=tmp_path)
    assert r.verify_file == v.saved
    center, units = deployed_lab.center.name, [u.name for u in deployed_lab.units]
    rows = {(f.control, f.host): f for f in r.findings}
    assert len(r.findings) == len(TECHNICAL) * 3 + len(MANUAL)
    for host in [center, *units]:
        assert rows["net-firewall", host].status == "pass"
        assert rows["net-firewall", host].evidence.endswith("policy drop")
        assert rows["host-time", host].status == "pass"
        assert rows["host-time", host].evidence == "chronyd running; verify ntp/answers passed"
        assert all(rows[c.id, host].evidence for c in TECHNICAL)
    assert rows["net-transport", center].status == "pass"
    assert rows["app-mail", center].status == "pass"
    assert "smtp/25-relay-refused" in rows["app-mail", center].evidence
    assert rows["data-backup", center].status == "pass"
    for u in units:
        assert rows["data-backup", u].status == rows["app-password", u].status == "na"
        assert "https://" in rows["host-patching", u].evidence      # the center's mirror
    # the password policy is read from the directory itself
    assert rows["app-password", center].evidence.startswith("pwdPolicy: max age")
    # the defaults deploy what the level's defaults ask: no technical control fails on a fresh province
    assert not [(f.control, f.host, f.evidence) for f in r.findings if f.status == "fail"]
    ws = load_workbook(r.outputs["xlsx"]).active
    assert sum(1 for row in ws.iter_rows(values_only=True) if row[4] in (center, *units)) == len(TECHNICAL) * 3

    cli = run_cli("compliance", "-i", str(deployed_lab.inventory), "--json", "--lang", "en", "--out", str(tmp_path))
    assert cli.returncode in (0, 1), cli.stderr
    doc = json.loads(cli.stdout)
    assert cli.returncode == (0 if doc["ok"] else 1)
    assert {f["control"] for f in doc["findings"]} == {c.id for c in TECHNICAL + MANUAL}
