"""Make the directory and the mail store match an accepted plan.

Order per official, chosen so that an interruption at any point (slapd killed, network cut, operator's
machine rebooted) leaves a state the next apply converges from, with no duplicate and no account
without a mailbox:
  1. new usernames are written to the local issued-usernames registry, before anything else;
  2. the official's first password is generated and hashed, with its NT hash (file shares);
  3. the official's mailbox is created (idempotent, "complete" marker written last);
  4. the official's person entry is added/modified, only after 2 and 3 are done for them;
  5. unit groups are updated for the officials whose entry is now in place;
  6. the journal gets one record per change that succeeded (group records count the members really
     added and removed), and the password sheets are written for exactly the passwords that are now
     in the directory, even when some operations failed.
The phases overlap across officials: the plan is cut into steps (`_chunk_size`); threads hash the
passwords of a step (libcrypt releases the GIL) and create its mailboxes (one store call per step)
while the directory writes the steps before it over a few connections in worker processes (ldapwire:
BER encoded by hand), each pipelining up to WINDOW requests so that slapd's work and syncs overlap
ours. Each official's operations run in order on one connection.
When the directory connection is lost, no further step is sent; when a mailbox step fails, nobody of
that step or after it who needed a mailbox gets an entry.
A created entry whose response was lost still gets a password on a sheet: the next plan sees an
entry whose password never reached the journal and re-issues it ("reissue").
"""
from __future__ import annotations

import datetime as dt
import fcntl
import gc
import multiprocessing
import os
import time
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import ldap3
from pydantic import SecretStr

from .. import smb
from ..errors import OperationFailed
from ..model import Province
from ..results import OnProgress, ProgressStep
from . import journal, ldapwire, passwords
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


LOST = "connection to the directory lost"
WINDOW = 32          # requests in flight per connection (slapd's olcConnMaxPendingAuth is 1000)


def is_lost(err: str | None) -> bool:
    """An error that says the directory is gone (not a refusal of one operation)."""
    return bool(err) and (LOST in err or "cannot reach the directory" in err)


def run_batches(t: Target, batches: list[tuple[int, list[Op]]],
                on_done: Callable[[int, str | None], None] | None = None,
                window: int = WINDOW) -> list[tuple[int, str | None]]:
    """Run each batch's operations in order on one connection and report each batch's end through
    `on_done(index, error)` and the returned list; stop at the first lost connection and report every
    batch not done. Up to `window` batches are in flight (one request of a batch in flight, the next
    sent when its answer is a success); batches end in their order when window=1."""
    out: list[tuple[int, str | None]] = []
    finished = [False] * len(batches)

    def put(n: int, err: str | None) -> None:
        finished[n] = True
        out.append((batches[n][0], err))
        if on_done:
            on_done(batches[n][0], err)
    try:
        conn = connect(t)
    except OperationFailed as e:
        for n in range(len(batches)):
            put(n, str(e))
        return out
    wire = ldapwire.Wire(conn)
    try:
        _pipelined(wire, batches, window, put)
    except ldapwire.Lost as e:
        for n in range(len(batches)):
            if not finished[n]:
                put(n, f"{LOST}: {e}")
    finally:
        try:
            conn.unbind()
        except Exception:
            pass
    return out


def _pipelined(wire: ldapwire.Wire, batches: list[tuple[int, list[Op]]], window: int,
               put: Callable[[int, str | None], None]) -> None:
    """Run the batches in order, up to `window` of them in flight; each batch's error (None: done) goes
    to `put` (by its position in `batches`) as it ends."""
    step = [0] * len(batches)          # the next operation of each batch
    in_flight: dict[int, int] = {}     # message ID -> batch
    queue = iter(range(len(batches)))
    more = True
    while more or in_flight:
        while more and len(in_flight) < window:
            n = next(queue, None)
            if n is None:
                more = False
            elif batches[n][1]:
                in_flight[wire.send(*batches[n][1][0])] = n
            else:
                put(n, None)
        if not in_flight:
            continue
        for a in wire.answers():
            n = in_flight.pop(a.msg_id, None)
            if n is None:
                raise ldapwire.Lost("an answer to no request")
            ops = batches[n][1]
            kind = ops[step[n]][0]
            ok = a.code == 0 or (kind == "delete" and a.code == 32)  # already gone: that is what we wanted
            step[n] += 1
            if not ok:
                put(n, ldapwire.describe(a.code, a.message))
            elif step[n] == len(ops):
                put(n, None)
            else:
                in_flight[wire.send(*ops[step[n]])] = n


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


def _member_counts(op: Op, placeholder: str) -> tuple[int, int]:
    """(members added, members removed) by one group operation, the placeholder not counted."""
    kind, _, payload = op
    if kind == "add":
        return len([m for m in payload["member"] if m != placeholder]), 0
    (how, values), = payload["member"]
    n = len([m for m in values if m != placeholder])
    return (n, 0) if how == ldap3.MODIFY_ADD else (0, n)


def _chunk_size(n: int) -> int:
    """Officials per pipeline step: small enough that the directory starts early and the workers
    finish together, large enough that a remote mail store gets few SSH sessions (one per step)."""
    return max(100, -(-n // 16))


class _Pipeline:
    """Where each official's work stands, for the directory step: the password hashes and the
    mailboxes of one step are made by threads while the directory writes the steps before it."""

    def __init__(self, plan: Plan, target: Target, store: MailStore, secrets_: dict[int, SecretStr],
                 hash_workers: int, overlap: bool):
        self.plan, self.target, self.store, self.secrets = plan, target, store, secrets_
        n = len(plan.changes)
        size = _chunk_size(n)
        self.chunks = [list(range(k, min(n, k + size))) for k in range(0, n, size)]
        self.finished: dict[str, float] = {}
        self.hash_pool = ThreadPoolExecutor(max_workers=hash_workers, thread_name_prefix="hash")
        self.box_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailbox")
        self.t0 = time.perf_counter()
        self.hashes = [self.hash_pool.submit(self._hash, ch) for ch in self.chunks]
        self._stamp_when_all_done("hash", self.hashes)
        if not overlap:  # one phase after another (the reference the benchmark compares with)
            wait(self.hashes)
        self.boxes = [self.box_pool.submit(self._boxes, ch) for ch in self.chunks]
        self._stamp_when_all_done("mailbox", self.boxes)
        if not overlap:
            wait(self.boxes)

    def _stamp_when_all_done(self, name: str, futs: list) -> None:
        left = [len(futs)]
        lock = threading.Lock()

        def one(_f) -> None:
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    self.finished[name] = time.perf_counter() - self.t0
        if not futs:
            self.finished[name] = 0.0
        for f in futs:
            f.add_done_callback(one)

    def _hash(self, chunk: list[int]) -> dict[int, tuple[str, dict]]:
        # SHA-512-crypt in libcrypt releases the GIL; the NT hash (pure-Python MD4) is about 20 us.
        # First passwords (pwdReset=TRUE in the same request): 1000 rounds, see passwords.py
        out = {}
        for i in chunk:
            if i in self.secrets:
                pw = self.secrets[i]
                out[i] = (passwords.first_password_hash(pw),
                          smb.samba_attributes(self.target.base_dn, self.plan.changes[i].uid, pw.get_secret_value()))
        return out

    def _boxes(self, chunk: list[int]) -> int:
        return self.store.create([self.plan.changes[i].uid for i in chunk if "mailbox" in self.plan.changes[i].kinds])

    def close(self) -> None:
        self.hash_pool.shutdown(wait=True, cancel_futures=True)
        self.box_pool.shutdown(wait=True, cancel_futures=True)


def _split(batches: list, parts: int) -> list[list]:
    return [p for p in (batches[k::parts] for k in range(parts)) if p]


def apply_plan(plan: Plan, province: Province, settings: AccountsSettings, target: Target, store: MailStore, *,
               sheets_dir: Path, lang: str = "vi", workers: int | None = None,
               progress: OnProgress | None = None, operator: str | None = None,
               source: str | None = None, overlap: bool = True) -> ApplyResult:
    """Carry out `plan`. Raises nothing for per-official failures: they are in the result.
    `operator`/`source`: who asked and from where, for the journal (default: this machine's user).
    `overlap=False` runs the phases one after another (a reference for the benchmark)."""
    # Everything this process holds already (the plan, the roster; in the console, Django and the pages'
    # data too) is left out of the cycle collector until the end: a full collection walks every object
    # while all of the apply's threads wait: 1.3 s (CLI) to 1.8 s (console) of a 10,000-official apply,
    # 0.2-0.3 s with the freeze (tests/bench/console_bench.py prints it).
    # The directory workers forked below inherit it frozen, so their collections do not copy its pages.
    gc_clock = _GcClock()
    gc.freeze()
    try:
        result = _apply(plan, province, settings, target, store, sheets_dir=sheets_dir, lang=lang, workers=workers,
                        progress=progress, operator=operator, source=source, overlap=overlap)
    finally:
        gc.unfreeze()
        gc_clock.stop()
    result.timings["gc"] = gc_clock.seconds
    return result


def _apply(plan: Plan, province: Province, settings: AccountsSettings, target: Target, store: MailStore, *,
           sheets_dir: Path, lang: str, workers: int | None, progress: OnProgress | None, operator: str | None,
           source: str | None, overlap: bool) -> ApplyResult:
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    now = dt.datetime.now(ZoneInfo(province.info.timezone))  # the journal reads in the province's time
    inv = province.inventory_dir
    domain = province.info.mail_domain
    workers = workers or max(2, (os.cpu_count() or 1) * 2)
    def tick(phase: str, done: int, total: int) -> None:
        if progress:
            progress(ProgressStep("accounts", phase=phase, done=done, total=total))

    changes = plan.changes

    # usernames are reserved before any entry exists
    journal.register_issued(inv, [(c.uid, c.hr_id) for c in changes if c.action == "create"])

    need_pw = [i for i, c in enumerate(changes) if c.action in ("create", "enable", "reissue")]
    secrets_: dict[int, SecretStr] = {i: passwords.generate() for i in need_pw}
    n_boxes = sum(1 for c in changes if "mailbox" in c.kinds)
    parallel = len(changes) >= PARALLEL_MIN and workers > 1
    # The directory's worker processes are forked before this apply's threads start (a fork copies
    # only the calling thread: no lock of a hashing or mailbox thread can be left held in a child).
    pool = (ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
            if parallel else None)
    if pool:
        pool.submit(int).result()
    pipe = _Pipeline(plan, target, store, secrets_, os.cpu_count() or 1, overlap)

    hashes: dict[int, str] = {}
    samba: dict[int, dict] = {}
    results: dict[int, str | None] = {}
    box_error: str | None = None
    hash_error: str | None = None
    lost: str | None = None
    hashed = boxed = written = 0
    t_dir = None
    in_flight: list[tuple[Future, list[int]]] = []
    batches_total = len(changes)

    def collect(block: bool) -> None:
        nonlocal lost, written
        while in_flight and (block or in_flight[0][0].done()):
            fut, idxs = in_flight.pop(0)
            try:
                part = fut.result()
            except Exception as e:  # a worker process died: none of its officials is confirmed
                part = [(i, f"directory worker failed: {type(e).__name__}") for i in idxs]
            for i, err in part:
                results[i] = err
                if is_lost(err) and lost is None:
                    lost = err
            written += len(part)
            tick("directory", written, batches_total)

    try:
        for chunk, hf, bf in zip(pipe.chunks, pipe.hashes, pipe.boxes):
            if hash_error is None:
                try:
                    for i, (h, sa) in hf.result().items():
                        hashes[i], samba[i] = h, sa
                    hashed += sum(1 for i in chunk if i in secrets_)
                    tick("hash", hashed, len(need_pw))
                except Exception as e:  # the steps already written are still journaled below
                    hash_error = f"password not hashed: {type(e).__name__}: {e}"
            if box_error is None:
                try:
                    boxed += bf.result()
                    tick("mailbox", boxed, n_boxes)
                except Exception as e:  # no entry for anyone whose mailbox may be missing
                    box_error = f"mailbox not created: {e}"
            collect(block=False)
            batches = []
            for i in chunk:
                c = changes[i]
                if box_error and "mailbox" in c.kinds:
                    results[i] = box_error
                elif hash_error and i in secrets_:
                    results[i] = hash_error
                elif lost:
                    results[i] = f"not attempted: {lost}"
                else:
                    ops = person_ops(c, target, store, domain, hashes.get(i), now, samba.get(i))
                    if ops:
                        batches.append((i, ops))
                    else:
                        results[i] = None
            if not batches:
                continue
            if t_dir is None:
                t_dir = time.perf_counter()
            if pool:
                for part in _split(batches, workers):
                    in_flight.append((pool.submit(run_batches, target, part),
                                      [i for i, _ in part]))
            else:
                in_flight.append((_done(run_batches(target, batches)),
                                  [i for i, _ in batches]))
        collect(block=True)
    finally:
        pipe.close()
        if pool:
            pool.shutdown(wait=True)
    timings.update(pipe.finished)
    timings["directory"] = time.perf_counter() - (t_dir or time.perf_counter())
    timings["directory_end"] = time.perf_counter() - t_start

    failed: list[Failure] = []
    ok_idx: set[int] = set()
    for i, c in enumerate(changes):
        if err := results.get(i):
            failed.append(Failure(c.action, c.hr_id, c.uid, err))
        elif i in results:
            ok_idx.add(i)
    failed_dns = {target.person_dn(changes[i].uid) for i in range(len(changes))
                  if i not in ok_idx and changes[i].action == "create"}

    # unit groups, for the officials whose entry is now in place; what each operation really added
    # or removed is counted for the journal
    t0 = time.perf_counter()
    gops = group_ops(plan, target, failed_dns)
    group_done: dict[str, list[int]] = {}
    group_failed: set[str] = set()
    if gops and not lost:
        tick("groups", 0, len(gops))

        def group_tick(n: int, err: str | None) -> None:
            unit, op = gops[n]
            if err:
                if unit not in group_failed:
                    failed.append(Failure("group", "", f"unit-{unit}", err))
                group_failed.add(unit)
            else:
                a, r = _member_counts(op, target.placeholder_member)
                d = group_done.setdefault(unit, [0, 0])
                d[0] += a
                d[1] += r
            tick("groups", n + 1, len(gops))
        # one at a time: a group's operations build on each other, and a lost connection must leave
        # exactly the groups reported done changed. The directory role computes memberOf (dynlist): a
        # group change is one write (a directory configured before that keeps the memberof overlay,
        # which also writes memberOf into every member added or removed)
        run_batches(target, [(n, [op]) for n, (_, op) in enumerate(gops)], on_done=group_tick, window=1)
    elif gops:
        failed.append(Failure("group", "", "*", "unit groups not updated: the directory connection was lost"))
    for g in plan.groups:
        if g.missing:
            failed.append(Failure("group", "", f"unit-{g.unit}",
                                  f"{target.unit_group_dn(g.unit)} does not exist: the directory role creates it "
                                  "(provision deploy --tags directory), then apply again"))
    timings["groups"] = time.perf_counter() - t0

    # journal and sheets for what is now true in the directory
    t0 = time.perf_counter()
    records, slips = [], []
    for i in sorted(ok_idx):
        c = changes[i]
        diff = dict(c.changes)
        if c.action == "disable":
            diff["govDisabledAt"] = [None, _gt(now)]
        if i in hashes:
            diff["userPassword"] = "issued"
        records.append(journal.record(c.action, c.hr_id, c.uid, c.unit, diff, now=now, who=operator,
                                      source=source))
        if i in secrets_:
            unit = province.units.get(c.unit or "")
            slips.append(Slip(unit=c.unit or "", unit_name=unit.name if unit else (c.unit or ""), hr_id=c.hr_id,
                              name=c.name, uid=c.uid, mail=f"{c.uid}@{domain}", password=secrets_[i]))
    groups_updated = len(group_done)   # only the groups whose operations really happened
    for unit in sorted(group_done):
        added, removed = group_done[unit]
        records.append(journal.record("group", None, f"unit-{unit}", unit,
                                      {"member_added": added, "member_removed": removed}, now=now,
                                      who=operator, source=source))
    sheets = write_sheets(sheets_dir, slips, f"imap.{province.dns_zone} / smtp.{province.dns_zone}", lang=lang)
    journal.append(inv, records)
    timings["journal_sheets"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start

    done: dict[str, int] = {}
    for i in ok_idx:
        done[changes[i].action] = done.get(changes[i].action, 0) + 1
    return ApplyResult(summary=plan.summary, done=done, failed=failed, sheets=sheets, timings=timings,
                       host=target.host, groups_updated=groups_updated)


class _GcClock:
    """Seconds this process spent in the cycle collector (every thread waits meanwhile), for the timings."""

    def __init__(self):
        self.seconds, self._t = 0.0, 0.0
        gc.callbacks.append(self._cb)

    def _cb(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._t

    def stop(self) -> float:
        try:
            gc.callbacks.remove(self._cb)
        except ValueError:
            pass
        return self.seconds


def _done(value) -> Future:
    f: Future = Future()
    f.set_result(value)
    return f
