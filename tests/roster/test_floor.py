"""The roster reader sits on the bottom floor: accounts and report both read the HR roster through it, and
it (like the model whose settings name its fields) imports no job package."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "provisioning"
JOBS = {"accounts", "audit", "backup", "cli", "console", "deploy", "lab", "report", "verify"}


def _imported_packages(package: str) -> dict[str, set[str]]:
    """{module file: first-level provisioning packages it imports}, relative imports resolved."""
    out: dict[str, set[str]] = {}
    for f in sorted((PKG / package).rglob("*.py")):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        found = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                # the module's package is parts[:-1] (for __init__ too); `from .. import paths` names modules
                base = parts[:len(parts) - node.level] if node.level else ()
                module = base + tuple(node.module.split(".") if node.module else ())
                names = [module] if node.module else [module + (a.name,) for a in node.names]
            elif isinstance(node, ast.Import):
                names = [tuple(a.name.split(".")) for a in node.names]
            else:
                continue
            found.update(n[1] for n in names if len(n) > 1 and n[0] == "provisioning")
        out[str(f.relative_to(PKG))] = found
    return out


def test_roster_and_model_import_no_job_package():
    for package in ("roster", "model"):
        bad = {f: sorted(pkgs & JOBS) for f, pkgs in _imported_packages(package).items() if pkgs & JOBS}
        assert not bad, bad


def test_report_does_not_import_accounts():
    bad = [f for f, pkgs in _imported_packages("report").items() if "accounts" in pkgs]
    assert not bad, bad
    assert any("roster" in pkgs for pkgs in _imported_packages("report").values())   # it reads the roster here
