"""The hardware baseline: a YAML file of per-role rules, checked against each host's facts.

The syntax follows NAPALM's validate files (a fact name, then what it must be), so a network admin who
has seen those reads it at once:

    version: 1
    roles:
      workstation:
        ram_mb: '>=3800'                 # comparison: >=, <=, >, <, ==, != with a number
        cpu_cores: '2-64'                # inclusive range 'A-B' (NAPALM's 'A<->B' works too)
        os_id: [debian, ubuntu]          # allowed values
        arch: x86_64                     # exact value (string, number or true/false)
        os_name:                         # long form: one test key + optional severity and why
          regex: '^(Debian GNU/Linux 1[23]|Ubuntu 2[24]\\.04)'
          severity: recommended          # required (default) | recommended
          why: security updates are still published for these releases
        disk_total_gb:
          range: {min: 120}              # or [min, max], or 'A-B'; min or max may be left out

Test keys of the long form: expect (any short form), range, regex, allowed, exact.
A fact a host does not report makes its check fail with actual "missing" (never a crash); an unknown
role, fact, key or operator is a BaselineError naming the file and the key (exit code 2).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from ..errors import BadInput
from . import linux, network

DEFAULT_BASELINE = Path(__file__).with_name("baseline-default.yml")
MISSING = "missing"
SEVERITIES = ("required", "recommended")
LINUX_ROLES = ("server", "workstation")
NETWORK_ROLES = ("switch", "router")
FACTS = {role: linux.CHECKABLE_FACTS for role in LINUX_ROLES} | {role: network.CHECKABLE_FACTS
                                                                  for role in NETWORK_ROLES}
TEST_KEYS = ("expect", "range", "regex", "allowed", "exact")
META_KEYS = ("severity", "why")

_CMP = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:<->|-)\s*(-?\d+(?:\.\d+)?)\s*$")
_OPERATOR_START = re.compile(r"^\s*[<>=!~]")
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    "<": lambda a, b: a < b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


class BaselineError(BadInput):
    """The baseline file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class Rule:
    fact: str
    expected: str       # how the rule reads in reports: ">= 3800", "2 – 64", "one of: debian, ubuntu"
    severity: str
    why: str | None
    test: Callable[[Any], bool]


@dataclass
class BaselineCheck:
    name: str
    expected: str
    actual: Any
    passed: bool
    severity: str = "required"
    why: str | None = None


def _number(value: Any) -> float | None:
    """A fact as a number: ints, floats and numeric strings such as an os_version '22.04'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def _fmt(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)


def _range_rule(lo: float | None, hi: float | None) -> tuple[str, Callable[[Any], bool]]:
    def test(v: Any) -> bool:
        n = _number(v)
        return n is not None and (lo is None or n >= lo) and (hi is None or n <= hi)
    if lo is not None and hi is not None:
        return f"{_fmt(lo)} – {_fmt(hi)}", test
    return (f">= {_fmt(lo)}" if lo is not None else f"<= {_fmt(hi)}"), test


def _exact(value: Any) -> tuple[str, Callable[[Any], bool]]:
    if isinstance(value, bool):
        return ("yes" if value else "no"), lambda v: v is value
    if isinstance(value, (int, float)):
        return _fmt(value), lambda v: _number(v) == float(value)
    return str(value), lambda v: v is not None and str(v) == str(value)


def _expression(spec: Any, where: str) -> tuple[str, Callable[[Any], bool]]:
    """Short form: comparison, range, allowed list, or exact value."""
    if isinstance(spec, list):
        if not spec:
            raise BaselineError(f"{where}: an allowed list must not be empty")
        allowed = [str(x) for x in spec]
        return "one of: " + ", ".join(allowed), lambda v: v is not None and str(v) in allowed
    if isinstance(spec, (bool, int, float)):
        return _exact(spec)
    if isinstance(spec, str):
        if m := _CMP.match(spec):
            op, limit = m.group(1), float(m.group(2))
            return f"{op} {_fmt(limit)}", lambda v: (n := _number(v)) is not None and _OPS[op](n, limit)
        if m := _RANGE.match(spec):
            lo, hi = float(m.group(1)), float(m.group(2))
            if lo > hi:
                raise BaselineError(f"{where}: range {spec!r} has its minimum above its maximum")
            return _range_rule(lo, hi)
        if _OPERATOR_START.match(spec):
            op = re.match(r"^\s*([<>=!~]+)", spec).group(1)
            raise BaselineError(f"{where}: unknown operator {op!r} in {spec!r} (use >=, <=, >, <, ==, != followed "
                                "by a number, a range 'A-B', a list of allowed values, or an exact value)")
        return _exact(spec)
    raise BaselineError(f"{where}: {spec!r} is not a comparison, range, list or value")


def _range_spec(spec: Any, where: str) -> tuple[str, Callable[[Any], bool]]:
    if isinstance(spec, str):
        if not _RANGE.match(spec):
            raise BaselineError(f"{where}: range {spec!r} must look like '2-8'")
        return _expression(spec, where)
    if isinstance(spec, list) and len(spec) == 2:
        lo, hi = spec
    elif isinstance(spec, dict):
        unknown = set(spec) - {"min", "max"}
        if unknown:
            raise BaselineError(f"{where}.{sorted(unknown)[0]}: unknown key (a range has min and max)")
        lo, hi = spec.get("min"), spec.get("max")
    else:
        raise BaselineError(f"{where}: a range is 'A-B', [min, max] or {{min: A, max: B}}")
    bounds = []
    for name, b in (("min", lo), ("max", hi)):
        if b is not None and _number(b) is None:
            raise BaselineError(f"{where}.{name}: {b!r} is not a number")
        bounds.append(_number(b) if b is not None else None)
    if bounds == [None, None]:
        raise BaselineError(f"{where}: a range needs min, max or both")
    if None not in bounds and bounds[0] > bounds[1]:
        raise BaselineError(f"{where}: range minimum {lo} is above its maximum {hi}")
    return _range_rule(*bounds)


def _rule(fact: str, spec: Any, where: str) -> Rule:
    severity, why = "required", None
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in TEST_KEYS + META_KEYS]
        if unknown:
            raise BaselineError(f"{where}.{unknown[0]}: unknown key (use one of {', '.join(TEST_KEYS)}, "
                                f"plus optional {', '.join(META_KEYS)})")
        tests = [k for k in TEST_KEYS if k in spec]
        if len(tests) != 1:
            raise BaselineError(f"{where}: needs exactly one of {', '.join(TEST_KEYS)} (found "
                                f"{', '.join(tests) or 'none'})")
        severity = spec.get("severity", "required")
        if severity not in SEVERITIES:
            raise BaselineError(f"{where}.severity: {severity!r} is not one of {', '.join(SEVERITIES)}")
        why = spec.get("why")
        key = tests[0]
        value = spec[key]
        sub = f"{where}.{key}"
        if key == "range":
            expected, test = _range_spec(value, sub)
        elif key == "regex":
            try:
                rx = re.compile(str(value))
            except re.error as e:
                raise BaselineError(f"{sub}: invalid regular expression: {e}") from None
            expected, test = f"~ /{value}/", (lambda v: v is not None and rx.search(str(v)) is not None)
        elif key == "allowed":
            if not isinstance(value, list):
                raise BaselineError(f"{sub}: must be a list of values")
            expected, test = _expression(value, sub)
        elif key == "exact":
            expected, test = _exact(value)
        else:
            expected, test = _expression(value, sub)
    else:
        expected, test = _expression(spec, where)
    return Rule(fact, expected, severity, why, test)


@dataclass
class Baseline:
    source: str
    rules: dict[str, list[Rule]]     # role -> rules

    def evaluate(self, role: str, facts: dict[str, Any]) -> list[BaselineCheck]:
        checks = []
        for r in self.rules.get(role, []):
            actual = facts.get(r.fact)
            if actual is None:
                checks.append(BaselineCheck(r.fact, r.expected, MISSING, False, r.severity, r.why))
            else:
                checks.append(BaselineCheck(r.fact, r.expected, actual, bool(r.test(actual)), r.severity, r.why))
        return checks


def parse_baseline(data: Any, source: str) -> Baseline:
    if not isinstance(data, dict):
        raise BaselineError(f"{source}: must be a mapping with 'roles'")
    unknown = set(data) - {"version", "roles", "description"}
    if unknown:
        raise BaselineError(f"{source}: {sorted(unknown)[0]}: unknown key (a baseline has version, description, "
                            "roles)")
    if data.get("version", 1) != 1:
        raise BaselineError(f"{source}: version: {data['version']!r} is not supported (use 1)")
    roles = data.get("roles")
    if not isinstance(roles, dict) or not roles:
        raise BaselineError(f"{source}: roles: must map roles ({', '.join(FACTS)}) to their rules")
    rules: dict[str, list[Rule]] = {}
    for role, body in roles.items():
        where = f"{source}: roles.{role}"
        if role not in FACTS:
            raise BaselineError(f"{where}: unknown role (use {', '.join(FACTS)})")
        if body is None:
            rules[role] = []
            continue
        if not isinstance(body, dict):
            raise BaselineError(f"{where}: must map fact names to rules")
        rules[role] = []
        for fact, spec in body.items():
            if fact not in FACTS[role]:
                raise BaselineError(f"{where}.{fact}: unknown fact for a {role} (known: "
                                    f"{', '.join(sorted(FACTS[role]))})")
            rules[role].append(_rule(fact, spec, f"{where}.{fact}"))
    return Baseline(source, rules)


def load_baseline(path: str | Path | None = None) -> Baseline:
    """Read and validate a baseline file (the shipped default when `path` is None)."""
    p = Path(path) if path else DEFAULT_BASELINE
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BaselineError(f"{p}: baseline file not found") from None
    except UnicodeDecodeError as e:
        raise BaselineError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise BaselineError(f"{p}{f': line {mark.line + 1}' if mark else ''}: invalid YAML: "
                            f"{getattr(e, 'problem', None) or e}") from None
    return parse_baseline(data, str(p))
