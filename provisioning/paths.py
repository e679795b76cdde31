"""Where a province's state lives on the operator's machine.

Each province (inventory directory) has a data directory, `$PROVISION_DATA/<inventory name>/`
(default `./var/<inventory name>/`, ignored by git), holding one sub-directory per job:

    audit/<run>/audit.json ...   dated audit runs (month-to-month history)
    deploy/<run>/                ansible-runner artifacts of each deploy
    verify/<run>.json            results of `provision verify`
    accounts/                    journal.jsonl, issued usernames, password sheets (0700)
    report/<YYYY-MM>/            monthly reports and filled unit forms
    secrets/                     generated secrets (ansible-vault), owner-only
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path


def data_root() -> Path:
    return Path(os.environ.get("PROVISION_DATA", "var"))


def data_dir(inventory_dir: str | Path, job: str | None = None) -> Path:
    """`var/<inventory name>/<job>/` (created, owner-only for secrets and accounts)."""
    d = data_root() / Path(inventory_dir).resolve().name
    if job:
        d = d / job
    d.mkdir(parents=True, exist_ok=True)
    if job in ("secrets", "accounts"):
        os.chmod(d, 0o700)
    return d


def run_stamp(now: dt.datetime | None = None) -> str:
    """A sortable, filesystem-safe name for one run: 2026-11-25T10-30-05."""
    return (now or dt.datetime.now()).strftime("%Y-%m-%dT%H-%M-%S")
