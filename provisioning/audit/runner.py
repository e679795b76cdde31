"""Run an audit: every selected host in a bounded thread pool, each under a hard deadline, each ending
with exactly one status; one bad host never stops the others.

Status and what causes it:
  audited      facts collected and graded against the baseline
  unreachable  no TCP connection (host off, wrong address, port closed) or the SSH session broke
  auth_failed  user/password/key refused, or the host key is unknown or changed (not the one in the
               inventory's known_hosts; provisioning.transport.ssh)
  timeout      the host accepted TCP but did not finish within --timeout seconds (hung sshd, stale NFS...)
  unsupported  no collector for this host yet (Windows; a network device type without a driver)
"""
from __future__ import annotations

import datetime as dt
import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import paramiko

from ..errors import HostKeyError
from ..model import Host, Province
from ..results import OnProgress, ProgressStep
from ..transport import ssh
from . import linux, network
from .baseline import Baseline
from ..render import i18n
from .deadline import Deadline, Watchdog
from .grading import AuditHostResult, UnitSummary, grade, summarize, totals
from .messages import HostProblem

SCHEMA = "provision-audit/1"
# paramiko's transport thread logs the failure of a host we cut off at its deadline as a traceback; the
# audit reports it as that host's status instead. Handlers the application sets up still receive it.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
DEFAULT_WORKERS = 20
DEFAULT_TIMEOUT = 30.0


@dataclass
class RunInfo:
    schema: str
    id: str
    started: str
    finished: str
    duration_s: float
    inventory: str
    province: str
    baseline: str
    limit: str | None
    workers: int
    timeout_s: float


@dataclass
class AuditReport:
    run: RunInfo
    units: list[UnitSummary]
    hosts: list[AuditHostResult]
    totals: dict[str, Any] = field(default_factory=dict)


class TemplatedSecret(HostProblem):
    status = "auth_failed"


def _names(exc: BaseException) -> set[str]:
    return {c.__name__ for c in type(exc).__mro__}


def classify(exc: BaseException, deadline: Deadline, host: Host) -> tuple[str, str, dict[str, Any]]:
    """(status, reason code, reason parameters) for a collector failure. Reasons are written from our
    table (messages.py), never copied whole from library messages that might echo what was sent."""
    names = _names(exc)
    if isinstance(exc, HostProblem):
        return exc.status, exc.code, exc.params
    if isinstance(exc, HostKeyError) and exc.kind == "unknown":
        return "auth_failed", "host_key_unknown", {"address": host.address}
    if isinstance(exc, (HostKeyError, paramiko.BadHostKeyException)) or (
            isinstance(exc, paramiko.SSHException) and "known_hosts" in str(exc)):
        return "auth_failed", "host_key", {"address": host.address}
    if isinstance(exc, paramiko.AuthenticationException) or "NetmikoAuthenticationException" in names:
        return "auth_failed", "login_key" if host.key_file else "login_password", {"user": host.user}
    if isinstance(exc, FileNotFoundError) and host.key_file:
        return "auth_failed", "key_missing", {"path": str(host.key_file)}
    if deadline.expired or isinstance(exc, (socket.timeout, TimeoutError)) or names & {
            "NetmikoTimeoutException", "ReadTimeout"}:
        return "timeout", "silent", {"seconds": f"{deadline.seconds:g}", "error": type(exc).__name__}
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return "unreachable", "ssh_error", {"error": f"{type(exc).__name__}: {first_line}".rstrip(": ")}


def _scrub(params: dict[str, Any], host: Host) -> dict[str, Any]:
    """Belt and braces: no inventory secret may appear in a reason, whatever a library put there."""
    secrets = [str(x) for x in (host.password.get_secret_value() if host.password else None,
                                host.vars.get("enable_secret")) if x]
    out = {}
    for key, value in params.items():
        text = str(value)
        for secret in secrets:
            text = text.replace(secret, "***")
        out[key] = text
    return out


def audit_host(province: Province, host: Host, baseline: Baseline, timeout: float,
               watchdog: Watchdog) -> AuditHostResult:
    start = time.monotonic()
    deadline = Deadline(timeout)
    base = dict(host=host.name, unit=host.unit, role=host.role.value, address=host.address)
    host_key = None
    try:
        if host.os_family == "windows":
            raise network.Unsupported("windows")
        if host.password and "{{" in host.password.get_secret_value():
            raise TemplatedSecret("templated_secret")  # sending "{{ vault_pw }}" as a password helps no one
        collect = network.collect if host.is_network else linux.collect
        facts, first_contact = collect(host, deadline, watchdog, ssh.policy(province, host))
        host_key = "accepted_new" if first_contact else "known"
    except Exception as e:  # noqa: BLE001 - any failure of one host becomes that host's status
        status, code, params = classify(e, deadline, host)
        params = _scrub(params, host)
        return AuditHostResult(**base, status=status, reason=i18n.t(f"reason.{code}", "en", **params),
                          reason_code=code, reason_params=params, duration_s=round(time.monotonic() - start, 2))
    checks = baseline.evaluate(host.role.value, facts)
    return AuditHostResult(**base, status="audited", facts=facts, checks=checks, grade=grade(checks),
                           duration_s=round(time.monotonic() - start, 2), host_key=host_key)


def interleave_units(hosts: list[Host]) -> list[Host]:
    """Hosts in round-robin order over their units: the pool then works on many units at once, so one
    unit's slow WAN link carries a few connections at a time instead of all the pool's workers."""
    by_unit: dict[str, list[Host]] = {}
    for h in hosts:
        by_unit.setdefault(h.unit, []).append(h)
    queues = list(by_unit.values())
    return [q[i] for i in range(max((len(q) for q in queues), default=0)) for q in queues if i < len(q)]


def run_audit(province: Province, hosts: list[Host], baseline: Baseline, *, workers: int = DEFAULT_WORKERS,
              timeout: float = DEFAULT_TIMEOUT, limit: str | None = None, run_id: str | None = None,
              progress: OnProgress | None = None) -> AuditReport:
    started = dt.datetime.now().astimezone().replace(microsecond=0)
    t0 = time.monotonic()
    watchdog = Watchdog()
    results: list[AuditHostResult] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="audit") as pool:
            futures = [pool.submit(audit_host, province, h, baseline, timeout, watchdog) for h in interleave_units(hosts)]
            for f in as_completed(futures):
                r = f.result()
                results.append(r)
                if progress:
                    progress(ProgressStep("audit", done=len(results), total=len(futures), item=r.host, result=r))
    finally:
        watchdog.stop()
    order = {h.name: i for i, h in enumerate(hosts)}
    results.sort(key=lambda r: order[r.host])
    finished = dt.datetime.now().astimezone().replace(microsecond=0)
    run = RunInfo(schema=SCHEMA, id=run_id or started.strftime("%Y-%m-%dT%H-%M-%S"), started=started.isoformat(),
                  finished=finished.isoformat(), duration_s=round(time.monotonic() - t0, 2),
                  inventory=str(province.inventory_dir), province=province.info.name, baseline=baseline.source,
                  limit=limit, workers=workers, timeout_s=timeout)
    units = summarize(results, {code: u.name for code, u in province.units.items()})
    return AuditReport(run=run, units=units, hosts=results, totals=totals(results))
