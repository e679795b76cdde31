"""`provision report monthly`: gather the month's inputs, compute the figures, write the four files.

    inputs = gather(province, month, roster=Path(...), offline=False)   # collects over SSH and LDAP
    report = figures.compute(province, month, inputs, lang)
    paths = write(report, out_dir)          # report.json, report.html, report.xlsx, report.pdf

Collection failures (mail server unreachable, LDAP bind refused) do not stop the report: the figures
of that source are left empty, the report says why, and `gather` records them in `Inputs.failed`
so that the command exits 1. Bad files (roster, forms, audit/verify JSON) raise BadInput before
anything is written.
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import logstore, paths
from ..errors import BadInput, OperationFailed
from ..model import Province
from . import collect, console_forms, directory, figures, runs
from .forms import read_forms
from .maillog import events
from .period import Month
from .roster import read_roster


def report_dir(province: Province, month: Month, lang: str = "vi") -> Path:
    """`var/<inventory>/report/<YYYY-MM>/`: the month's (Vietnamese) report files and the filled forms
    (forms/). A report in another language goes to a sub-folder (`<YYYY-MM>/en/`), so it never replaces
    the official Vietnamese one, and the trend (`history`) still reads one report per month."""
    base = paths.data_dir(province.inventory_dir, "report") / str(month)
    return base if lang == "vi" else base / lang


def mail_hosts(province: Province, names: list[str]):
    if names:
        return [province.hosts[n] for n in names]
    return province.center_servers


def central_log_store(province: Province, collected: list[collect.Collected]) -> logstore.StoreUse | None:
    """The center's central log store and its disk use (a notice when it passes the threshold), when the
    center answered for its mail logs; a store that cannot be read is verify's and compliance's finding."""
    try:
        center = province.center_server
    except LookupError:
        return None
    if any(c.host == center.name and not c.ok for c in collected):
        return None
    try:
        return logstore.read(province, center)
    except OperationFailed:
        return None


def history(province: Province) -> list[dict]:
    """Trend points of the months already reported (their report.json), oldest first."""
    out = []
    for p in sorted(paths.data_dir(province.inventory_dir, "report").glob("*/report.json")):
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            out.append({"month": data["month"], **{k: data["summary"].get(k) for k in figures.TREND_KEYS}})
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged old report must not stop this month's
    return out


def gather(province: Province, month: Month, *, roster: Path | None = None, forms_dir: Path | None = None,
           logs_dir: Path | None = None, offline: bool = False) -> figures.Inputs:
    cfg = province.settings.report
    for flag, d in (("--forms", forms_dir), ("--logs", logs_dir)):
        if d is not None and not Path(d).is_dir():
            raise BadInput(f"{flag} {d}: no such directory")
    g = figures.Inputs(webmail_hosts=cfg.webmail_hosts)
    if roster:
        g.roster = read_roster(roster, province)
        g.sources["roster"] = str(roster)
    if forms_dir is None:
        forms_dir = report_dir(province, month) / "forms"
        if not offline:   # forms the units submitted on the web console, on the center
            fetched = console_forms.fetch(province, month, forms_dir)
            g.failed += [f"console forms: {f.error}" for f in fetched if not f.ok]
            if any(f.console for f in fetched):
                g.sources["console_forms"] = [f"{f.host}: {len(f.copied)} copied, {f.unchanged} unchanged"
                                              for f in fetched if f.console]
    g.forms = read_forms(forms_dir, province, month)
    g.sources["forms"] = str(forms_dir)
    data = paths.data_dir(province.inventory_dir)
    audits = runs.audit_files(data / "audit")
    g.audit, g.audit_prev = runs.latest(audits, month), runs.latest(audits, month.prev())
    g.verify = runs.latest(runs.verify_files(data / "verify"), month)
    for key, found in (("audit", g.audit), ("audit_prev", g.audit_prev), ("verify", g.verify)):
        if found:
            g.sources[key] = str(found[0])
    patterns = tuple(cfg.mail_logs)
    if logs_dir:
        g.mail_events = events(collect.from_directory(logs_dir, patterns), province.info.mail_domain, g.warnings)
        g.sources["mail_logs"] = str(logs_dir)
    elif not offline:
        collected = collect.from_hosts(province, mail_hosts(province, cfg.mail_hosts), patterns)
        g.failed += [f"mail logs: {c.error}" for c in collected if not c.ok]
        logs = [f for c in collected for f in c.files]
        if logs:
            g.mail_events = events(logs, province.info.mail_domain, g.warnings)
            g.sources["mail_logs"] = [f.name for f in logs]
        g.log_store = central_log_store(province, collected)
    if not offline:
        try:
            g.people = directory.for_province(province, cfg)
            g.sources["directory"] = "ldap"
        except OperationFailed:   # never deployed: no secrets, hence no directory yet (a notice says so)
            pass
        except directory.DirectoryError as e:
            g.failed.append(f"directory: {e}")
    g.history = history(province)
    return g
