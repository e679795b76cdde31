"""`provision compliance`: read (collect.py), evaluate (controls.py), write the dossier's tables.

Outputs in one run folder (var/<inventory>/compliance/<run>/ or under --out): compliance.html,
compliance.xlsx, compliance.pdf and compliance.json (the result object). Manual controls list the files
found in var/<inventory>/compliance/evidence/<control>/ (the folders are created for the operator)."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..errors import BadInput
from ..model import ComplianceSettings, Province, load_province
from ..render import i18n, pdf, xlsx
from ..render.console import to_plain
from ..render.files import write_text
from ..render.html import render_html
from . import messages  # noqa: F401  (registers the report's texts)
from .collect import collect, servers
from .controls import CONTROLS, FAIL, GROUPS, MANUAL, NA, PASS, TECHNICAL, Facts, evaluate

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Finding:
    control: str
    group: str
    title: str
    requirement: str
    source: str
    host: str
    status: str          # pass, fail, na, manual
    evidence: str


@dataclass
class ComplianceReport:
    inventory: str
    province: str
    standard: str
    lang: str
    generated: str
    verify_file: str
    findings: list[Finding] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(f.status == FAIL for f in self.findings)

    def counts(self) -> dict[str, int]:
        out = {PASS: 0, FAIL: 0, NA: 0, "manual": 0}
        for f in self.findings:
            out[f.status] += 1
        return out


def evidence_dir(inventory: str | Path, control: str) -> Path:
    d = paths.data_dir(inventory, "compliance") / "evidence" / control
    d.mkdir(parents=True, exist_ok=True)
    return d


def findings(facts: list[Facts], settings: ComplianceSettings, inventory: str | Path, lang: str) -> list[Finding]:
    """Every technical control on every server, then every manual control with its evidence files."""
    out: list[Finding] = []
    source = settings.source
    for group in GROUPS:
        for c in (c for c in TECHNICAL if c.group == group):
            for f in facts:
                o = evaluate(c, f, settings)
                out.append(Finding(c.id, c.group, c.title[lang], c.requirement_text(lang, settings), source,
                                   f.host, o.status, o.evidence))
    for group in GROUPS:
        for c in (c for c in MANUAL if c.group == group):
            d = evidence_dir(inventory, c.id)
            files = sorted(p.name for p in d.iterdir() if p.is_file())
            evidence = (i18n.t("compliance.evidence_files", lang, n=len(files), files=", ".join(files)) if files
                        else i18n.t("compliance.evidence_none", lang))
            out.append(Finding(c.id, c.group, c.title[lang], c.requirement_text(lang, settings), source,
                               "", "manual", f"{evidence} ({d})"))
    return out


def compliance(inventory: str | Path, limit: str | None = None, lang: str = i18n.DEFAULT_LANG,
               out: str | Path | None = None, timeout: float = 10.0) -> ComplianceReport:
    """Read, evaluate and write. Raises InventoryError/BadInput on bad input (nothing read or written)."""
    i18n.check_lang(lang)
    province = load_province(inventory)
    hosts = servers(province, limit)
    if not hosts:
        raise BadInput(f"--limit: {limit!r} names no server of the inventory")
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise BadInput(f"--out: {out} is not a folder")
    verify_file, facts = collect(province, hosts, timeout)
    return write(report(province, facts, verify_file, lang), province, out)


def report(province: Province, facts: list[Facts], verify_file: str, lang: str) -> ComplianceReport:
    settings = province.settings.compliance
    return ComplianceReport(
        inventory=str(province.inventory_dir), province=province.info.name, standard=settings.source, lang=lang,
        generated=dt.datetime.now().replace(microsecond=0).isoformat(), verify_file=verify_file,
        findings=findings(facts, settings, province.inventory_dir, lang))


def _status(status: str, lang: str) -> str:
    return i18n.t(f"compliance.status.{status}", lang)


def write(r: ComplianceReport, province: Province, out: str | Path | None) -> ComplianceReport:
    folder = paths.new_run_dir(province.inventory_dir, "compliance", parent=out)
    lang = r.lang
    headers = [i18n.t(f"compliance.col.{c}", lang) for c in
               ("group", "control", "requirement", "source", "host", "status", "evidence")]
    rows = [(i18n.t(f"compliance.group.{f.group}", lang), f.title, f.requirement, f.source, f.host,
             _status(f.status, lang), f.evidence) for f in r.findings]
    title = i18n.t("compliance.title", lang, province=r.province)
    counts = r.counts()
    summary = i18n.t("compliance.summary", lang, **{k: counts[k] for k in (PASS, FAIL, NA)}, manual=counts["manual"])
    by_group = [(i18n.t(f"compliance.group.{g}", lang), [f for f in r.findings if f.group == g]) for g in GROUPS]

    html = render_html("compliance.html.j2", {"title": title, "r": r, "summary": summary, "groups": by_group,
                                              "status": lambda s: _status(s, lang)},
                       lang=lang, search_path=[TEMPLATES])
    r.outputs["html"] = str(write_text(folder / "compliance.html", html))

    wb = xlsx.workbook()
    xlsx.add_sheet(wb, i18n.t("compliance.sheet", lang), headers, rows, title=title,
                   notes=[summary, i18n.t("compliance.source", lang, source=r.standard),
                          i18n.t("compliance.verify", lang, file=r.verify_file or "-")], landscape=True)
    r.outputs["xlsx"] = str(xlsx.save(wb, folder / "compliance.xlsx"))

    try:
        doc = pdf.PdfDocument(title, lang=lang, landscape=True)
        doc.heading(title)
        doc.paragraph(summary)
        doc.paragraph(i18n.t("compliance.source", lang, source=r.standard), "small")
        for name, items in by_group:
            doc.heading(name, 2)
            doc.table(headers[1:], [row[1:] for row, f in zip(rows, r.findings) if f in items],
                      col_widths=[0.14, 0.2, 0.12, 0.1, 0.08, 0.36])
        r.outputs["pdf"] = str(doc.save(folder / "compliance.pdf"))
    except pdf.FontsMissing as e:      # HTML and XLSX still stand; the result says why there is no PDF
        r.outputs["pdf_missing"] = str(e)

    r.outputs["json"] = str(folder / "compliance.json")
    write_text(folder / "compliance.json", json.dumps(to_plain(r), ensure_ascii=False, indent=1))
    return r


__all__ = ["CONTROLS", "ComplianceReport", "Finding", "compliance", "report", "write"]
