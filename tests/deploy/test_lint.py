"""ansible-lint (production profile, .ansible-lint) over the playbooks and roles, and a syntax check
of site.yml with the province facts the deploy passes."""
import json
import subprocess
import sys
from pathlib import Path

from provisioning.deploy.runner import province_vars
from provisioning.model import load_province
from tests.conftest import EXAMPLE, ROOT

BIN = Path(sys.executable).parent


def test_ansible_lint_production_profile():
    r = subprocess.run([str(BIN / "ansible-lint"), "--nocolor", "-q"], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]


def test_site_syntax_with_province_facts(tmp_path):
    extra = tmp_path / "province.json"
    extra.write_text(json.dumps(province_vars(load_province(EXAMPLE))))
    r = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", str(EXAMPLE / "hosts.yml"),
                        "-e", f"@{extra}", "playbooks/site.yml"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300, env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": f"{BIN}:/usr/bin:/bin"})
    assert r.returncode == 0, r.stdout + r.stderr
