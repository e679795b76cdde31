"""The package's floors, checked from the source with `ast` (nothing is imported):

- cli and console (top): the two faces of the same jobs, one parses flags and prints results, the other
  serves pages; they may import any job, and only the CLI imports the console (`console serve`);
- jobs (middle, JOB_PACKAGES): each imports the bottom floor only, never another job;
- bottom (every other package or module of provisioning/: model, render, errors, paths, ...): imports
  nothing above it;
- and the import graph between packages has no cycle.

A new job package is added to JOB_PACKAGES; until it is, it counts as bottom floor, where importing a job
fails this test.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "provisioning"
TOP = "cli"
TOP_FLOOR = ("cli", "console")
JOB_PACKAGES = ("audit", "deploy", "verify", "accounts", "report", "backup", "lab", "compliance", "pki")

# Known edges that break the floors, each with what removes it; delete an entry when its fix lands (the
# test fails on an allowance that no longer matches an import, so none outlives its fix).
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {
}


def _modules(package: Path = PACKAGE) -> dict[str, Path]:
    """provisioning.x.y -> file, for every module of the package."""
    out = {}
    for f in sorted(package.rglob("*.py")):
        parts = list(f.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _imports(module: str, path: Path) -> set[str]:
    """Absolute names of the provisioning modules `module` imports (relative imports resolved)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                if node.module:
                    found.add(".".join(base + [node.module]))
                else:
                    found.update(".".join(base + [a.name]) for a in node.names)
            elif node.module:
                found.add(node.module)
    return {name for name in found if name == "provisioning" or name.startswith("provisioning.")}


def _top(module: str) -> str:
    """The package (or bottom-floor module) a module belongs to: provisioning.audit.runner -> audit."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def package_graph(package: Path = PACKAGE) -> dict[tuple[str, str], list[str]]:
    """(importer, imported) between the packages of provisioning/ -> the imports that make the edge."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module, path in _modules(package).items():
        for name in _imports(module, path):
            a, b = _top(module), _top(name)
            if a and b and a != b:
                edges[(a, b)].append(f"{module} imports {name}")
    return edges


def floor(package: str) -> int:
    return 2 if package in TOP_FLOOR else 1 if package in JOB_PACKAGES else 0


def cycle(edges) -> list[str] | None:
    """One import cycle among `edges` ((a, b) pairs), as [a, b, ..., a], or None."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    state: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif not state.get(nxt):
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node, [node])
    return found[0] if found else None


def test_the_import_graph_between_packages_has_no_cycle():
    # Known violations (none today) are left out: each is listed with what removes it.
    loop = cycle(edge for edge in package_graph() if edge not in KNOWN_VIOLATIONS)
    assert loop is None, "import cycle: " + " -> ".join(loop or [])


def test_nobody_imports_the_cli():
    offenders = [how for (a, b), hows in package_graph().items()
                 if b in TOP_FLOOR and (a, b) != ("cli", "console") for how in hows]
    assert not offenders, offenders


def test_no_job_imports_another_job_and_the_bottom_imports_no_job():
    bad = {}
    for (a, b), hows in package_graph().items():
        if a in TOP_FLOOR or floor(b) < floor(a) or floor(a) == floor(b) == 0 or (a, b) in KNOWN_VIOLATIONS:
            continue
        bad[f"{a} -> {b}"] = hows
    assert not bad, bad


def test_every_known_violation_still_exists():
    """An allowance whose import is gone is removed from KNOWN_VIOLATIONS, so it cannot hide a new one."""
    gone = [edge for edge in KNOWN_VIOLATIONS if edge not in package_graph()]
    assert not gone, f"remove from KNOWN_VIOLATIONS: {gone}"


def test_every_class_name_is_defined_once():
    """Two classes with one name (two Check, two HostResult...) read as one thing in logs, tests and JSON."""
    where: dict[str, list[str]] = defaultdict(list)
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                where[node.name].append(module)
    twice = {name: mods for name, mods in where.items() if len(mods) > 1}
    assert not twice, twice


def test_the_checker_sees_a_job_importing_a_job_and_a_cycle(tmp_path):
    """The checks above can fail: in a made-up package, report importing audit is an edge between two
    jobs, paths importing report a bottom module importing a job, and together with audit importing
    paths a cycle."""
    pkg = tmp_path / "provisioning"
    for name, text in {"__init__.py": "", "paths.py": "import provisioning.report.x\n",
                       "audit/__init__.py": "from .. import paths\n", "audit/runner.py": "",
                       "report/__init__.py": "", "report/x.py": "from ..audit import runner\n",
                       "cli/__init__.py": "from ..report import x\n"}.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    edges = package_graph(pkg)
    assert set(edges) == {("report", "audit"), ("paths", "report"), ("audit", "paths"), ("cli", "report")}
    assert [floor(p) for p in ("paths", "report", "audit", "cli")] == [0, 1, 1, 2]
    assert cycle(edges) in (["audit", "paths", "report", "audit"], ["paths", "report", "audit", "paths"],
                            ["report", "audit", "paths", "report"])
    assert cycle([("cli", "report"), ("report", "paths")]) is None
