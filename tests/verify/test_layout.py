"""The verify package's shape: it imports no other job package, and its check lists are composed in
run.py only (no module extends another's list)."""
from __future__ import annotations

import ast
from pathlib import Path

from provisioning import verify
from provisioning.verify import run
from provisioning.verify.checks import backup, directory, dns, fileshare, logs, mail, ntp, proxy, web, webmail

PACKAGE = Path(verify.__file__).parent
JOBS = {"audit", "deploy", "accounts", "report", "backup", "lab", "console", "cli"}


def _module(path: Path) -> str:
    parts = ["provisioning", *path.relative_to(PACKAGE.parent).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(source: str, module: str) -> set[str]:
    """Absolute names of the provisioning modules a module's source imports."""
    package = module.split(".")[:-1]
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            names |= {target} | {f"{target}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return {n for n in names if n.startswith("provisioning.")}


def test_verify_imports_no_other_job_package():
    bad = {f"{p.relative_to(PACKAGE)}: {name}" for p in PACKAGE.rglob("*.py")
           for name in _imported(p.read_text(), _module(p)) if name.split(".")[1] in JOBS}
    assert not bad, sorted(bad)


def test_the_checker_sees_a_job_import():
    """The import scan above can fail: relative and absolute imports of a job package are found."""
    module = _module(PACKAGE / "checks" / "mail.py")
    assert module == "provisioning.verify.checks.mail"
    assert "provisioning.deploy.runner" in _imported("from ...deploy import runner\n", module)
    assert "provisioning.accounts" in _imported("import provisioning.accounts\n", module)
    assert "provisioning.secrets" in _imported("from ... import secrets\n", module)
    assert "provisioning.verify.context" in _imported("from ..context import Server\n", module)


def test_check_lists_are_composed_in_run_only():
    for p in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("append", "extend", "insert") \
                    and isinstance(node.value, ast.Name) and node.value.id.endswith("CHECKS"):
                raise AssertionError(f"{p.relative_to(PACKAGE)} changes {node.value.id}")
    modules = (backup, directory, dns, fileshare, logs, mail, ntp, proxy, web, webmail)
    exported = [c for m in modules for k, v in vars(m).items() if k.endswith("CHECKS") for c in v]
    exported += [directory.PROBE_JOINS_UNIT_GROUP, directory.PROBE_LEAVES_UNIT_GROUP]
    composed = set(run.CENTER_CHECKS) | set(run.UNIT_CHECKS)
    assert {c[:2] for c in exported} <= {c[:2] for c in composed}      # every exported check runs
    assert isinstance(run.CENTER_CHECKS, tuple) and isinstance(run.UNIT_CHECKS, tuple)


def test_the_probe_is_written_first_and_the_unit_group_left_last():
    center = [name for _, name, _ in run.CENTER_CHECKS]
    unit = [name for _, name, _ in run.UNIT_CHECKS]
    assert center.index("probe-mailbox") < min(center.index(n) for n in ("25-starttls-accept-local", "login"))
    assert unit.index("probe-joins-unit-group") < unit.index("smb-login-file-roundtrip") \
        < unit.index("probe-leaves-unit-group")
    assert unit.index("probe-leaves-unit-group") > unit.index("allows-unit-member")
