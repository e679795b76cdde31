"""Snapshots of the province's servers: take, list, restore.

The work happens on each server in /usr/local/sbin/provision-backup (installed by the `backup` role,
also run daily by cron); this module selects the servers, runs the script there and turns its JSON
answers into results for the CLI. A snapshot never leaves its server here; copying backup_dir off
site is the operator's job (documented in roles/backup/README.md).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInput
from ..model import load_province
from . import remote

SCRIPT = "/usr/local/sbin/provision-backup"
SNAPSHOT = re.compile(r"^(latest|\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d)$")
MAILBOX = re.compile(r"^[a-z0-9._-]+@[a-z0-9.-]+$")


@dataclass
class Snapshot:
    host: str
    snapshot: str
    time: str
    entries: int | None = None       # directory entries (ldap-data.ldif)
    messages: int | None = None      # messages in the mail store
    bytes: int = 0
    seconds: float = 0.0

    @classmethod
    def from_manifest(cls, m: dict) -> "Snapshot":
        parts = m.get("parts", {})
        return cls(host=m["host"], snapshot=m["snapshot"], time=m["time"],
                   entries=parts.get("ldap-data.ldif", {}).get("entries"),
                   messages=parts.get("vmail.tar.gz", {}).get("messages"),
                   bytes=sum(p.get("bytes", 0) for p in parts.values()), seconds=m.get("seconds", 0.0))

    def age_hours(self, now: dt.datetime | None = None) -> float:
        taken = dt.datetime.fromisoformat(self.time)
        return round(((now or dt.datetime.now(taken.tzinfo)) - taken).total_seconds() / 3600, 1)


@dataclass
class BackupHostResult:
    """One server's answer to `backup run` (changed: a snapshot was taken) or `backup list`."""
    host: str
    ok: bool
    error: str = ""
    snapshots: list[Snapshot] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: bool = False


@dataclass
class RestoreResult:
    host: str
    snapshot: str
    ok: bool
    entries: int | None = None        # entries loaded back into the directory
    messages: int | None = None       # messages now in the restored mail store / mailbox
    previous_database: str | None = None
    error: str = ""

    @property
    def changed(self) -> bool:
        return self.ok                # a restore that ran replaced data on the server


def _hosts(inventory: str | Path, limit: str | None) -> list[str]:
    """The servers selected by --limit (a snapshot lives on a server); BadInput when none."""
    return [h.name for h in load_province(inventory).servers(limit)]


def _error(reply: remote.Reply) -> str:
    if reply.rc is None:
        return f"unreachable: {reply.stderr.strip()[:300]}"
    text = (reply.stderr or reply.stdout).strip()
    if "No such file" in text and SCRIPT in text:
        return "the backup role is not deployed on this server (provision deploy --tags backup)"
    return text[-500:] or f"exit {reply.rc}"


def run(inventory: str | Path, limit: str | None = None) -> list[BackupHostResult]:
    """Take a snapshot on every selected server, now."""
    hosts = _hosts(inventory, limit)
    out = []
    for host, reply in remote.run(inventory, hosts, [SCRIPT, "run"], "backup").items():
        if reply.ok:
            m = json.loads(reply.stdout)
            out.append(BackupHostResult(host, True, snapshots=[Snapshot.from_manifest(m)],
                                        removed=m.get("removed", []), changed=True))
        else:
            out.append(BackupHostResult(host, False, _error(reply)))
    return out


def list_snapshots(inventory: str | Path, limit: str | None = None) -> list[BackupHostResult]:
    """Snapshots kept on every selected server, oldest first."""
    hosts = _hosts(inventory, limit)
    out = []
    for host, reply in remote.run(inventory, hosts, [SCRIPT, "list"], "backup").items():
        if reply.ok:
            snapshots = [Snapshot.from_manifest(m) for m in json.loads(reply.stdout)]
            out.append(BackupHostResult(host, True, snapshots=snapshots))
        else:
            out.append(BackupHostResult(host, False, _error(reply)))
    return out


def restore(inventory: str | Path, host: str, snapshot: str, what: list[str],
            mailbox: str | None = None) -> RestoreResult:
    """Restore the directory and/or the mail store of one server from one of its snapshots.

    The directory's current database is moved aside on the server (never deleted)."""
    if not SNAPSHOT.match(snapshot):
        raise BadInput(f"--from {snapshot!r}: expected a snapshot name like 2026-11-25T01-30-00 or 'latest' "
                       f"(see `provision backup list`)")
    bad = set(what) - {"ldap", "mail"}
    if bad or not what:
        raise BadInput(f"--what {','.join(what)!r}: choose among ldap, mail")
    if mailbox and not MAILBOX.match(mailbox):
        raise BadInput(f"--mailbox {mailbox!r}: expected uid@domain")
    province = load_province(inventory)
    if host not in province.hosts:
        raise BadInput(f"--host {host!r}: no such host in {inventory}")
    hosts = [h.name for h in province.servers(host)]
    argv = [SCRIPT, "restore", "--from", snapshot, "--what", ",".join(what)]
    if mailbox:
        argv += ["--mailbox", mailbox]
    reply = remote.run(inventory, hosts, argv, "backup")[host]
    if not reply.ok:
        return RestoreResult(host, snapshot, False, error=_error(reply))
    done = json.loads(reply.stdout)
    return RestoreResult(host, done["snapshot"], True,
                         entries=done.get("ldap", {}).get("entries"),
                         messages=done.get("mail", {}).get("messages"),
                         previous_database=done.get("ldap", {}).get("previous"))
