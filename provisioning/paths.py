"""Where a province's state lives on the operator's machine.

Each province (inventory directory `<project>/inventory/<name>`) has a data directory
`<project>/var/<name>/` (ignored by git), or `$PROVISION_DATA/<name>/` when that is set, holding one
sub-directory per job. It does not depend on the current directory, so every command of one province
finds the same history:

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
