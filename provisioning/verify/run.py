"""One verify run: the checks of the center and of each unit server, composed here from the service
modules (checks/), run in order, saved as `var/<inventory>/verify/<run>.json`:
{"run": {"started", "finished", "inventory"}, "checks": [...]}."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths, secrets
from ..model import load_province
from ..render.console import to_plain
from ..results import OnProgress, ProgressStep
from .checks import (backup, console, directory, dns, fileshare, logs, mail, mailauth, ntp, pki, proxy, tls, web,
                     webmail)
from .context import CheckFn, CheckList, Context, RoleFacts, Server, provincial_ca

# Order matters: the probe mailbox is written (mail) before mail is tested and before the replicas are
# compared; on a unit server the probe joins the unit's group first and leaves it last.
CENTER_CHECKS: CheckList = (
    *directory.CENTER_CHECKS,
    *mail.CENTER_CHECKS,
    *mailauth.CENTER_CHECKS,
    *dns.CENTER_CHECKS,
    *web.CENTER_CHECKS,
    *ntp.CHECKS,
    *webmail.CENTER_CHECKS,
    *console.CENTER_CHECKS,
    *backup.CHECKS,
    *tls.CENTER_CHECKS,
    *pki.CENTER_CHECKS,
    *logs.CENTER_CHECKS,
)
UNIT_CHECKS: CheckList = (
    *directory.UNIT_CHECKS,
    *dns.UNIT_CHECKS,
    *ntp.CHECKS,
    directory.PROBE_JOINS_UNIT_GROUP,
    *fileshare.UNIT_CHECKS,
    *proxy.UNIT_CHECKS,
    directory.PROBE_LEAVES_UNIT_GROUP,
    *backup.CHECKS,
    *tls.UNIT_CHECKS,
    *pki.UNIT_CHECKS,
    *logs.UNIT_CHECKS,
)


@dataclass
class Check:
    host: str
    unit: str
    service: str
    check: str
    ok: bool
    detail: str = ""

    @property
    def changed(self) -> bool:
        return False                 # verify only reads (results.HostResult)

    @property
    def error(self) -> str:
        return "" if self.ok else self.detail


@dataclass
class VerifyRun:
    inventory: str
    started: str
    finished: str = ""
    checks: list[Check] = field(default_factory=list)
    saved: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def document(self) -> dict:
        """The saved format (contract with the report code)."""
        return {"run": {"started": self.started, "finished": self.finished, "inventory": self.inventory},
                "checks": to_plain(self.checks)}


def _run_check(ctx: Context, server: Server, service: str, name: str, fn: CheckFn) -> Check:
    try:
        return Check(server.name, server.unit, service, name, True, fn(ctx, server))
    except AssertionError as e:
        return Check(server.name, server.unit, service, name, False, str(e))
    except Exception as e:  # a service down or misconfigured is a failed check, not a crash
        detail = str(e) or type(e).__name__
        return Check(server.name, server.unit, service, name, False, f"{type(e).__name__}: {detail}"[:400])


def _unreadable(ctx: Context, server: Server) -> str:
    """Why a server's role facts cannot be read over SSH (its host key refused, no answer), else ""."""
    try:
        ctx.role_facts(server)
    except AssertionError as e:
        return str(e)
    return ""


def verify(inventory: str | Path, limit: str | None = None, timeout: float = 5.0,
           on_progress: OnProgress | None = None) -> VerifyRun:
    """Run every check on the selected servers and save the run. Raises InventoryError/BadInput on bad
    input, OperationFailed when the province was never deployed (no secrets, no CA)."""
    province = load_province(inventory)
    selected = {h.name for h in province.servers(limit)}     # BadInput: matches nothing, or no server
    center_host = province.center_server
    service_secrets = secrets.load_secrets(inventory)  # a never-deployed province stops here, offline
    run = VerifyRun(inventory=str(inventory), started=_now())
    facts = RoleFacts(province, timeout)
    ca_pem, ca_problem = provincial_ca(province, facts, timeout)
    if ca_problem:
        run.checks.append(Check(center_host.name, center_host.unit, "pki", "ca-from-center", False, ca_problem))
        if on_progress:
            on_progress(ProgressStep("verify", phase="pki", item=center_host.name, result=run.checks[-1]))
    ctx = Context(province, ca_pem, service_secrets, timeout, facts)
    plan = [(ctx.center, CENTER_CHECKS)] if ctx.center.name in selected else []
    plan += [(s, UNIT_CHECKS) for s in ctx.servers if not s.center and s.name in selected]
    total, done = sum(len(checks) for _, checks in plan), 0
    for server, checks in plan:
        unreadable = _unreadable(ctx, server)
        for service, name, fn in checks:
            if unreadable:   # host key refused, unreachable: nothing of this server is checked
                result = Check(server.name, server.unit, service, name, False, unreadable)
            else:
                result = _run_check(ctx, server, service, name, fn)
            run.checks.append(result)
            done += 1
            if on_progress:
                on_progress(ProgressStep("verify", phase=service, done=done, total=total, item=server.name,
                                         result=result))
    run.finished = _now()
    out = paths.new_run_file(inventory, "verify", ".json")   # two runs in one second: two files
    out.write_text(json.dumps(run.document(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    run.saved = str(out)
    return run


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")
