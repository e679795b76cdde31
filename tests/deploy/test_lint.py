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


def _lint_rule():
    import importlib.util
    spec = importlib.util.spec_from_file_location("register_naming", ROOT / "plugins" / "lint" / "register_naming.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_register_naming_rule_wants_the_owner_and_two_underscores():
    rule = _lint_rule()
    assert rule.name_ok("pki__cert_state", "pki")
    assert rule.name_ok("package_mirror__key", "package_mirror")
    for bad in ("pki_cert_state", "cert_state", "mail__cert", "pki__Cert", "pki___x", "pki__x_"):
        assert not rule.name_ok(bad, "pki"), bad


def test_ansible_lint_stops_a_register_without_the_rule(tmp_path):
    """The project's config really runs register-naming: a copy of the tree with one bad name fails."""
    import shutil
    for name in (".ansible-lint", "ansible.cfg"):
        shutil.copy(ROOT / name, tmp_path / name)
    for name in ("roles", "playbooks", "plugins"):
        shutil.copytree(ROOT / name, tmp_path / name)
    tasks = tmp_path / "roles" / "web" / "tasks" / "main.yml"
    tasks.write_text(tasks.read_text().replace("register: web__cert", "register: web_cert"))
    r = subprocess.run([str(BIN / "ansible-lint"), "--nocolor", "-q"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode != 0 and "register-naming" in r.stdout + r.stderr, r.stdout[-2000:] + r.stderr[-2000:]
