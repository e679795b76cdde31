"""What every job's results and progress have in common (bottom floor: imports nothing of the project).

`HostResult` is the small protocol every per-host result satisfies, whatever the job: `host` (the
inventory name, or what the job acted on), `ok` (the job did what it should there), `changed` (it
changed something there; read-only jobs: always False) and `error` (why not ok, one line; "" when ok).
Each job's own class adds its details (facts and grade, task counts, snapshots...):

    audit     audit.grading.AuditHostResult
    deploy    deploy.runner.HostStats
    backup    backup.ops.BackupHostResult, backup.ops.RestoreResult
    accounts  accounts.apply.ApplyResult, accounts.service.PurgeResult (host: the directory they wrote)
    report    report.collect.Collected (the mail logs read from one server)

`ProgressStep` is what a job hands to its progress callback (`OnProgress`) as the work goes: one shape
for every job, so the CLI draws one kind of progress bar or live table.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class HostResult(Protocol):
    @property
    def host(self) -> str: ...

    @property
    def ok(self) -> bool: ...

    @property
    def changed(self) -> bool: ...

    @property
    def error(self) -> str: ...


@dataclass(frozen=True)
class ProgressStep:
    """One step of a job: `done` of `total` items finished (None when the job cannot count them, as a
    playbook's tasks), the `phase` it is in (a play, "hash passwords"...), the `item` just handled (a host,
    an official) and, when the step finished a host, its `result`."""

    job: str
    phase: str = ""
    done: int | None = None
    total: int | None = None
    item: str = ""
    result: Any = None          # a HostResult, when the step is one host's outcome


class OnProgress(Protocol):
    def __call__(self, step: ProgressStep) -> None: ...

