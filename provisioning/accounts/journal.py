"""The accounts journal and the issued-usernames registry, both append-only JSON lines.

`var/<inventory>/accounts/journal.jsonl`: one object per change
{"time", "operator", "action", "hr_id", "uid", "unit", "changes"}, plus "source" (the operator's
network address) for actions taken through the web console; `changes` maps an attribute to [old, new]. Passwords and hashes never enter it: a password change is recorded as "password": "issued".

`issued.jsonl`: every username ever issued, with its hr_id, written *before* the directory entry is
created. The directory itself remembers issued names too (disabled entries, tombstones of purged ones);
this local copy also survives a directory restored from an old backup.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from pathlib import Path
from typing import Iterable

from ..paths import data_dir

SECRET_ATTRS = {"userPassword", "password", "sambaNTPassword", "sambaLMPassword"}
PASSWORD_ACTIONS = {"create", "enable", "reissue", "reset-password"}


def accounts_dir(inventory_dir: str | Path) -> Path:
    return data_dir(inventory_dir, "accounts")


def operator() -> str:
    return os.environ.get("SUDO_USER") or getpass.getuser()


def _append(path: Path, records: Iterable[dict]) -> int:
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records]
    if not lines:
        return 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write("".join(lines))
        fh.flush()
        os.fsync(fh.fileno())
    return len(lines)


def record(action: str, hr_id: str | None, uid: str, unit: str | None, changes: dict, *,
           now: dt.datetime | None = None, who: str | None = None, source: str | None = None) -> dict:
    """`who`: the operator (default: the login user of this machine); `source`: where they acted from
    (the web console's client address), recorded only when given."""
    clean = {k: v for k, v in changes.items() if k not in SECRET_ATTRS}
    if any(k in SECRET_ATTRS for k in changes):
        clean["password"] = "issued"
    rec = {"time": (now or dt.datetime.now().astimezone()).isoformat(timespec="seconds"),
           "operator": who or operator(), "action": action, "hr_id": hr_id, "uid": uid, "unit": unit,
           "changes": clean}
    if source:
        rec["source"] = source
    return rec


def append(inventory_dir: str | Path, records: Iterable[dict]) -> int:
    return _append(accounts_dir(inventory_dir) / "journal.jsonl", records)


def read(inventory_dir: str | Path) -> list[dict]:
    path = accounts_dir(inventory_dir) / "journal.jsonl"
    if not path.exists():
        return []
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line torn by a crash: the rest of the journal still counts
    return out


def delivered_uids(inventory_dir: str | Path) -> set[str] | None:
    """Usernames whose current password reached a sheet; None when there is no journal at all
    (a fresh operator machine: then nobody's password is re-issued on a guess)."""
    path = accounts_dir(inventory_dir) / "journal.jsonl"
    if not path.exists():
        return None
    return {r["uid"] for r in read(inventory_dir) if r.get("action") in PASSWORD_ACTIONS}


def register_issued(inventory_dir: str | Path, pairs: Iterable[tuple[str, str]]) -> int:
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    return _append(accounts_dir(inventory_dir) / "issued.jsonl",
                   ({"uid": uid, "hr_id": hr, "time": now} for uid, hr in pairs))


def issued(inventory_dir: str | Path) -> dict[str, str]:
    """uid -> hr_id of every username ever issued from this machine."""
    path = accounts_dir(inventory_dir) / "issued.jsonl"
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            out.setdefault(r["uid"], r["hr_id"])
    return out
