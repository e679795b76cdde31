"""Write the month's report as report.json, report.html, report.xlsx and report.pdf.

All four are rendered first into a temporary directory next to the destination and moved in only when
every one succeeded: a failure never leaves a new HTML next to last run's PDF."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..render import html, i18n, xlsx
from ..render.console import to_plain
from ..render.files import write_text
from ..render.pdf import PdfDocument
from .figures import Report
from .views import View, build_views

TEMPLATES = Path(__file__).parent / "templates"
FILES = ("report.json", "report.html", "report.xlsx", "report.pdf")


def _pct(v: float | None) -> float | None:
    return None if v is None else v * 100


CHART_UNITS = 30   # units per bar chart: one chart must fit a printed A4 page


def charts(r: Report) -> dict:
    """Series for the SVG charts, in percent; the per-unit bars in chunks of CHART_UNITS units."""
    t = lambda key, **kw: i18n.t(key, r.lang, **kw)  # noqa: E731
    chunks = [r.units[i:i + CHART_UNITS] for i in range(0, len(r.units), CHART_UNITS)]
    return {
        "units": [{
            "labels": [u.name for u in units],
            "mail": {t("report.c.mailbox_ratio"): [_pct(u.mailbox_ratio) for u in units],
                     t("report.c.mail_use_ratio"): [_pct(u.mail_use_ratio) for u in units]},
            "hardware": {t("report.c.hardware_ratio"): [_pct(u.hardware_ratio) for u in units]},
        } for units in chunks],
        "months": [p["month"] for p in r.trend],
        "trend": {t(f"report.t.{k}"): [_pct(p.get(k)) for p in r.trend]
                  for k in ("mailbox_ratio", "mail_use_ratio", "drafting_ratio", "admin_ratio")},
        "targets": {t("report.t.mailbox_ratio"): 100, t("report.t.mail_use_ratio"): 50,
                    t("report.t.drafting_ratio"): 30, t("report.t.admin_ratio"): 100},
    }


def definitions(lang: str) -> list[str]:
    return [i18n.t(f"report.def.{k}", lang) for k in ("mailbox", "mail_use", "admin", "forms")]


def write_json(r: Report, path: Path) -> None:
    write_text(path, json.dumps(to_plain(r), ensure_ascii=False, indent=2) + "\n")


def write_html(r: Report, views: list[View], path: Path) -> None:
    month = i18n.fmt_month(*map(int, r.month.split("-")), r.lang)
    text = html.render_html("report.html.j2", {
        "title": i18n.t("report.title", r.lang), "subtitle": i18n.t("report.subtitle", r.lang, province=r.province,
                                                                   month=month),
        "r": r, "views": {v.key: v for v in views}, "charts": charts(r), "definitions": definitions(r.lang),
    }, lang=r.lang, search_path=[TEMPLATES])
    write_text(path, text)


def write_xlsx(r: Report, views: list[View], path: Path) -> None:
    wb = xlsx.workbook()
    formats = {"int": xlsx.INTEGER, "pct": xlsx.PERCENT, "change": "+0.0%;-0.0%;0.0%", "date": xlsx.DATE}
    month = i18n.fmt_month(*map(int, r.month.split("-")), r.lang)
    for v in views:
        xlsx.add_sheet(wb, v.title.split(". ", 1)[-1], v.headers, v.rows + ([v.total] if v.total else []),
                       formats={i: formats[c.kind] for i, c in enumerate(v.columns) if c.kind in formats},
                       title=f"{v.title} — {r.province}, {month}")
    xlsx.add_sheet(wb, i18n.t("report.s.notices", r.lang), [i18n.t("report.s.notices", r.lang)],
                   [[n] for n in r.notices] + [[d] for d in definitions(r.lang)], widths={0: 110})
    xlsx.save(wb, path)


def write_pdf(r: Report, views: list[View], path: Path) -> None:
    lang = r.lang
    month = i18n.fmt_month(*map(int, r.month.split("-")), lang)
    place = r.province.removeprefix("Tỉnh ").removeprefix("Thành phố ")
    kind = "CITY" if r.province.startswith("Thành phố ") else "PROVINCE"
    doc = PdfDocument(f"{i18n.t('report.title', lang)} — {month}", lang=lang)
    doc.state_header([i18n.t("report.agency", lang, province_upper=r.province.upper(), place_upper=place.upper(),
                             kind=kind),
                      i18n.t("report.office", lang)],
                     i18n.fmt_place_date(place, r.generated.date(), lang))
    doc.heading(i18n.t("report.title", lang))
    doc.paragraph(i18n.t("report.subtitle", lang, province=r.province, month=month), "center")
    doc.spacer()
    for n in r.notices:
        doc.paragraph("• " + n, "small")
    for v in views:
        doc.heading(v.title, 2)
        doc.table(v.headers, v.formatted(lang), numeric=v.numeric, col_widths=v.widths, total_row=bool(v.total))
    doc.heading(i18n.t("report.s.definitions", lang), 3)
    for d in definitions(lang):
        doc.paragraph("• " + d, "small")
    doc.signature_block()
    doc.save(path)


def write(r: Report, out_dir: Path) -> dict[str, Path]:
    """Render everything into a temp directory, then move the files into `out_dir` together."""
    out_dir.mkdir(parents=True, exist_ok=True)
    views = build_views(r)
    tmp = Path(tempfile.mkdtemp(prefix=".report-", dir=out_dir))
    try:
        write_json(r, tmp / "report.json")
        write_html(r, views, tmp / "report.html")
        write_xlsx(r, views, tmp / "report.xlsx")
        write_pdf(r, views, tmp / "report.pdf")
        for name in FILES:
            os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {name: out_dir / name for name in FILES}


