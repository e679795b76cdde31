"""`provision report ...`: the monthly progress report on the directive and the unit forms."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from .. import errors
from ..render import i18n
from ..render.console import console, err_console, print_json, table
from .common import InventoryOpt, JsonOpt, LangOpt, LimitOpt, province

app = typer.Typer(help="Monthly progress report on the directive (per unit and for the province).",
                  no_args_is_help=True)

MonthOpt = typer.Option(..., "--month", "-m", help="Reporting month, YYYY-MM.")


@app.command("monthly")
def monthly(month: str = MonthOpt, inventory: Path = InventoryOpt,
            out: Path = typer.Option(None, "--out", help="Output directory. Default: var/<inventory>/report/<month>/ "
                                                         "(vi), <month>/en/ for --lang en."),
            lang: str = LangOpt,
            roster: Path = typer.Option(None, "--roster", help="HR roster (CSV or XLSX): hr_id, unit, eligible."),
            forms: Path = typer.Option(None, "--forms", help="Filled unit forms. Default: <report dir>/forms/."),
            logs: Path = typer.Option(None, "--logs", help="Read mail logs from this directory instead of over SSH."),
            offline: bool = typer.Option(False, "--offline", help="Contact no server (no SSH, no LDAP)."),
            json: bool = JsonOpt) -> int:
    """Write report.json, report.html, report.xlsx and report.pdf for the month.
    Exit 1 when a source could not be collected (the report is still written, saying so)."""
    from ..report import figures, monthly as m, outputs
    from ..report.period import Month

    when, p = Month.parse(month), province(inventory)
    inputs = m.gather(p, when, roster=roster, forms_dir=forms, logs_dir=logs, offline=offline)
    report = figures.compute(p, when, inputs, lang)
    files = outputs.write(report, out or m.report_dir(p, when, lang))
    if json:
        print_json(report)
    else:
        for n in report.notices:
            console.print(f"[yellow]•[/] {escape(n)}", highlight=False)
        rows = [[i18n.t(f"report.t.{t.key}", lang), i18n.fmt_percent(t.value, lang),
                 i18n.fmt_percent(t.target, lang) if t.target is not None else "",
                 "" if t.met is None else ("✔" if t.met else "✘")] for t in report.targets]
        console.print(table(i18n.t("report.s.summary", lang),
                            [i18n.t("report.indicator", lang), i18n.t("report.value", lang),
                             i18n.t("common.target", lang), ""], rows))
        console.print(i18n.t("report.written", lang, month=i18n.fmt_month(when.year, when.month, lang),
                             path=files["report.pdf"].parent), highlight=False, markup=False)
    for f in inputs.failed:
        err_console.print(f"[red]not collected:[/] {escape(f)}", highlight=False)
    return errors.FAILED if inputs.failed else errors.OK


@app.command("form")
def form(month: str = MonthOpt, inventory: Path = InventoryOpt,
         out: Path = typer.Option(None, "--out", help="Output directory. Default: var/<inventory>/report/<month>/blank-forms/."),
         lang: str = LangOpt, fmt: str = typer.Option("xlsx", "--format", help="xlsx (default) or yaml."),
         limit: str = LimitOpt, json: bool = JsonOpt) -> int:
    """Write one blank form per unit, for what no system knows (training, software, signing on the network)."""
    from ..report import forms as f, monthly as m
    from ..report.period import Month

    when, p = Month.parse(month), province(inventory)
    if fmt not in ("xlsx", "yaml"):
        raise errors.BadInput(f"--format {fmt!r}: use xlsx or yaml")
    units = p.select_units(limit)
    directory = out or m.report_dir(p, when) / "blank-forms"
    written = f.write_blank_forms(p, when, directory, lang, fmt, units)
    if json:
        print_json({"month": str(when), "forms": [{"unit": u.code, "file": str(w)} for u, w in zip(units, written)]})
    else:
        console.print(i18n.t("report.forms_written", lang, n=len(written), path=directory), highlight=False)
    return errors.OK
