"""The month's figures, per unit and for the province, from whatever inputs exist.

Every input is optional; a missing one leaves its figures as None ("no data", never 0) and adds a
notice. Definitions (the directive's targets in brackets):

- eligible: roster rows of the unit marked eligible (need and can use a computer);
- mailbox: an active directory account with mailEnabled TRUE; *eligible with a mailbox* joins the roster
  and the directory on the HR id (employeeNumber) [100% of eligible officials have a mailbox];
- mail users: officials holding a mailbox who logged in (IMAP, webmail) or sent a message this month,
  split by origin (maillog.py): WAN and Internet by where the official was, webmail by the tool; the ratio is over officials holding a mailbox, as the directive's
  "cán bộ công chức có địa chỉ" [50% exchange mail over the WAN and the Internet];
- drafting/signing on the network: the unit's form says yes [at least 30% of units]; units without a
  form count as "no";
- network administrator: named with the required qualification (admins.py) [every unit];
- hardware: hosts of the latest audit of the month meeting the baseline (over all hosts of the run,
  as the audit counts them: runs.py), change vs the previous month's latest audit; services: verify's passing / deployed services of the unit.
Unit-based ratios are over all units of the province, the integration center included.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..logstore import StoreUse
from ..model import Province
from ..render import i18n
from . import admins, runs
from .directory import PersonStatus
from .forms import Form
from .maillog import MailEvent, Origins
from .period import Month
from .roster import RosterEntry

TARGETS = {"mailbox_ratio": 1.0, "mail_use_ratio": 0.5, "drafting_ratio": 0.3, "admin_ratio": 1.0}
TREND_KEYS = ("mailbox_ratio", "mail_use_ratio", "drafting_ratio", "admin_ratio", "hardware_ratio",
              "services_ratio")


def ratio(part: int | None, whole: int | None) -> float | None:
    """part/whole rounded to 4 decimals (report.json is compared by people and by tests)."""
    if part is None or not whole:
        return None
    return round(part / whole, 4)


@dataclass
class Inputs:
    """What was collected for the month; None = that source was not available."""
    roster: list[RosterEntry] | None = None
    people: list[PersonStatus] | None = None
    mail_events: list[MailEvent] | None = None
    audit: tuple[Path, dict] | None = None
    audit_prev: tuple[Path, dict] | None = None
    verify: tuple[Path, dict] | None = None
    forms: dict[str, Form] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)      # previous months' report.json
    sources: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)   # e.g. a damaged log file
    failed: list[str] = field(default_factory=list)     # sources that could not be collected
    webmail_hosts: list[str] = field(default_factory=list)
    log_store: StoreUse | None = None   # the center's central log store (None: not read, or none there)


@dataclass
class UnitFigures:
    code: str
    name: str
    kind: str
    on_roster: int | None = None
    eligible: int | None = None
    accounts: int | None = None
    mailboxes: int | None = None
    eligible_with_mailbox: int | None = None
    mailbox_ratio: float | None = None
    mail_users: int | None = None
    mail_users_wan: int | None = None
    mail_users_internet: int | None = None
    mail_users_webmail: int | None = None
    mail_use_ratio: float | None = None
    hosts: int | None = None
    hosts_audited: int | None = None
    hosts_meeting: int | None = None
    hardware_ratio: float | None = None
    hardware_ratio_prev: float | None = None
    hardware_change: float | None = None
    services_deployed: list[str] | None = None
    services_passing: list[str] | None = None
    services_ratio: float | None = None
    failing_checks: list[str] = field(default_factory=list)
    admin_name: str | None = None
    admin_qualification: str | None = None
    admin_qualified: bool = False
    admin_reason: str = "none_named"
    form_status: str = "missing"       # on_time | late | missing
    form_arrived: dt.date | None = None
    form_arrived_from: str | None = None
    training_sessions: int | None = None
    trainees: int | None = None
    software: list[str] = field(default_factory=list)
    software_other: str | None = None
    drafting_signing: bool | None = None


@dataclass
class Summary:
    units: int = 0
    on_roster: int | None = None
    eligible: int | None = None
    accounts: int | None = None
    mailboxes: int | None = None
    eligible_with_mailbox: int | None = None
    mailbox_ratio: float | None = None
    mail_users: int | None = None
    mail_users_wan: int | None = None
    mail_users_internet: int | None = None
    mail_users_webmail: int | None = None
    mail_users_unknown: int | None = None
    mail_use_ratio: float | None = None
    drafting_units: int = 0
    drafting_ratio: float | None = None
    admin_named: int = 0
    admin_qualified: int = 0
    admin_ratio: float | None = None
    hosts: int | None = None
    hosts_audited: int | None = None
    hosts_meeting: int | None = None
    hardware_ratio: float | None = None
    hardware_ratio_prev: float | None = None
    hardware_change: float | None = None
    services_deployed: int | None = None
    services_passing: int | None = None
    services_ratio: float | None = None
    forms_on_time: int = 0
    forms_late: int = 0
    forms_missing: int = 0
    training_sessions: int | None = None
    trainees: int | None = None


@dataclass
class TargetStatus:
    key: str
    value: float | None
    target: float | None
    met: bool | None


@dataclass
class Report:
    province: str
    inventory: str
    month: str
    lang: str
    generated: dt.datetime
    has_data: bool
    notices: list[str]
    units: list[UnitFigures]
    summary: Summary
    targets: list[TargetStatus]
    trend: list[dict]
    sources: dict[str, Any]


def _change(part: int, whole: int, prev_part: int, prev_whole: int) -> float | None:
    """Change of a ratio in points, from the exact fractions (not from two rounded ratios)."""
    if not whole or not prev_whole:
        return None
    return round(part / whole - prev_part / prev_whole, 4)


def _sum(values) -> int | None:
    values = [v for v in values if v is not None]
    return sum(values) if values else None


def _mail(unit_figs: dict[str, UnitFigures], people: list[PersonStatus], events: list[MailEvent], origins: Origins,
          month: Month, summary: Summary) -> None:
    holders = {p.uid: p for p in people if p.mailbox and p.unit}
    known = {p.uid for p in people}
    used: dict[str, set[str]] = defaultdict(set)        # uid -> origins
    unknown: set[str] = set()
    for e in events:
        if not month.contains(e.when):
            continue
        if e.user in holders:
            used[e.user].add(origins.origin(e.address))
            if e.kind == "webmail":        # Roundcube's own line: the real place, and a webmail use
                used[e.user].add("webmail")
        elif e.user not in known:
            unknown.add(e.user)
    for f in unit_figs.values():
        f.mail_users = f.mail_users_wan = f.mail_users_internet = f.mail_users_webmail = 0
    for uid, where in used.items():
        f = unit_figs.get(holders[uid].unit)
        if f is None:
            continue
        f.mail_users += 1
        f.mail_users_wan += "wan" in where
        f.mail_users_internet += "internet" in where
        f.mail_users_webmail += "webmail" in where
    for f in unit_figs.values():
        f.mail_use_ratio = ratio(f.mail_users, f.mailboxes)
    summary.mail_users_unknown = len(unknown)


def compute(province: Province, month: Month, inputs: Inputs, lang: str) -> Report:
    figs = {u.code: UnitFigures(u.code, u.name, u.kind.value) for u in province.units.values()}
    notices: list[str] = []
    s = Summary(units=len(figs))

    def notice(key: str, **kw) -> None:
        notices.append(i18n.t(f"report.notice.{key}", lang, **kw))

    # roster and directory (grouped once: a merged province has ~10,000 officials in ~140 units)
    roster_by_unit: dict[str, list[RosterEntry]] = defaultdict(list)
    for r in inputs.roster or []:
        roster_by_unit[r.unit].append(r)
    if inputs.roster is not None:
        for f in figs.values():
            rows = roster_by_unit[f.code]
            f.on_roster, f.eligible = len(rows), sum(r.eligible for r in rows)
    else:
        notice("no_roster")
    if inputs.people is not None:
        with_mailbox = {p.hr_id for p in inputs.people if p.mailbox and p.hr_id}
        people_by_unit: dict[str, list[PersonStatus]] = defaultdict(list)
        for p in inputs.people:
            people_by_unit[p.unit].append(p)
        for f in figs.values():
            mine = people_by_unit[f.code]
            f.accounts = sum(p.active for p in mine)
            f.mailboxes = sum(p.mailbox for p in mine)
            if inputs.roster is not None:
                f.eligible_with_mailbox = sum(1 for r in roster_by_unit[f.code] if r.eligible and r.hr_id in with_mailbox)
                f.mailbox_ratio = ratio(f.eligible_with_mailbox, f.eligible)
    else:
        notice("no_directory")

    # mail use
    if inputs.mail_events is None:
        notice("no_mail_logs")
    elif inputs.people is None:
        notice("mail_without_directory")
    else:
        local = [h.address for h in province.center.hosts] + list(inputs.webmail_hosts)
        origins = Origins({u.code: u.wan for u in province.units.values()}, local)
        _mail(figs, inputs.people, inputs.mail_events, origins, month, s)
        if not any(month.contains(e.when) for e in inputs.mail_events):
            notice("no_mail_events")

    # hardware
    if inputs.audit:
        # only units of the province: an audit may still list a unit merged away since
        hw = {k: v for k, v in runs.hardware_by_unit(*inputs.audit).items() if k in figs}
        prev = {k: v for k, v in runs.hardware_by_unit(*inputs.audit_prev).items() if k in figs} \
            if inputs.audit_prev else {}
        for f in figs.values():
            h = hw.get(f.code, runs.Hardware())
            f.hosts, f.hosts_audited, f.hosts_meeting, f.hardware_ratio = h.hosts, h.audited, h.meeting, ratio(
                h.meeting, h.hosts)
            p = prev.get(f.code)
            if p is not None:
                f.hardware_ratio_prev = ratio(p.meeting, p.hosts)
                f.hardware_change = _change(h.meeting, h.hosts, p.meeting, p.hosts)
        s.hosts = sum(h.hosts for h in hw.values())
        s.hosts_audited = sum(h.audited for h in hw.values())
        s.hosts_meeting = sum(h.meeting for h in hw.values())
        s.hardware_ratio = ratio(s.hosts_meeting, s.hosts)
        if prev:
            pm, ph = sum(h.meeting for h in prev.values()), sum(h.hosts for h in prev.values())
            s.hardware_ratio_prev = ratio(pm, ph)
            s.hardware_change = _change(s.hosts_meeting, s.hosts, pm, ph)
    else:
        notice("no_audit")

    # services
    if inputs.verify:
        svc = {k: v for k, v in runs.services_by_unit(*inputs.verify).items() if k in figs}
        for f in figs.values():
            sv = svc.get(f.code, runs.Services())
            f.services_deployed, f.services_passing = sv.deployed, sv.passing
            f.services_ratio, f.failing_checks = ratio(len(sv.passing), len(sv.deployed)), sv.failing_checks
        s.services_deployed = sum(len(v.deployed) for v in svc.values())
        s.services_passing = sum(len(v.passing) for v in svc.values())
        s.services_ratio = ratio(s.services_passing, s.services_deployed)
    else:
        notice("no_verify")

    # network administrators
    for u in province.units.values():
        a, f = admins.assess(u), figs[u.code]
        f.admin_name, f.admin_qualification, f.admin_qualified, f.admin_reason = (
            a.name, a.qualification, a.qualified, a.reason)
    s.admin_named = sum(f.admin_name is not None for f in figs.values())
    s.admin_qualified = sum(f.admin_qualified for f in figs.values())
    s.admin_ratio = ratio(s.admin_qualified, s.units)

    # unit forms
    for code, form in inputs.forms.items():
        f, v = figs[code], form.values
        f.form_status = "late" if form.late else "on_time"
        f.form_arrived, f.form_arrived_from = form.arrived, form.arrived_from
        f.training_sessions, f.trainees = v.get("training_sessions"), v.get("trainees")
        f.software, f.software_other = form.software, v.get("sw_other")
        f.drafting_signing = v.get("drafting_signing")
    if not inputs.forms:
        notice("no_forms")
    s.forms_on_time = sum(f.form_status == "on_time" for f in figs.values())
    s.forms_late = sum(f.form_status == "late" for f in figs.values())
    s.forms_missing = sum(f.form_status == "missing" for f in figs.values())
    s.drafting_units = sum(f.drafting_signing is True for f in figs.values())
    s.drafting_ratio = ratio(s.drafting_units, s.units) if inputs.forms else None
    s.training_sessions = _sum(f.training_sessions for f in figs.values())
    s.trainees = _sum(f.trainees for f in figs.values())

    # province totals of the per-unit counts
    units = list(figs.values())
    for key in ("on_roster", "eligible", "accounts", "mailboxes", "eligible_with_mailbox", "mail_users",
                "mail_users_wan", "mail_users_internet", "mail_users_webmail"):
        setattr(s, key, _sum(getattr(f, key) for f in units))
    s.mailbox_ratio = ratio(s.eligible_with_mailbox, s.eligible)
    s.mail_use_ratio = ratio(s.mail_users, s.mailboxes)

    targets = [TargetStatus(k, getattr(s, k), t, None if getattr(s, k) is None else getattr(s, k) >= t)
               for k, t in TARGETS.items()]
    current = {"month": str(month), **{k: getattr(s, k) for k in TREND_KEYS}}
    trend = [h for h in inputs.history if h["month"] < str(month)][-11:] + [current]
    has_data = any(x is not None for x in (inputs.roster, inputs.people, inputs.audit, inputs.verify)) \
        or bool(inputs.forms) or bool(inputs.mail_events and any(month.contains(e.when) for e in inputs.mail_events))
    if not has_data:
        notices.insert(0, i18n.t("report.notice.no_data", lang, month=i18n.fmt_month(month.year, month.month, lang)))
    if inputs.log_store is not None and inputs.log_store.full:
        ls = inputs.log_store
        notice("log_store_full", store=ls.store, host=ls.host, used=ls.used_percent, warn=ls.warn_percent)
    notices += [i18n.t("report.notice.failed", lang, detail=f) for f in inputs.failed]
    notices += [i18n.t("report.notice.warning", lang, detail=w) for w in inputs.warnings]
    return Report(province.info.name, str(province.inventory_dir), str(month), lang,
                  dt.datetime.now().replace(microsecond=0), has_data, notices, units, s, targets, trend,
                  inputs.sources)
