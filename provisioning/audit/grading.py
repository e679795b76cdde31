"""Per-host grades and per-unit summaries: the numbers a network admin and the provincial office read.

Grade of an audited host:
  pass  all checks pass                                  (Đạt)
  warn  every required check passes, a recommended fails (Đạt, có khuyến nghị)  -- still compliant
  fail  a required check fails                           (Không đạt)
Hosts that could not be audited (unreachable, auth_failed, timeout, unsupported) have no grade and are
never counted as compliant: a unit's percentage is compliant hosts / all its hosts, so a machine nobody
could look at does not make a unit look better.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .baseline import BaselineCheck

STATUSES = ("audited", "unreachable", "auth_failed", "timeout", "unsupported")
GRADES = ("pass", "warn", "fail")


@dataclass
class AuditHostResult:
    host: str
    unit: str
    role: str
    address: str
    status: str
    reason: str | None = None                  # English text, for logs and scripts
    reason_code: str | None = None             # key of messages.py ("reason.<code>"), for reports in vi/en
    reason_params: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    checks: list[BaselineCheck] = field(default_factory=list)
    grade: str | None = None
    duration_s: float = 0.0
    # How the SSH host key was trusted (Linux hosts): "known" (in known_hosts), "accepted_new" (unknown,
    # accepted and recorded under the unit's first-contact opt-out); None when no key was checked.
    host_key: str | None = None

    @property
    def compliant(self) -> bool:
        return self.grade in ("pass", "warn")

    # results.HostResult: ok = the host could be audited (whether it meets the baseline is `compliant`).
    @property
    def ok(self) -> bool:
        return self.status == "audited"

    @property
    def changed(self) -> bool:
        return False        # an audit only reads

    @property
    def error(self) -> str:
        return "" if self.ok else (self.reason or self.status)


@dataclass
class UnitSummary:
    unit: str
    name: str
    hosts: int
    audited: int
    compliant: int
    percent: float | None            # compliant / hosts * 100, None for a unit without hosts
    statuses: dict[str, int]
    grades: dict[str, int]
    roles: dict[str, int]


def grade(checks: list[BaselineCheck]) -> str:
    if any(not c.passed and c.severity == "required" for c in checks):
        return "fail"
    if any(not c.passed for c in checks):
        return "warn"
    return "pass"


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def summarize(results: list[AuditHostResult], unit_names: dict[str, str]) -> list[UnitSummary]:
    """One summary per unit that has selected hosts, in the order of `unit_names` (province order)."""
    by_unit: dict[str, list[AuditHostResult]] = {}
    for r in results:
        by_unit.setdefault(r.unit, []).append(r)
    out = []
    for code in [c for c in unit_names if c in by_unit] + sorted(set(by_unit) - set(unit_names)):
        rs = by_unit[code]
        compliant = sum(1 for r in rs if r.compliant)
        statuses = Counter(r.status for r in rs)
        grades = Counter(r.grade for r in rs if r.grade)
        out.append(UnitSummary(
            unit=code, name=unit_names.get(code, code), hosts=len(rs), audited=statuses["audited"],
            compliant=compliant, percent=percent(compliant, len(rs)),
            statuses={s: statuses[s] for s in STATUSES}, grades={g: grades[g] for g in GRADES},
            roles=dict(sorted(Counter(r.role for r in rs).items()))))
    return out


def totals(results: list[AuditHostResult]) -> dict[str, Any]:
    compliant = sum(1 for r in results if r.compliant)
    statuses = Counter(r.status for r in results)
    grades = Counter(r.grade for r in results if r.grade)
    return {"hosts": len(results), "audited": statuses["audited"], "compliant": compliant,
            "percent": percent(compliant, len(results)),
            "statuses": {s: statuses[s] for s in STATUSES}, "grades": {g: grades[g] for g in GRADES}}
