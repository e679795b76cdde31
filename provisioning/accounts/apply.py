"""Make the directory and the mail store match an accepted plan.

Order, chosen so that an interruption at any point (slapd killed, network cut, operator's machine
rebooted) leaves a state the next apply converges from, with no duplicate and no account without a
mailbox:
  1. first passwords are generated and hashed (all cores), with the NT hash of each (file shares);
  2. new usernames are written to the local issued-usernames registry;
  3. mailboxes are created (idempotent, "complete" marker written last);
  4. person entries are added/modified over a few parallel ldap3 connections (ldap3's per-request
     Python cost is the bottleneck, about 0.85 ms an add; several processes overlap it with slapd's
     work and fsyncs). Each official's operations run in order on one connection;
  5. unit groups are updated for the officials whose entry is now in place;
  6. the journal gets one record per change that succeeded, and the password sheets are written
     for exactly the passwords that are now in the directory, even when some operations failed.
A created entry whose response was lost still gets a password on a sheet: the next plan sees an
entry whose password never reached the journal and re-issues it ("reissue").
"""
from __future__ import annotations

import datetime as dt
import fcntl
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import ldap3
from pydantic import SecretStr

from .. import smb
from ..errors import OperationFailed
from ..model import Province
from ..results import OnProgress, ProgressStep
from . import journal, passwords
from ..model import AccountsSettings
from .directory import ACTIVE, DISABLED, Target, connect
from .mailbox import MailStore
from .plan import Change, Plan
from .sheets import Slip, write_sheets

LOCKED_FOREVER = "000001010000Z"  # ppolicy: locked until an administrator removes it
GROUP_CHUNK = 20000               # members per request: one request per unit group in practice
PARALLEL_MIN = 200                # below this many officials, one connection in this process


@dataclass
class Failure:
    action: str
    hr_id: str
    uid: str
    error: str


@dataclass
class ApplyResult:
    """What `accounts apply` did on the directory (`host`: its server), as every job's result (results.HostResult)
    with the counts per action, the officials that failed and the password sheets written."""
    summary: dict[str, int]
    done: dict[str, int]
    failed: list[Failure]
    sheets: list[Path]
    timings: dict[str, float] = field(default_factory=dict)
    host: str = ""
    groups_updated: int = 0       # unit groups whose members were changed

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def changed(self) -> bool:
        return bool(self.done) or self.groups_updated > 0

    @property
    def error(self) -> str:
        if not self.failed:
            return ""
        f = self.failed[0]
        return f"{len(self.failed)} failed; first: {f.action} {f.uid or f.hr_id}: {f.error}"


def _gt(now: dt.datetime) -> str:
    return now.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M%SZ")


def _s(v) -> list[str]:
    """Attribute values as LDAP text (no schema is loaded on the client)."""
    if v is None or v == "":
        return []
    if isinstance(v, bool):
        return ["TRUE" if v else "FALSE"]
    return [str(v)]


# An operation is (kind, dn, payload); the operations of one change run in order.
Op = tuple[str, str, dict]


def samba_mods(samba: dict[str, list[str]], present: bool) -> dict[str, list]:
    """`smb.samba_attributes()` as modifications of an existing entry: the objectClass is added only
    when the entry does not have it yet (adding it twice is an error)."""
    mods: dict[str, list] = {k: [(ldap3.MODIFY_REPLACE, v)] for k, v in samba.items() if k != "objectClass"}
    if not present:
        mods["objectClass"] = [(ldap3.MODIFY_ADD, samba["objectClass"])]
    return mods


def person_ops(c: Change, t: Target, store: MailStore, domain: str, pw_hash: str | None, now: dt.datetime,
               samba: dict[str, list[str]] | None = None) -> list[Op]:
    """`samba`: `smb.samba_attributes()` of the same password as `pw_hash`; both go in one request,
    so that no entry ever has a password without the matching NT hash (the file shares' login)."""
    if pw_hash and not samba:
        raise ValueError(f"{c.uid}: a password without its Samba NT hash")
    dn = t.person_dn(c.uid)
    new = {k: v[1] for k, v in c.changes.items()}
    if c.action == "create":
        attrs = {"objectClass": ["inetOrgPerson", "govMailAccount"], "uid": [c.uid], "employeeNumber": [c.hr_id],
                 "mail": [f"{c.uid}@{domain}"], "mailEnabled": ["TRUE"], "govAccountState": [ACTIVE],
                 "mailHomeDirectory": [store.home(c.uid)], "userPassword": [pw_hash], "pwdReset": ["TRUE"]}
        attrs.update({k: v for k, v in samba.items() if k != "objectClass"})
        attrs["objectClass"] += samba["objectClass"]
        for k, v in new.items():
            if _s(v):
                attrs[k] = _s(v)
        ops: list[Op] = [("delete", dn, {})] if c.replaces_tombstone else []
        return ops + [("add", dn, attrs)]
    mods: dict[str, list] = {k: [(ldap3.MODIFY_REPLACE, _s(v))] for k, v in new.items()}
    if c.action == "enable":
        mods.update({"mailEnabled": [(ldap3.MODIFY_REPLACE, ["TRUE"])],
                     "govAccountState": [(ldap3.MODIFY_REPLACE, [ACTIVE])],
                     "govDisabledAt": [(ldap3.MODIFY_REPLACE, [])],
                     "pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, [])],
                     "mailHomeDirectory": [(ldap3.MODIFY_REPLACE, [store.home(c.uid)])]})
    if c.action == "disable":
        # The file shares need no flag of their own: provision-smb-sync (roles/fileshare) leaves out
        # every entry with govAccountState=disabled or a pwdAccountLockedTime, and deletes its Samba account.
        mods = {"mailEnabled": [(ldap3.MODIFY_REPLACE, ["FALSE"])],
                "govAccountState": [(ldap3.MODIFY_REPLACE, [DISABLED])],
                "govDisabledAt": [(ldap3.MODIFY_REPLACE, [_gt(now)])],
                "pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, [LOCKED_FOREVER])]}
    ops = []
    if pw_hash:
        # A separate, earlier request: ppolicy adds its own clean-up of the lock attributes to a
        # password change, which would clash with ours in the same request; and if we stop between
        # the two, the account is still disabled and the next apply re-enables it with a new password.
        # The NT hash travels with the password it belongs to.
        ops.append(("modify", dn, {"userPassword": [(ldap3.MODIFY_REPLACE, [pw_hash])],
                                   "pwdReset": [(ldap3.MODIFY_REPLACE, ["TRUE"])],
                                   **samba_mods(samba, c.samba_account)}))
    if mods:
        ops.append(("modify", dn, mods))
    return ops


def _run_one(conn: ldap3.Connection, op: Op) -> str | None:
    kind, dn, payload = op
    if kind == "add":
        ok = conn.add(dn, attributes=payload)
    elif kind == "modify":
        ok = conn.modify(dn, payload)
    else:
        ok = conn.delete(dn)
        if not ok and conn.result.get("result") == 32:  # already gone: that is what we wanted
            return None
    if ok:
        return None
    r = conn.result
    return f"{r.get('description')} ({r.get('result')}): {r.get('message', '')}".strip()


def run_batches(t: Target, batches: list[tuple[int, list[Op]]]) -> list[tuple[int, str | None]]:
    """Run each batch's operations in order on one connection; stop at the first lost connection
    and report every batch not done."""
    out: list[tuple[int, str | None]] = []
    try:
        conn = connect(t)
    except OperationFailed as e:
        return [(i, str(e)) for i, _ in batches]
    try:
        for n, (idx, ops) in enumerate(batches):
            err = None
            for op in ops:
                try:
                    err = _run_one(conn, op)
                except ldap3.core.exceptions.LDAPException as e:
                    lost = f"connection to the directory lost: {type(e).__name__}"
                    out.append((idx, lost))
                    out.extend((i, lost) for i, _ in batches[n + 1:])
                    return out
                if err:
                    break
            out.append((idx, err))
    finally:
        try:
            conn.unbind()
        except Exception:
            pass
    return out


def run_parallel(t: Target, batches: list[tuple[int, list[Op]]], workers: int) -> dict[int, str | None]:
    if len(batches) < PARALLEL_MIN or workers <= 1:
        return dict(run_batches(t, batches))
    slices = [batches[i::workers] for i in range(workers)]
    results: dict[int, str | None] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as ex:
        for part in ex.map(run_batches, [t] * workers, slices):
            results.update(part)
    return results


def group_ops(plan: Plan, t: Target, failed_dns: set[str]) -> list[tuple[str, Op]]:
    """Changes of the unit groups' members, leaving out members whose entry could not be created. The
    groups themselves belong to the directory role: a missing one is not created here (see apply_plan)."""
    ops = []
    for g in plan.groups:
        if g.missing:
            continue
        dn = t.unit_group_dn(g.unit)
        add = [m for m in g.add if m not in failed_dns]
        if g.add_placeholder:
            ops.append((g.unit, ("modify", dn, {"member": [(ldap3.MODIFY_ADD, [t.placeholder_member])]})))
        for i in range(0, len(add), GROUP_CHUNK):
            ops.append((g.unit, ("modify", dn, {"member": [(ldap3.MODIFY_ADD, add[i:i + GROUP_CHUNK])]})))
        for i in range(0, len(g.remove), GROUP_CHUNK):
            ops.append((g.unit, ("modify", dn, {"member": [(ldap3.MODIFY_DELETE, g.remove[i:i + GROUP_CHUNK])]})))
    return ops


class LockHeld(OperationFailed):
    """Another run holds the province's accounts lock; `holder` says who, when known."""

    def __init__(self, holder: str | None):
        self.holder = holder
        who = f" ({holder})" if holder else ""
        super().__init__(f"another `provision accounts` run holds the lock for this province{who}")


def lock_holder(inventory_dir: Path) -> str | None:
    """Who holds the accounts lock (as they described themselves), or None when it is free."""
    path = journal.accounts_dir(inventory_dir) / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(inventory_dir) or "?"
        return None
    finally:
        os.close(fd)


def _read_holder(inventory_dir: Path) -> str | None:
    try:
        return (journal.accounts_dir(inventory_dir) / ".lock.holder").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


@contextmanager
def apply_lock(inventory_dir: Path, holder: str | None = None):
    """One accounts run at a time per province (CLI and console alike). `holder` (e.g. "annv, console")
    is written next to the lock so that whoever is refused learns who holds it."""
    path = journal.accounts_dir(inventory_dir) / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(_read_holder(inventory_dir)) from None
        hp = journal.accounts_dir(inventory_dir) / ".lock.holder"
        hp.write_text(holder or f"{journal.operator()}, pid {os.getpid()}", encoding="utf-8")
        try:
            yield
        finally:
            try:
                hp.unlink()
            except OSError:
                pass
    finally:
        os.close(fd)


def apply_plan(plan: Plan, province: Province, settings: AccountsSettings, target: Target, store: MailStore, *,
               sheets_dir: Path, lang: str = "vi", workers: int | None = None,
               progress: OnProgress | None = None, operator: str | None = None,
               source: str | None = None) -> ApplyResult:
    """Carry out `plan`. Raises nothing for per-official failures: they are in the result.
    `operator`/`source`: who asked and from where, for the journal (default: this machine's user)."""
    timings: dict[str, float] = {}
    now = dt.datetime.now(ZoneInfo(province.info.timezone))  # the journal reads in the province's time
    inv = province.inventory_dir
    domain = province.info.mail_domain
    workers = workers or max(2, (os.cpu_count() or 1) * 2)
    def tick(phase: str, done: int, total: int) -> None:
        if progress:
            progress(ProgressStep("accounts", phase=phase, done=done, total=total))

    # 1. passwords for joiners, returning officials and interrupted first passwords
    t0 = time.perf_counter()
    need_pw = [i for i, c in enumerate(plan.changes) if c.action in ("create", "enable", "reissue")]
    secrets_: dict[int, SecretStr] = {i: passwords.generate() for i in need_pw}
    done_pw = 0

    def pw_progress(n: int) -> None:
        nonlocal done_pw
        done_pw += n
        tick("hash", done_pw, len(need_pw))

    hashes = dict(zip(need_pw, passwords.hash_many([secrets_[i] for i in need_pw], progress=pw_progress)))
    # NT hashes: pure-Python MD4, about 20 us each (0.2 s for 10,000 officials; SHA-512-crypt: 1.4 ms each)
    samba = {i: smb.samba_attributes(target.base_dn, plan.changes[i].uid, secrets_[i].get_secret_value())
             for i in need_pw}
    timings["hash"] = time.perf_counter() - t0

    # 2. usernames are reserved before any entry exists
    journal.register_issued(inv, [(c.uid, c.hr_id) for c in plan.changes if c.action == "create"])

    # 3. mailboxes before identities: an account never exists without its mailbox
    t0 = time.perf_counter()
    boxes = [c.uid for c in plan.changes if "mailbox" in c.kinds]
    store.create(boxes)
    tick("mailbox", len(boxes), len(boxes))
    timings["mailbox"] = time.perf_counter() - t0

    # 4. person entries
    t0 = time.perf_counter()
    batches = []
    for i, c in enumerate(plan.changes):
        ops = person_ops(c, target, store, domain, hashes.get(i), now, samba.get(i))
        if ops:
            batches.append((i, ops))
    results = run_parallel(target, batches, workers)
    tick("directory", len(batches), len(batches))
    timings["directory"] = time.perf_counter() - t0

    failed: list[Failure] = []
    ok_idx: set[int] = set()
    for i, c in enumerate(plan.changes):
        if err := results.get(i):
            failed.append(Failure(c.action, c.hr_id, c.uid, err))
        else:
            ok_idx.add(i)
    failed_dns = {target.person_dn(plan.changes[i].uid) for i in range(len(plan.changes))
                  if i not in ok_idx and plan.changes[i].action == "create"}

    # 5. groups
    t0 = time.perf_counter()
    gops = group_ops(plan, target, failed_dns)
    if gops and not (failed and any("connection" in f.error for f in failed)):
        by_unit: dict[str, list[Op]] = {}
        for unit, op in gops:
            by_unit.setdefault(unit, []).append(op)
        units = sorted(by_unit)
        gres = run_batches(target, [(n, by_unit[u]) for n, u in enumerate(units)])
        for n, err in gres:
            if err:
                failed.append(Failure("group", "", f"unit-{units[n]}", err))
    elif gops:
        failed.append(Failure("group", "", "*", "unit groups not updated: the directory connection was lost"))
    for g in plan.groups:
        if g.missing:
            failed.append(Failure("group", "", f"unit-{g.unit}",
                                  f"{target.unit_group_dn(g.unit)} does not exist: the directory role creates it "
                                  "(provision deploy --tags directory), then apply again"))
    timings["groups"] = time.perf_counter() - t0

    # 6. journal and sheets for what is now true in the directory
    t0 = time.perf_counter()
    records, slips = [], []
    for i in sorted(ok_idx):
        c = plan.changes[i]
        changes = dict(c.changes)
        if c.action == "disable":
            changes["govDisabledAt"] = [None, _gt(now)]
        if i in hashes:
            changes["userPassword"] = "issued"
        records.append(journal.record(c.action, c.hr_id, c.uid, c.unit, changes, now=now, who=operator,
                                      source=source))
        if i in secrets_:
            unit = province.units.get(c.unit or "")
            slips.append(Slip(unit=c.unit or "", unit_name=unit.name if unit else (c.unit or ""), hr_id=c.hr_id,
                              name=c.name, uid=c.uid, mail=f"{c.uid}@{domain}", password=secrets_[i]))
    groups_updated = 0
    for g in plan.groups:
        if not any(f.uid == f"unit-{g.unit}" or f.uid == "*" for f in failed if f.action == "group"):
            groups_updated += 1
            records.append(journal.record("group", None, f"unit-{g.unit}", g.unit,
                                          {"member_added": len(g.add), "member_removed": len(g.remove)}, now=now,
                                          who=operator, source=source))
    sheets = write_sheets(sheets_dir, slips, f"imap.{province.dns_zone} / smtp.{province.dns_zone}", lang=lang)
    journal.append(inv, records)
    timings["journal_sheets"] = time.perf_counter() - t0

    done: dict[str, int] = {}
    for i in ok_idx:
        done[plan.changes[i].action] = done.get(plan.changes[i].action, 0) + 1
    return ApplyResult(summary=plan.summary, done=done, failed=failed, sheets=sheets, timings=timings,
                       host=target.host, groups_updated=groups_updated)
