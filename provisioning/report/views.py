"""The report's tables, defined once and rendered three ways: raw numbers in XLSX (so the office can
re-total them), formatted text in HTML and PDF. A column has a header, a kind (int, pct, change, text,
date) and a getter; `View.rows` holds raw values, `formatted()` the text of the chosen language."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..render import i18n
from .figures import Report, TargetStatus, UnitFigures


@dataclass
class Column:
    header: str
    kind: str                               # int | pct | change | text | date
    get: Callable[[Any], Any]


@dataclass
class View:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None = None
    widths: list[float] | None = None        # PDF column widths, fractions of the text width

    def fmt(self, value: Any, kind: str, lang: str) -> str:
        if value is None:
            return i18n.NO_DATA
        if kind == "int":
            return i18n.fmt_number(value, lang)
        if kind == "pct":
            return i18n.fmt_percent(value, lang)
        if kind == "change":
            return i18n.fmt_signed_percent(value, lang)
        if kind == "date":
            return i18n.fmt_date(value, lang)
        return str(value)

    def formatted(self, lang: str) -> list[list[str]]:
        rows = self.rows + ([self.total] if self.total else [])
        return [[self.fmt(v, c.kind, lang) for v, c in zip(r, self.columns)] for r in rows]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def numeric(self) -> list[int]:
        return [i for i, c in enumerate(self.columns) if c.kind in ("int", "pct", "change")]


def _view(key: str, title: str, columns: list[Column], items: list, total_item: Any = None,
          widths: list[float] | None = None) -> View:
    rows = [[c.get(x) for c in columns] for x in items]
    total = [c.get(total_item) for c in columns] if total_item is not None else None
    return View(key, title, columns, rows, total, widths)


class _Total:
    """The province total row of the per-unit tables: the summary's figures, labelled "Total"."""

    def __init__(self, summary, label: str):
        self._s, self.name, self.code = summary, label, ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s, name, None)


def build_views(r: Report) -> list[View]:
    lang = r.lang

    def t(key: str, **kw) -> str:
        return i18n.t(key, lang, **kw)

    total = _Total(r.summary, t("common.total"))
    unit = Column(t("common.unit"), "text", lambda f: f.name)
    views = [
        _view("summary", t("report.s.summary"), [
            Column(t("report.indicator"), "text", lambda x: t(f"report.t.{x.key}")),
            Column(t("report.value"), "pct", lambda x: x.value),
            Column(t("common.target"), "pct", lambda x: x.target),
            Column(t("report.met"), "text",
                   lambda x: None if x.met is None else t("report.met" if x.met else "report.not_met")),
        ], r.targets + _extra_targets(r), widths=[0.55, 0.15, 0.15, 0.15]),
        _view("accounts", t("report.s.accounts"), [
            unit,
            Column(t("report.c.on_roster"), "int", lambda f: f.on_roster),
            Column(t("report.c.eligible"), "int", lambda f: f.eligible),
            Column(t("report.c.accounts"), "int", lambda f: f.accounts),
            Column(t("report.c.mailboxes"), "int", lambda f: f.mailboxes),
            Column(t("report.c.eligible_with_mailbox"), "int", lambda f: f.eligible_with_mailbox),
            Column(t("report.c.mailbox_ratio"), "pct", lambda f: f.mailbox_ratio),
        ], r.units, total, widths=[0.34] + [0.11] * 6),
        _view("mail", t("report.s.mail"), [
            unit,
            Column(t("report.c.mailboxes"), "int", lambda f: f.mailboxes),
            Column(t("report.c.mail_users"), "int", lambda f: f.mail_users),
            Column(t("report.c.mail_users_wan"), "int", lambda f: f.mail_users_wan),
            Column(t("report.c.mail_users_internet"), "int", lambda f: f.mail_users_internet),
            Column(t("report.c.mail_users_webmail"), "int", lambda f: f.mail_users_webmail),
            Column(t("report.c.mail_use_ratio"), "pct", lambda f: f.mail_use_ratio),
        ], r.units, total, widths=[0.34] + [0.11] * 6),
        _view("hardware", t("report.s.hardware"), [
            unit,
            Column(t("report.c.hosts"), "int", lambda f: f.hosts),
            Column(t("report.c.hosts_audited"), "int", lambda f: f.hosts_audited),
            Column(t("report.c.hosts_meeting"), "int", lambda f: f.hosts_meeting),
            Column(t("report.c.hardware_ratio"), "pct", lambda f: f.hardware_ratio),
            Column(t("report.c.hardware_change"), "change", lambda f: f.hardware_change),
            Column(t("report.c.services"), "text", lambda f: _services(f)),
            Column(t("report.c.services_failing"), "text", lambda f: "; ".join(f.failing_checks or []) or None),
        ], r.units, total, widths=[0.22, 0.08, 0.09, 0.08, 0.09, 0.16, 0.1, 0.18]),
        _view("admins", t("report.s.admins"), [
            unit,
            Column(t("report.c.admin"), "text", lambda f: f.admin_name),
            Column(t("report.c.qualification"), "text", lambda f: f.admin_qualification),
            Column(t("report.c.assessment"), "text", lambda f: t(f"report.admin.{f.admin_reason}")),
        ], r.units, widths=[0.32, 0.22, 0.24, 0.22]),
        _view("forms", t("report.s.forms"), [
            unit,
            Column(t("report.c.form"), "text", lambda f: t(f"report.form.{f.form_status}")),
            Column(t("report.c.arrived"), "date", lambda f: f.form_arrived),
            Column(t("report.c.training"), "text", lambda f: _training(f, lang)),
            Column(t("report.c.software"), "text", lambda f: _software(f, lang)),
            Column(t("report.c.drafting"), "text",
                   lambda f: None if f.drafting_signing is None else i18n.fmt_bool(f.drafting_signing, lang)),
        ], r.units, widths=[0.25, 0.1, 0.13, 0.11, 0.29, 0.12]),
        _view("trend", t("report.s.trend"), [
            Column(t("report.c.month"), "text", lambda p: p["month"]),
            *[Column(t(f"report.t.{k}"), "pct", (lambda k: lambda p: p.get(k))(k))
              for k in ("mailbox_ratio", "mail_use_ratio", "drafting_ratio", "admin_ratio", "hardware_ratio",
                        "services_ratio")],
        ], r.trend, widths=[0.1] + [0.15] * 6),
    ]
    return views


def _extra_targets(r: Report) -> list:
    """Hardware and services have no numeric target in the directive: shown without one."""
    return [TargetStatus(k, getattr(r.summary, k), None, None) for k in ("hardware_ratio", "services_ratio")]


def _services(f) -> str | None:
    """"passing/deployed": lists of service names for a unit, counts for the province total."""
    deployed, passing = f.services_deployed, f.services_passing
    if deployed is None:
        return None
    return f"{len(passing)}/{len(deployed)}" if isinstance(deployed, list) else f"{passing}/{deployed}"


def _training(f: UnitFigures, lang: str) -> str | None:
    if f.training_sessions is None and f.trainees is None:
        return None
    return f"{i18n.fmt_number(f.training_sessions, lang)} / {i18n.fmt_number(f.trainees, lang)}"


def _software(f: UnitFigures, lang: str) -> str | None:
    if f.form_status == "missing":
        return None
    names = [i18n.t(f"report.sw.{k}", lang) for k in f.software] + ([f.software_other] if f.software_other else [])
    return ", ".join(names) or i18n.t("common.no", lang)
