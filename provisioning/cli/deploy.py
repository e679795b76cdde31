"""`provision deploy`: install and configure the baseline services on the province's servers."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.live import Live

from .. import errors
from ..deploy.runner import DeployResult, HostStats, deploy
from ..results import ProgressStep
from ..render.console import console, print_json, table, to_plain
from .common import InventoryOpt, JsonOpt, LimitOpt

COLUMNS = ["host", "ok", "changed", "failed", "unreachable", "skipped", "status"]


def _rows(hosts: list[HostStats]) -> list[list]:
    """The recap's task counts per host."""
    return [[h.host, h.tasks_ok, h.tasks_changed, h.failed, h.unreachable, h.skipped, h.status] for h in hosts]


class _LiveTable:
    """The hosts seen so far with their counts and current task, redrawn at each step."""

    def __init__(self, live: Live):
        self.live, self.hosts = live, {}

    def __call__(self, step: ProgressStep) -> None:
        self.hosts[step.item] = step.result
        self.live.update(table(f"deploy: {step.phase}", ["host", "ok", "changed", "failed", "unreachable", "task"],
                               [[h.host, h.tasks_ok, h.tasks_changed, h.failed, h.unreachable, h.task[:60]]
                                for h in self.hosts.values()]))


def run(inventory: Path = InventoryOpt, limit: str = LimitOpt,
        check: bool = typer.Option(False, "--check", help="Dry run: report what would change, change nothing."),
        diff: bool = typer.Option(False, "--diff", help="Show file differences (never for secret files)."),
        tags: str = typer.Option(None, "--tags", help="Only these role tags (comma-separated: common, pki, "
                                                      "directory, ...)."),
        mitogen: bool = typer.Option(True, "--mitogen/--no-mitogen",
                                     help="Run the tasks through Mitogen (one Python per host, about 3x faster; "
                                          "default) or through plain Ansible over SSH."),
        json: bool = JsonOpt) -> int:
    """Deploy the baseline services (playbooks/site.yml) to the province's servers.

    Exit 0 when every host converged, 1 when a host failed or was unreachable, 2 on bad input."""
    if json:
        result = deploy(inventory, limit=limit, check=check, diff=diff, tags=tags, mitogen=mitogen)
        print_json(_summary(result))
    else:
        with Live(console=console, refresh_per_second=4, transient=True) as live:
            result = deploy(inventory, limit=limit, check=check, diff=diff, tags=tags, mitogen=mitogen,
                            on_progress=_LiveTable(live))
        console.print(table(f"deploy {result.inventory}{' (check)' if check else ''}: {result.seconds} s "
                            f"({result.engine})",
                            COLUMNS, _rows(result.hosts)))
        if result.error:
            console.print(f"[red]playbook failed[/]: {result.error}", highlight=False, markup=False)
        for h in result.hosts:
            if h.error:
                console.print(f"[red]{h.host}[/]: {h.error}", highlight=False)
            if h.note:
                console.print(f"[yellow]{h.host}[/]: {h.note}", highlight=False)
        if result.ok and result.changed == 0:
            console.print("[green]no changes[/]: every host was already as described"
                          if not check else "[green]no changes[/]: nothing would change")
        console.print(f"artifacts: {result.artifacts}", highlight=False)
    return errors.OK if result.ok else errors.FAILED


def _summary(r: DeployResult) -> dict:
    return {"inventory": r.inventory, "run": r.run, "check": r.check, "ok": r.ok, "status": r.status,
            "rc": r.rc, "seconds": r.seconds, "engine": r.engine, "changed": r.changed, "no_changes": r.ok and r.changed == 0,
            "artifacts": r.artifacts, "error": r.error, "hosts": [_host(h) for h in r.hosts]}


def _host(h: HostStats) -> dict:
    """A host as every job's result shows it (host, ok, changed, error), then the recap's task counts."""
    return {"host": h.host, "ok": h.ok, "changed": h.changed, "error": h.error, "status": h.status,
            **{k: v for k, v in to_plain(h).items() if k not in ("host", "error")}}
