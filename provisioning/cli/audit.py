"""`provision audit`: audit the units' LAN hardware against the baseline; `provision audit diff OLD NEW`.

Exit codes: 0 the audit ran (non-compliant hosts are data, not a failure); 1 with --fail-under when the
province's compliance is below the given percentage; 2 bad input (inventory, --limit, baseline, options),
in which case nothing is written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .. import errors
from ..audit.baseline import load_baseline
from ..audit.diff import diff_audits
from ..audit.results import load_json, reason_text, report_data, write_all
from ..audit.runner import DEFAULT_TIMEOUT, DEFAULT_WORKERS, run_audit
from ..paths import data_dir, new_run_dir
from ..render import i18n
from ..render.console import console, err_console, print_json, table
from .common import InventoryOpt, JsonOpt, LangOpt, LimitOpt, province

app = typer.Typer(help="Audit unit LAN hardware (hosts over SSH, switches over netmiko) against a baseline.",
                  invoke_without_command=True)

def _out_dir(inventory: Path, out: Path | None) -> Path:
    return out or new_run_dir(inventory, "audit")


@app.callback()
def audit(ctx: typer.Context,
          inventory: Path = InventoryOpt, limit: Optional[str] = LimitOpt,
          baseline: Optional[Path] = typer.Option(None, "--baseline", "-b",
                                                  help="Baseline YAML (default: the shipped one, or audit.baseline "
                                                       "in province.yml)."),
          out: Optional[Path] = typer.Option(None, "--out", "-o",
                                             help="Output folder (default var/<inventory>/audit/<date-time>/)."),
          workers: Optional[int] = typer.Option(None, "--workers", "-w",
                                                help=f"Hosts audited at the same time (default {DEFAULT_WORKERS})."),
          timeout: Optional[float] = typer.Option(None, "--timeout", "-t",
                                                  help=f"Hard limit per host in seconds (default {DEFAULT_TIMEOUT:g})."),
          fail_under: Optional[float] = typer.Option(None, "--fail-under",
                                                     help="Exit 1 when fewer than PCT % of hosts meet the baseline."),
          lang: str = LangOpt,
          json: bool = JsonOpt) -> int:
    """Audit every selected host; write audit.json, audit.csv, audit.xlsx and audit.html."""
    if ctx.invoked_subcommand:
        return errors.OK
    # Checked here rather than with typer's min/max so that every bad option is a BadInput (exit 2).
    if workers is not None and not 1 <= workers <= 500:
        raise errors.BadInput(f"--workers {workers}: must be between 1 and 500")
    if timeout is not None and timeout < 0.5:
        raise errors.BadInput(f"--timeout {timeout:g}: must be at least 0.5 seconds")
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise errors.BadInput(f"--fail-under {fail_under:g}: must be a percentage between 0 and 100")
    p = province(inventory)
    settings = p.settings.audit
    hosts = p.select(limit)
    base = load_baseline(baseline or settings.baseline)
    workers = workers or settings.workers or DEFAULT_WORKERS
    timeout = timeout or settings.timeout or DEFAULT_TIMEOUT
    out_dir = _out_dir(inventory, out)

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=json or not err_console.is_terminal) as bar:
        task = bar.add_task("audit", total=len(hosts))
        report = run_audit(p, hosts, base, workers=workers, timeout=timeout, limit=limit, run_id=out_dir.name,
                           progress=lambda step: bar.update(task, completed=step.done, description=step.item))
    files = write_all(report, out_dir, lang)
    data = report_data(report)
    if json:
        print_json(data)
    else:
        _print(data, files, lang)
    pct = data["totals"]["percent"] or 0.0
    if fail_under is not None and pct < fail_under:
        console.print(i18n.t("audit.cli.below", lang, percent=_num(pct, lang), limit=_num(fail_under, lang)),
                      style="red", highlight=False, markup=False)
        return errors.FAILED
    return errors.OK


def _num(value: float | None, lang: str) -> str:
    """A percentage or a duration as the terminal shows it: 66,7 (vi) / 66.7 (en), whole numbers bare."""
    if value is None:
        return i18n.NO_DATA
    return i18n.fmt_number(value, lang, 0 if float(value).is_integer() else 1)


def _print(data: dict, files: dict[str, Path], lang: str) -> None:
    def status(s: str) -> str:
        return i18n.t(f"status.{s}", lang)

    console.print(table(i18n.t("audit.cli.units", lang),
                        [i18n.t("col.unit_code", lang), i18n.t("audit.cli.name", lang), i18n.t("audit.hosts", lang),
                         i18n.t("audit.audited", lang), i18n.t("audit.compliant", lang), "%",
                         i18n.t("audit.not_audited", lang)],
                        [(u["unit"], u["name"], u["hosts"], u["audited"], u["compliant"], _num(u["percent"], lang),
                          ", ".join(f"{status(s)} {n}" for s, n in u["statuses"].items() if s != "audited" and n))
                         for u in data["units"]]), markup=False)
    rows = [(h["host"], i18n.t(f"role.{h['role']}", lang), status(h["status"]),
             i18n.t(f"grade.{h['grade']}", lang) if h.get("grade") else "",
             reason_text(h, lang) or ", ".join(c["name"] for c in h["checks"] if not c["passed"]))
            for h in data["hosts"] if h["status"] != "audited" or h["grade"] != "pass"]
    if rows:
        console.print(table(i18n.t("audit.cli.to_look_at", lang),
                            [i18n.t(f"col.{c}", lang) for c in ("host", "role", "status", "grade")]
                            + [i18n.t("audit.cli.reason_or_failed", lang)], rows), markup=False)
    t = data["totals"]
    console.print(i18n.t("audit.cli.totals", lang, compliant=t["compliant"], hosts=t["hosts"],
                         percent=_num(t["percent"], lang), audited=t["audited"],
                         seconds=_num(data["run"]["duration_s"], lang)), highlight=False, markup=False)
    for kind, path in files.items():
        console.print(f"  {kind}: {path}", highlight=False, markup=False)


def _short(value: Any) -> Any:
    """Hashes shortened for the terminal (--json keeps them whole)."""
    return value[:12] + "…" if isinstance(value, str) and len(value) == 64 and value.isalnum() else value


def _resolve(run: str, inventory: Path) -> Path:
    """A path to audit.json or a run folder, or the name of a run under var/<inventory>/audit/."""
    p = Path(run)
    if p.exists():
        return p
    return data_dir(inventory, "audit") / run


@app.command("diff")
def diff(old: Optional[str] = typer.Argument(None, help="Older run: folder, audit.json, or run name in the "
                                                         "history (default: the second latest run)."),
         new: Optional[str] = typer.Argument(None, help="Newer run (default: the latest run)."),
         inventory: Path = InventoryOpt, json: bool = JsonOpt, lang: str = LangOpt) -> int:
    """Compare two audits: hosts added/removed, status and grade changes, unit compliance, fact changes."""
    if old is None or new is None:
        history = sorted(d.name for d in data_dir(inventory, "audit").iterdir() if (d / "audit.json").is_file())
        if len(history) < 2 - (old is not None):
            raise errors.BadInput(f"{data_dir(inventory, 'audit')}: fewer than two audit runs to compare")
        old, new = (old, history[-1]) if old is not None else (history[-2], history[-1])
    d = diff_audits(load_json(_resolve(old, inventory)), load_json(_resolve(new, inventory)))
    if json:
        print_json(d)
        return errors.OK

    def tr(key: str, **kw: Any) -> str:
        return i18n.t(f"audit.cli.{key}", lang, **kw)

    def state(value: str) -> str:   # "audited/pass" -> "Đã rà soát/Đạt"
        status, _, grade = value.partition("/")
        return i18n.t(f"status.{status}", lang) + (f"/{i18n.t(f'grade.{grade}', lang)}" if grade else "")

    host, unit = i18n.t("col.host", lang), i18n.t("col.unit_code", lang)
    console.print(tr("diff_title", old=d.old_run, new=d.new_run), highlight=False, markup=False)
    if d.empty:
        console.print(tr("no_changes"), markup=False)
    if d.added or d.removed:
        console.print(table(tr("added_removed"), [tr("change"), host],
                            [(tr("added"), h) for h in d.added] + [(tr("removed"), h) for h in d.removed]),
                      markup=False)
    if d.changed:
        console.print(table(tr("state_changed"), [host, unit, tr("before"), tr("now")],
                            [(c.host, c.unit, state(c.old), state(c.new)) for c in d.changed]), markup=False)
    if d.units:
        console.print(table(tr("units_changed"), [unit, tr("name"), tr("before"), tr("now")],
                            [(u.unit, u.name, _num(u.old_percent, lang), _num(u.new_percent, lang))
                             for u in d.units]), markup=False)
    if d.facts:
        console.print(table(tr("facts_changed"), [host, tr("fact"), tr("before"), tr("now")],
                            [(f.host, _fact_label(f.fact, lang), _short(f.old), _short(f.new)) for f in d.facts]),
                      markup=False)
    return errors.OK


def _fact_label(fact: str, lang: str) -> str:
    """"RAM (MB) [ram_mb]": the label a person reads, and the key that audit.json and --json use."""
    try:
        return f"{i18n.t(f'fact.{fact}', lang)} [{fact}]"
    except KeyError:
        return fact
