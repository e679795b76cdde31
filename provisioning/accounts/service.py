"""The jobs behind `provision accounts ...`, as plain functions returning plain results (the CLI
renders them; tests and the benchmark call them directly)."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import ldap3

from .. import smb
from ..errors import BadInput, OperationFailed
from ..model import Province, load_province
from ..paths import new_run_dir
from ..results import OnProgress
from ..render.console import to_plain
from . import journal, passwords
from .apply import ApplyResult, apply_lock, apply_plan, run_batches, samba_mods
from ..model import AccountsSettings
from .directory import DISABLED, DirectoryState, Target, connect, find, read_state, resolve_target
from .mailbox import MailStore, open_store
from .plan import Plan, compute, guard_limit
from ..roster import Roster, read_roster
from .sheets import Slip, write_sheets


@dataclass
class AccountsContext:
    province: Province
    settings: AccountsSettings
    target: Target
    store: MailStore

    @property
    def inventory_dir(self) -> Path:
        return self.province.inventory_dir


def load(inventory: str | Path) -> AccountsContext:
    province = load_province(inventory)
    settings = province.settings.accounts
    return AccountsContext(province, settings, resolve_target(province, settings), open_store(province, settings))


def read(ctx: AccountsContext, roster_path: str | Path) -> Roster:
    return read_roster(roster_path, ctx.province.units, ctx.settings.headers)


@dataclass
class Observed:
    state: DirectoryState
    mailboxes: set[str]
    seconds: dict[str, float] = field(default_factory=dict)


def observe(ctx: AccountsContext) -> Observed:
    import time

    t0 = time.perf_counter()
    state = read_state(ctx.target)
    t1 = time.perf_counter()
    boxes = ctx.store.existing()
    return Observed(state, boxes, {"read_directory": t1 - t0, "list_mailboxes": time.perf_counter() - t1})


def make_plan(ctx: AccountsContext, roster: Roster, observed: Observed | None = None) -> Plan:
    observed = observed or observe(ctx)
    return compute(roster, observed.state, ctx.target, ctx.settings, mailboxes=observed.mailboxes,
                   delivered=journal.delivered_uids(ctx.inventory_dir), issued=journal.issued(ctx.inventory_dir))


def check_guard(plan: Plan, yes: bool, max_disable: str | None) -> int:
    """The mass-change guard. Returns the limit used; raises BadInput (nothing written) if exceeded."""
    if max_disable is not None:
        try:
            guard_limit(plan.enabled_before, max_disable)
        except ValueError:
            raise BadInput(f"--max-disable {max_disable!r}: expected a count (50) or a percentage of at most 100% (10%)") from None
        if not yes:
            raise BadInput("--max-disable raises the mass-change guard only together with --yes")
    limit = guard_limit(plan.enabled_before, max_disable if yes else None)
    disables = plan.count("disable")
    raised = yes and max_disable is not None
    if disables > limit or (disables and disables == plan.enabled_before and not raised):
        raise BadInput(
            f"refusing to apply: this roster would disable {disables} of {plan.enabled_before} enabled accounts "
            f"(limit {limit}: 5% of enabled accounts or 20, whichever is larger). Nothing was changed. "
            f"A truncated or wrong roster looks like this; if the roster is right, run again with "
            f"--yes --max-disable {disables}")
    return limit


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def run_dir(ctx: AccountsContext, out: Path | None) -> Path:
    """A new owner-only folder for one run (plan, result, password sheets): under --out or accounts/runs/."""
    parent = out or journal.accounts_dir(ctx.inventory_dir) / "runs"
    return new_run_dir(ctx.inventory_dir, "accounts", parent=parent, private=True)


def write_json(path: Path, obj) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(to_plain(obj), fh, ensure_ascii=False, indent=2)
    return path


def apply(ctx: AccountsContext, roster: Roster, *, yes: bool = False, max_disable: str | None = None,
          out: Path | None = None, lang: str = "vi", workers: int | None = None,
          progress: OnProgress | None = None) -> tuple[Plan, ApplyResult | None, Path | None]:
    with apply_lock(ctx.inventory_dir):
        observed = observe(ctx)
        plan = make_plan(ctx, roster, observed)
        check_guard(plan, yes, max_disable)
        if plan.empty:
            return plan, None, None
        rd = run_dir(ctx, out)
        write_json(rd / "plan.json", plan)
        result = apply_plan(plan, ctx.province, ctx.settings, ctx.target, ctx.store, sheets_dir=rd / "sheets",
                            lang=lang, workers=workers, progress=progress)
        result.timings = {**observed.seconds, **result.timings}
        write_json(rd / "result.json", result)
        return plan, result, rd


# --- single-account jobs -------------------------------------------------------------------------

def show(ctx: AccountsContext, key: str) -> dict:
    conn = connect(ctx.target)
    try:
        entry = find(conn, ctx.target, key)
    finally:
        conn.unbind()
    if entry is None:
        raise BadInput(f"no account with username or hr_id {key!r}")
    uid = entry.get("uid", [None])[0] if isinstance(entry.get("uid"), list) else entry.get("uid")
    hr = entry.get("employeeNumber")
    hr = hr[0] if isinstance(hr, list) and hr else hr
    history = [r for r in journal.read(ctx.inventory_dir) if r.get("uid") == uid or (hr and r.get("hr_id") == hr)]
    return {"entry": entry, "history": history}


def reset_password(ctx: AccountsContext, uid: str, out: Path | None = None, lang: str = "vi") -> Path:
    """A new first password (pwdReset) for an enabled account; returns the sheet written."""
    conn = connect(ctx.target)
    try:
        entry = find(conn, ctx.target, uid)
        if entry is None or _one(entry, "uid") != uid:
            raise BadInput(f"no account with username {uid!r}")
        if _one(entry, "govAccountState") == DISABLED or str(_one(entry, "mailEnabled")).upper() != "TRUE":
            raise BadInput(f"{uid} is disabled; it comes back through the roster (accounts apply)")
        secret = passwords.generate()
        has_samba = "sambasamaccount" in {str(o).lower() for o in entry.get("objectClass", [])}
        samba = samba_mods(smb.samba_attributes(ctx.target.base_dn, uid, secret.get_secret_value()), has_samba)
        # the NT hash of the file shares changes in the same request as the password
        ok = conn.modify(entry["dn"], {"userPassword": [(ldap3.MODIFY_REPLACE, [passwords.sha512_crypt(secret)])],
                                       "pwdReset": [(ldap3.MODIFY_REPLACE, ["TRUE"])],
                                       "pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, [])], **samba})
        if not ok:
            raise OperationFailed(f"{uid}: the directory refused the new password: {conn.result.get('description')}")
    finally:
        conn.unbind()
    unit = _one(entry, "departmentNumber") or ""
    unit_name = ctx.province.units[unit].name if unit in ctx.province.units else unit
    rd = run_dir(ctx, out)
    files = write_sheets(rd / "sheets", [Slip(unit, unit_name, _one(entry, "employeeNumber") or "",
                                              _one(entry, "displayName") or _one(entry, "cn") or uid, uid,
                                              _one(entry, "mail") or "", secret)],
                         f"imap.{ctx.province.dns_zone} / smtp.{ctx.province.dns_zone}", lang=lang)
    journal.append(ctx.inventory_dir, [journal.record("reset-password", _one(entry, "employeeNumber"), uid, unit,
                                                      {"userPassword": "new", "pwdReset": [None, True]},
                                                      now=_now(ctx))])
    return files[0]


def _now(ctx: AccountsContext) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(ctx.province.info.timezone))


def _one(entry: dict, attr: str):
    v = entry.get(attr)
    if isinstance(v, list):
        return v[0] if v else None
    return v


@dataclass
class PurgeResult:
    """What `accounts purge` did on the directory (`host`: its server), as every job's result."""
    cutoff: str
    purged: list[str]
    failed: list[str]
    kept_recent: int
    would_purge: list[str] = field(default_factory=list)   # --dry-run: what a real run would delete
    host: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def changed(self) -> bool:
        return bool(self.purged)

    @property
    def error(self) -> str:
        return f"{len(self.failed)} not purged; first: {self.failed[0]}" if self.failed else ""


def _parse_gt(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    # GeneralizedTime first: Python 3.11's fromisoformat also accepts "20261125114135Z" but reads it
    # as 14:13 UTC, which put the disabling of an official hours into the future.
    if re.fullmatch(r"\d{14}(\.\d+)?Z", text):
        return dt.datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc)
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def purge(ctx: AccountsContext, older_than_days: int | None = None, now: dt.datetime | None = None,
          dry_run: bool = False) -> PurgeResult:
    """Delete accounts disabled longer than the retention, with their mail. The username stays
    reserved: the entry is replaced by a tombstone (objectClass account, the hr_id in description).
    With dry_run, only say which accounts that would be (nothing is written)."""
    days = ctx.settings.retention_days if older_than_days is None else older_than_days
    if days < 0:
        raise BadInput("--older-than must be 0 or more days")
    now = now or dt.datetime.now(dt.timezone.utc)
    cutoff = now - dt.timedelta(days=days)
    with apply_lock(ctx.inventory_dir):
        observed = observe(ctx)
        victims, recent = [], 0
        for p in observed.state.people.values():
            if p.tombstone or p.active or p.state != DISABLED:
                continue
            at = _parse_gt(p.disabled_at)
            if at is None or at.tzinfo is None:
                continue
            if at <= cutoff:
                victims.append(p)
            else:
                recent += 1
        if dry_run:
            return PurgeResult(cutoff=cutoff.isoformat(timespec="seconds"), purged=[], failed=[],
                               kept_recent=recent, would_purge=sorted(p.uid for p in victims), host=ctx.target.host)
        t = ctx.target
        batches = [(i, [("delete", p.dn, {}),
                        ("add", p.dn, {"objectClass": ["account"], "uid": [p.uid],
                                       "description": [f"purged hr_id={p.hr_id}; {now.date().isoformat()}"]})])
                   for i, p in enumerate(victims)]
        results = dict(run_batches(t, batches)) if batches else {}
        purged = [p.uid for i, p in enumerate(victims) if not results.get(i)]
        failed = [f"{p.uid}: {results[i]}" for i, p in enumerate(victims) if results.get(i)]
        ctx.store.remove(purged)  # mail goes only with an identity that is gone
        journal.append(ctx.inventory_dir, [journal.record("purge", p.hr_id, p.uid, p.unit,
                                                          {"disabled_at": p.disabled_at}, now=_now(ctx))
                                           for i, p in enumerate(victims) if not results.get(i)])
    return PurgeResult(cutoff=cutoff.isoformat(timespec="seconds"), purged=purged, failed=failed, kept_recent=recent,
                       host=ctx.target.host)
