"""`provision compliance`: the level's controls, checked on every server, for the level dossier."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from .. import errors
from ..compliance import ComplianceReport, compliance
from ..render.console import console, print_json, table, to_plain
from ..render.i18n import t
from .common import InventoryOpt, JsonOpt, LangOpt, LimitOpt


def run(inventory: Path = InventoryOpt, limit: str = LimitOpt, json: bool = JsonOpt, lang: str = LangOpt,
        out: Path = typer.Option(None, "--out", help="Folder for the run's files (default var/<inventory>/compliance/)."),
        timeout: float = typer.Option(10.0, "--timeout", help="Seconds to wait for each server.")) -> int:
    """One row per technical control of the level on every server (pass / fail / not applicable, with the
    evidence: live reads over SSH and the latest `provision verify` run), the organisational controls with
    their evidence folders; written as HTML, XLSX and PDF. Exit 0 when no control fails, 1 otherwise."""
    r = compliance(inventory, limit=limit, lang=lang, out=out, timeout=timeout)
    if json:
        print_json({**to_plain(r), "ok": r.ok})
    else:
        _show(r, lang)
    return errors.OK if r.ok else errors.FAILED


def _show(r: ComplianceReport, lang: str) -> None:
    cols = [t(f"compliance.col.{c}", lang) for c in ("group", "control", "host", "status", "evidence")]
    colour = {"pass": "green", "fail": "bold red"}
    rows = [(t(f"compliance.group.{f.group}", lang), f.title, f.host or "-",
             f"[{colour.get(f.status, 'dim')}]{t(f'compliance.status.{f.status}', lang)}[/]", escape(f.evidence))
            for f in r.findings]
    counts = r.counts()
    console.print(table(t("compliance.title", lang, province=r.province), cols, rows))
    console.print(t("compliance.summary", lang, **counts))
    for kind in ("html", "xlsx", "pdf"):
        if kind in r.outputs:
            console.print(t("compliance.saved", lang, path=r.outputs[kind]), highlight=False)
