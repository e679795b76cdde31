"""The console role's pieces that run without a lab: the wheelhouse's project wheel (deterministic,
complete), the mailbox command it runs as the store's owner (confined by --only-under), the mail store
reached through a command (accounts.mail_store.command), and the role's documented variables."""
from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from provisioning.accounts import maildir_ops
from provisioning.accounts.mailbox import CommandStore, open_store
from provisioning.errors import OperationFailed
from provisioning.model import AccountsSettings
from tests.conftest import ROOT

ROLE = ROOT / "roles" / "console"


def _wheelhouse():
    spec = importlib.util.spec_from_file_location("wheelhouse", ROLE / "files" / "wheelhouse.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_project_wheel_is_the_same_bytes_for_the_same_code_and_holds_the_console():
    wh = _wheelhouse()
    name, first = wh.project_wheel(ROOT)
    _, second = wh.project_wheel(ROOT)
    assert name.startswith("provisioning-") and name.endswith("-py3-none-any.whl")
    assert first == second                      # a second deploy copies nothing
    z = zipfile.ZipFile(io.BytesIO(first))
    names = set(z.namelist())
    assert {"provisioning/console/templates/console/login.html", "provisioning/console/static/console/htmx.min.js",
            "provisioning/accounts/maildir_ops.py", "provisioning/cli/__init__.py"} <= names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    dist = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    meta = z.read(f"{dist}/METADATA").decode()
    assert "Requires-Dist: django" in meta and "Requires-Dist: click" in meta
    assert "provision = provisioning.cli:main" in z.read(f"{dist}/entry_points.txt").decode()
    # RECORD lists every file with its hash, as pip checks it
    record = z.read(f"{dist}/RECORD").decode().splitlines()
    assert len(record) == len(names)


def _ops(domain_dir: Path, req: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, maildir_ops.__file__, "--only-under", str(domain_dir)],
                          input=json.dumps(req), capture_output=True, text=True)


@pytest.mark.parametrize("bad", ["{d}/../escape", "{d}/a/b", "{d}/.hidden", "/etc", "{d}x/u"])
def test_the_mailbox_command_refuses_paths_outside_the_mail_domain(tmp_path, bad):
    d = tmp_path / "vmail" / "bentre.gov.vn"
    d.mkdir(parents=True)
    victim = tmp_path / "vmail" / "escape"
    victim.mkdir()
    r = _ops(d, {"op": "remove", "homes": [bad.format(d=d)]})
    assert r.returncode != 0 and "refused" in r.stderr
    assert victim.exists()


def test_the_mail_store_behind_a_command_creates_lists_and_removes(tmp_path):
    root = tmp_path / "vmail"
    (root / "bentre.gov.vn").mkdir(parents=True)
    settings = AccountsSettings.model_validate({"mail_store": {
        "host": "local", "root": str(root), "uid": os.getuid(), "gid": os.getgid(),
        "command": [sys.executable, maildir_ops.__file__, "--only-under", str(root / "bentre.gov.vn")]}})
    province = type("P", (), {"info": type("I", (), {"mail_domain": "bentre.gov.vn"})()})()
    store = open_store(province, settings)
    assert isinstance(store, CommandStore)
    # as root the operations would switch to the given uid; here the test's own user owns them
    assert store.create(["annv", "binhpv"]) == 2
    assert store.existing() == {"annv", "binhpv"}
    assert (root / "bentre.gov.vn" / "annv" / "Maildir" / "subscriptions").is_file()
    assert store.remove(["binhpv"]) == 1 and store.existing() == {"annv"}


def test_a_failing_mail_store_command_is_a_clear_operation_failure(tmp_path):
    store = CommandStore(str(tmp_path), "bentre.gov.vn", 5000, 5000,
                         [sys.executable, maildir_ops.__file__, "--only-under", str(tmp_path / "other")])
    with pytest.raises(OperationFailed, match="mail store: create through .* failed: refused"):
        store.create(["annv"])
    missing = CommandStore(str(tmp_path), "bentre.gov.vn", 5000, 5000, [str(tmp_path / "no-such-command")])
    with pytest.raises(OperationFailed, match="mail store: .*no-such-command"):
        missing.existing()


def test_every_default_is_documented_and_the_role_names_both_debian_releases():
    defaults = set(yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()))
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert defaults == set(specs)
    platforms = yaml.safe_load((ROLE / "meta" / "main.yml").read_text())["galaxy_info"]["platforms"]
    assert {"bookworm", "trixie"} <= set(platforms[0]["versions"])
