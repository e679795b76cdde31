"""Where a province's state lives on the operator's machine.

Each province (inventory directory `<project>/inventory/<name>`) has a data directory
`<project>/var/<name>/` (ignored by git), or `$PROVISION_DATA/<name>/` when that is set, holding one
sub-directory per job. It does not depend on the current directory, so every command of one province
finds the same history:

    audit/<run>/audit.json ...   dated audit runs (month-to-month history)
    deploy/<run>/                ansible-runner artifacts of each deploy
    verify/<run>.json            results of `provision verify`
    backup/<run>/, restore/<run>/  ansible-runner artifacts of backup jobs
    accounts/                    journal.jsonl, issued usernames, runs/<run>/ password sheets (0700)
    report/<YYYY-MM>/            monthly reports and filled unit forms
    secrets/                     generated secrets (ansible-vault), owner-only
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path


def data_root(inventory_dir: str | Path) -> Path:
    env = os.environ.get("PROVISION_DATA")
    return Path(env) if env else Path(inventory_dir).resolve().parent.parent / "var"


def data_dir(inventory_dir: str | Path, job: str | None = None) -> Path:
    """`var/<inventory name>/<job>/` (created, owner-only for secrets and accounts)."""
    d = data_root(inventory_dir) / Path(inventory_dir).resolve().name
    if job:
        d = d / job
    d.mkdir(parents=True, exist_ok=True)
    if job in ("secrets", "accounts"):
        os.chmod(d, 0o700)
    return d


def run_stamp(now: dt.datetime | None = None) -> str:
    """A sortable, filesystem-safe name for one run: 2026-11-25T10-30-05."""
    return (now or dt.datetime.now()).strftime("%Y-%m-%dT%H-%M-%S")


def _claim(parent: Path, suffix: str, make, now: dt.datetime | None) -> Path:
    """The first free `<stamp><suffix>`, `<stamp>-2<suffix>`, ... in `parent`, claimed by `make` (which
    fails with FileExistsError when another run took the name first: no check-then-create race)."""
    parent.mkdir(parents=True, exist_ok=True)
    stamp = run_stamp(now)
    n = 1
    while True:
        candidate = parent / f"{stamp}{'' if n == 1 else f'-{n}'}{suffix}"
        try:
            make(candidate)
            return candidate
        except FileExistsError:
            n += 1


def new_run_dir(inventory_dir: str | Path, job: str, suffix: str = "", *, parent: str | Path | None = None,
                private: bool = False, now: dt.datetime | None = None) -> Path:
    """A new, empty folder for one run of `job`: `var/<inventory>/<job>/<stamp><suffix>/` (or under
    `parent`, e.g. an `--out` folder). Two runs started in the same second get distinct folders
    (`<stamp>-2<suffix>` ...). `private`: owner-only (0700), for folders that hold passwords."""
    base = Path(parent) if parent is not None else data_dir(inventory_dir, job)

    def make(p: Path) -> None:
        p.mkdir(mode=0o700 if private else 0o777)
        if private:
            os.chmod(p, 0o700)

    return _claim(base, suffix, make, now)


def new_run_file(inventory_dir: str | Path, job: str, suffix: str, *, now: dt.datetime | None = None) -> Path:
    """A new, empty file for one run of a job whose result is a single file (`var/<inventory>/<job>/
    <stamp><suffix>`, e.g. verify's `.json`); created exclusively, as new_run_dir."""
    def make(p: Path) -> None:
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))

    return _claim(data_dir(inventory_dir, job), suffix, make, now)
