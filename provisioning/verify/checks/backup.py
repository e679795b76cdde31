"""Backups: the newest snapshot on the server is recent (read over SSH: the manifest list of the
backup role's script, whose path the role published on the server)."""
from __future__ import annotations

import datetime as dt
import json

from ..context import Context, Server

BACKUP_MAX_AGE_HOURS = 26.0     # daily snapshots (cron) + margin


def check_backup_age(ctx: Context, server: Server) -> str:
    snapshots = json.loads(ctx.ssh(server, [ctx.fact(server, "backup", "command"), "list"]))
    if not snapshots:
        raise AssertionError(f"no snapshot in the backup directory (run `provision backup run --limit {server.name}`)")
    last = snapshots[-1]
    taken = dt.datetime.fromisoformat(last["time"])
    age = (dt.datetime.now(taken.tzinfo) - taken).total_seconds() / 3600
    if age > BACKUP_MAX_AGE_HOURS:
        raise AssertionError(f"newest snapshot {last['snapshot']} is {age:.1f} h old (> {BACKUP_MAX_AGE_HOURS:.0f} h)")
    parts = ", ".join(sorted(last.get("parts", {})))
    return f"newest snapshot {last['snapshot']}, {age:.1f} h old ({parts})"


CHECKS = (
    ("backup", "last-snapshot-age", check_backup_age),
)
