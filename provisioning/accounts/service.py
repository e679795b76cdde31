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
from .directory import DISABLED, DirectoryState, Target, connect, entries, find, read_state, resolve_target
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

    def fingerprint(self) -> str:
        """A digest of what the plan was computed from (people, unit groups, mailboxes): an apply
        that was shown a plan refuses to run when the directory has changed since."""
        import hashlib
        from dataclasses import astuple

        h = hashlib.sha256()
        for uid in sorted(self.state.people):
            h.update(repr(astuple(self.state.people[uid])).encode())
        for unit in sorted(self.state.groups):
            h.update(repr((unit, sorted(m.lower() for m in self.state.groups[unit]))).encode())
        h.update(repr(sorted(self.state.foreign_uids)).encode())
        h.update(repr(sorted(self.mailboxes)).encode())
        return h.hexdigest()


class DirectoryChanged(BadInput):
    """The directory changed between the plan the operator accepted and the apply: plan again."""


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
          progress: OnProgress | None = None, expect: str | None = None,
          operator: str | None = None, source: str | None = None,
          holder: str | None = None, overlap: bool = True) -> tuple[Plan, ApplyResult | None, Path | None]:
    """`expect`: the `Observed.fingerprint()` of the plan that was shown (DirectoryChanged if the
    directory moved since); `operator`/`source`: for the journal; `holder`: shown to whoever finds
    the lock taken; `overlap=False`: the phases one after another (the benchmark's reference)."""
    with apply_lock(ctx.inventory_dir, holder):
        observed = observe(ctx)
        if expect is not None and observed.fingerprint() != expect:
            raise DirectoryChanged("the directory changed since this plan was made; nothing was changed: "
                                   "upload the roster again for a new plan")
        plan = make_plan(ctx, roster, observed)
        check_guard(plan, yes, max_disable)
        if plan.empty:
            return plan, None, None
        rd = run_dir(ctx, out)
        write_json(rd / "plan.json", plan)
        result = apply_plan(plan, ctx.province, ctx.settings, ctx.target, ctx.store, sheets_dir=rd / "sheets",
                            lang=lang, workers=workers, progress=progress, operator=operator, source=source,
                            overlap=overlap)
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


def reset_password(ctx: AccountsContext, uid: str, out: Path | None = None, lang: str = "vi", *,
                   operator: str | None = None, source: str | None = None) -> Path:
    """A new first password (pwdReset) for an enabled account; returns the sheet written.
    `operator`/`source`: who asked and from where, for the journal."""
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
        ok = conn.modify(entry["dn"], {"userPassword": [(ldap3.MODIFY_REPLACE, [passwords.first_password_hash(secret)])],
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
                                                      now=_now(ctx), who=operator, source=source)])
    return files[0]


# --- what the web console asks (the same directory and journal as the CLI) ----------------------

def note(ctx: AccountsContext, action: str, uid: str, changes: dict | None = None, *, operator: str,
         source: str | None, unit: str | None = None, hr_id: str | None = None) -> None:
    """Journal an action that changed no account attribute (a login, a sheet downloaded, a second
    factor reset) with who did it and from where. Never pass a password: secret attributes are dropped."""
    journal.append(ctx.inventory_dir, [journal.record(action, hr_id, uid, unit, changes or {}, now=_now(ctx),
                                                      who=operator, source=source)])


@dataclass
class Hit:
    uid: str
    hr_id: str
    name: str
    unit: str
    state: str           # active | disabled
    mail: str


def fold(text: str) -> str:
    """Search form: lower-case, no diacritics ("Nguyễn Văn An" -> "nguyen van an"); đ has no decomposition."""
    import unicodedata

    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def search(ctx: AccountsContext, query: str, unit: str | None = None, limit: int = 50) -> list[Hit]:
    """Officials whose name (with or without diacritics), username or HR id contains `query`;
    `unit` limits the search to one unit (a unit administrator's view). Tombstones are left out."""
    q = fold(query)
    if not q:
        return []
    filt = "(&(objectClass=govMailAccount)(employeeNumber=*)"
    filt += f"(departmentNumber={escape(unit)}))" if unit else ")"
    conn = connect(ctx.target)
    hits = []
    try:
        for _, a in entries(conn, ctx.target.people, filt, ["uid", "employeeNumber", "cn", "departmentNumber",
                                                            "govAccountState", "mailEnabled", "mail"]):
            uid, hr, cn = _first(a, "uid") or "", _first(a, "employeeNumber") or "", _first(a, "cn") or ""
            if q in fold(cn) or q in uid.lower() or q in hr.lower():
                active = str(_first(a, "mailEnabled")).upper() == "TRUE" and _first(a, "govAccountState") != DISABLED
                hits.append(Hit(uid, hr, cn, _first(a, "departmentNumber") or "", "active" if active else DISABLED,
                                _first(a, "mail") or ""))
    finally:
        conn.unbind()
    hits.sort(key=lambda h: (not fold(h.name).startswith(q) and h.uid != q, h.name.split(" ")[-1:], h.name, h.uid))
    return hits[:limit]


def official(ctx: AccountsContext, uid: str) -> dict | None:
    """One official for the console's page: unit, status, mailbox, last password change, history.
    None when there is no such person (tombstones and service entries included)."""
    conn = connect(ctx.target)
    try:
        entry = find(conn, ctx.target, uid)
        if entry is not None:
            conn.search(entry["dn"], "(objectClass=*)", search_scope=ldap3.BASE,
                        attributes=["pwdChangedTime", "pwdAccountLockedTime", "pwdReset"])
            ops = conn.response[0]["attributes"] if conn.response else {}
    finally:
        conn.unbind()
    if entry is None or _one(entry, "uid") != uid or not _one(entry, "employeeNumber"):
        return None
    active = str(_one(entry, "mailEnabled")).upper() == "TRUE" and _one(entry, "govAccountState") != DISABLED
    try:
        mailbox = uid in ctx.store.existing()
    except Exception:  # the mail store unreachable: the page says "unknown", not "missing"
        mailbox = None
    changed = ops.get("pwdChangedTime")
    changed = changed[0] if isinstance(changed, list) and changed else changed
    if changed and not hasattr(changed, "isoformat"):
        changed = _parse_gt(str(changed))
    if changed is not None and getattr(changed, "tzinfo", None) is not None:
        changed = changed.astimezone(_now(ctx).tzinfo).replace(microsecond=0)
    return {"uid": uid, "hr_id": _one(entry, "employeeNumber"), "name": _one(entry, "cn") or "",
            "unit": _one(entry, "departmentNumber") or "", "title": _one(entry, "title") or "",
            "mail": _one(entry, "mail") or "", "state": "active" if active else DISABLED,
            "mailbox": mailbox, "quota_mb": _one(entry, "mailQuotaMB"),
            "password_changed": changed.isoformat() if hasattr(changed, "isoformat") else changed,
            "must_change": str(_one(ops, "pwdReset") if ops.get("pwdReset") else "").upper() == "TRUE",
            "history": [r for r in journal.read(ctx.inventory_dir) if r.get("uid") == uid]}


def escape(text: str) -> str:
    from ldap3.utils.conv import escape_filter_chars

    return escape_filter_chars(text)


def _first(attrs: dict, name: str):
    v = attrs.get(name)
    if isinstance(v, list):
        return v[0] if v else None
    return v


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


@dataclass
class InactiveAccount:
    uid: str
    unit: str
    name: str
    last_sign_in: str | None       # the directory's last successful bind (lastbind's authTimestamp); None: never
    since: str                     # last sign-in, or the account's creation when it never signed in
    days: int


@dataclass
class InactiveResult:
    """`accounts inactive`: enabled accounts with no sign-in for `days` days (read-only)."""
    days: int
    cutoff: str
    accounts: list[InactiveAccount]
    host: str = ""
    ok: bool = True
    changed: bool = False
    error: str = ""


def inactive(ctx: AccountsContext, days: int | None = None, now: dt.datetime | None = None) -> InactiveResult:
    """Enabled accounts whose last sign-in to the directory (authTimestamp, written by slapd's lastbind
    overlay on the center; every service checks passwords there or on a replica of it) is older than
    `days` (default accounts.inactive_days), or that never signed in since created that long ago."""
    days = ctx.settings.inactive_days if days is None else days
    if days < 0:
        raise BadInput("--days must be 0 or more")
    now = now or dt.datetime.now(dt.timezone.utc)
    cutoff = now - dt.timedelta(days=days)
    t = ctx.target
    conn = connect(t)
    found = []
    try:
        for e in conn.extend.standard.paged_search(
                t.people, "(&(objectClass=inetOrgPerson)(!(govAccountState=disabled)))", search_scope=ldap3.LEVEL,
                attributes=["uid", "cn", "departmentNumber", "authTimestamp", "createTimestamp"], paged_size=500,
                generator=True):
            if e.get("type") != "searchResEntry":
                continue
            a = e["attributes"]
            last = _gt(a.get("authTimestamp"))
            since = last or _gt(a.get("createTimestamp"))
            if since is None or since > cutoff:
                continue
            found.append(InactiveAccount(uid=str(_one(a, "uid") or ""), unit=str(_one(a, "departmentNumber") or ""),
                                         name=str(_one(a, "cn") or ""),
                                         last_sign_in=last.isoformat(timespec="seconds") if last else None,
                                         since=since.isoformat(timespec="seconds"), days=(now - since).days))
    finally:
        conn.unbind()
    found.sort(key=lambda x: (x.unit, x.uid))
    return InactiveResult(days=days, cutoff=cutoff.isoformat(timespec="seconds"), accounts=found, host=t.host)


def _gt(value) -> dt.datetime | None:
    """ldap3 gives GeneralizedTime as datetime when it knows the schema, else as text."""
    v = _one({"v": value}, "v") if isinstance(value, list) else value
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    return _parse_gt(str(v)) if v else None


# --- roles (`provision accounts grant|revoke`) ---------------------------------------------------

def grant(ctx: AccountsContext, role: str, uid: str, unit: str | None = None, *, revoke: bool = False,
          operator: str | None = None, source: str | None = None):
    """Give (or take back) a console role: province-hr, province-office, or unit-admin of `unit`."""
    from . import access

    if role != "unit-admin" and unit:
        raise BadInput(f"--unit is only for unit-admin, not {role}")
    if role == "unit-admin" and unit not in ctx.province.units:
        raise BadInput(f"--unit {unit!r}: not a unit code of province.yml" if unit else "unit-admin needs --unit CODE")
    conn = connect(ctx.target)
    try:
        res = (access.revoke(conn, ctx.target, role, uid, unit) if revoke
               else access.grant(conn, ctx.target, role, uid, unit))
    finally:
        conn.unbind()
    if res.changed:
        journal.append(ctx.inventory_dir, [journal.record("revoke" if revoke else "grant", None, uid, unit,
                                                          {"group": res.group}, now=_now(ctx), who=operator,
                                                          source=source)])
    return res


def login_lookup(ctx: AccountsContext, uid: str) -> tuple[str | None, dict]:
    """The DN and a few attributes (cn, unit, state) of the person `uid`, read as the provisioner,
    before binding as them (the console's login)."""
    from . import access

    conn = connect(ctx.target)
    try:
        return access.find_dn(conn, ctx.target, uid)
    finally:
        conn.unbind()


def roles(ctx: AccountsContext, dn: str):
    """The console roles (access.Roles) of the entry `dn`, from its group memberships."""
    from . import access

    conn = connect(ctx.target)
    try:
        return access.roles_of(conn, ctx.target, dn)
    finally:
        conn.unbind()
