"""The latest audit and verify runs of a month, read from the province's data directory.

- audit: `var/<inventory>/audit/<run>/audit.json`, written by `provision audit` (schema
  `provision-audit/1`, provisioning/audit/README.md). This report reads its per-host list
  `hosts: [{host, unit, role, status, grade}]`: a host is *audited* when its status is `audited`, and
  *meets the baseline* (is compliant) when its grade is `pass` or `warn` (only recommended checks
  failed). As in the audit's own pages, the percentage is over every host of the run: a host that
  could not be audited counts as not meeting the baseline.
- verify: `var/<inventory>/verify/<run>.json` = {"run": {"started", "finished", "inventory"},
  "checks": [{"host", "unit", "service", "check", "ok", "detail"}]}. A service of a unit is *deployed*
  when verify checked it there, *passing* when every check of it there was ok.

A run belongs to the month of its name (run names start with the date, paths.run_stamp), or, for a
name that does not, of its `run.started`. The latest run of the month is the greatest name.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadInput
from .period import Month

AUDITED_STATUS = {"audited"}
MEETS_BASELINE = {"pass", "warn"}
_STAMP = re.compile(r"^(\d{4})-(\d{2})-\d{2}")


def _month_of(name: str, data: dict[str, Any]) -> Month | None:
    m = _STAMP.match(name)
    if m:
        return Month(int(m.group(1)), int(m.group(2)))
    started = str((data.get("run") or {}).get("started") or "")
    m = _STAMP.match(started)
    return Month(int(m.group(1)), int(m.group(2))) if m else None


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"{path}: not a readable JSON file ({e})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a JSON object")
    return data


def latest(files: list[tuple[str, Path]], month: Month) -> tuple[Path, dict] | None:
    """The (path, data) of the latest run of `month` among (run name, path) pairs."""
    best = None
    for name, path in sorted(files):
        data = _load(path)
        if _month_of(name, data) == month:
            best = (path, data)
    return best


def audit_files(audit_dir: Path) -> list[tuple[str, Path]]:
    return [(d.name, d / "audit.json") for d in audit_dir.iterdir() if (d / "audit.json").is_file()] \
        if audit_dir.is_dir() else []


def verify_files(verify_dir: Path) -> list[tuple[str, Path]]:
    return [(p.stem, p) for p in verify_dir.glob("*.json")] if verify_dir.is_dir() else []


@dataclass
class Hardware:
    """One unit's hardware in one audit run."""
    hosts: int = 0
    audited: int = 0
    meeting: int = 0

    @property
    def ratio(self) -> float | None:
        return self.meeting / self.hosts if self.hosts else None


def hardware_by_unit(path: Path, data: dict) -> dict[str, Hardware]:
    hosts = data.get("hosts")
    if not isinstance(hosts, list):
        raise BadInput(f"{path}: field 'hosts' must be a list of hosts")
    out: dict[str, Hardware] = {}
    for i, h in enumerate(hosts):
        if not isinstance(h, dict) or not h.get("unit"):
            raise BadInput(f"{path}: hosts[{i}]: every host needs a 'unit'")
        hw = out.setdefault(str(h["unit"]), Hardware())
        hw.hosts += 1
        if str(h.get("status", "")).lower() in AUDITED_STATUS:
            hw.audited += 1
            hw.meeting += str(h.get("grade", "")).lower() in MEETS_BASELINE
    return out


@dataclass
class Services:
    """One unit's baseline services in one verify run."""
    deployed: list[str] = field(default_factory=list)
    passing: list[str] = field(default_factory=list)
    failing_checks: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return len(self.passing) / len(self.deployed) if self.deployed else None


def services_by_unit(path: Path, data: dict) -> dict[str, Services]:
    checks = data.get("checks")
    if not isinstance(checks, list):
        raise BadInput(f"{path}: field 'checks' must be a list")
    state: dict[str, dict[str, bool]] = {}
    failing: dict[str, list[str]] = {}
    for i, c in enumerate(checks):
        if not isinstance(c, dict) or not c.get("unit") or not c.get("service"):
            raise BadInput(f"{path}: checks[{i}]: every check needs 'unit' and 'service'")
        unit, svc = str(c["unit"]), str(c["service"])
        ok = c.get("ok") is True
        state.setdefault(unit, {})
        state[unit][svc] = state[unit].get(svc, True) and ok
        if not ok:
            failing.setdefault(unit, []).append(f"{c.get('host', '?')}: {svc}/{c.get('check', '?')}")
    return {u: Services(sorted(s), sorted(k for k, v in s.items() if v), failing.get(u, []))
            for u, s in state.items()}


@dataclass
class UnitRuns:
    """One unit's latest audit and verify results (the web console's unit page)."""
    audit_run: str | None = None
    hosts: list[dict] = field(default_factory=list)        # {host, role, status, grade}
    to_fix: list[dict] = field(default_factory=list)       # hosts not meeting the baseline
    verify_run: str | None = None
    checks: int = 0
    failing: list[str] = field(default_factory=list)       # "host: service/check"


def unit_results(data_dir: Path, unit: str) -> UnitRuns:
    """The latest audit run and the latest verify run (of any month) as far as they concern `unit`."""
    out = UnitRuns()
    audits = sorted(audit_files(data_dir / "audit"))
    if audits:
        name, path = audits[-1]
        data = _load(path)
        out.audit_run = name
        for h in data.get("hosts") or []:
            if isinstance(h, dict) and str(h.get("unit")) == unit:
                row = {k: h.get(k) for k in ("host", "role", "status", "grade")}
                out.hosts.append(row)
                if str(h.get("status", "")).lower() not in AUDITED_STATUS or \
                        str(h.get("grade", "")).lower() not in MEETS_BASELINE:
                    out.to_fix.append(row)
    verifies = sorted(verify_files(data_dir / "verify"))
    if verifies:
        name, path = verifies[-1]
        data = _load(path)
        out.verify_run = name
        for c in data.get("checks") or []:
            if isinstance(c, dict) and str(c.get("unit")) == unit:
                out.checks += 1
                if c.get("ok") is not True:
                    out.failing.append(f"{c.get('host', '?')}: {c.get('service', '?')}/{c.get('check', '?')}")
    return out
