"""Write an audit's results: audit.json (the record, schema in README.md), audit.csv (one row per host,
UTF-8 with BOM so Excel on Vietnamese Windows shows the diacritics), audit.xlsx (sheets per unit,
uniformity and per host: opens the same whatever the list separator of the Windows region, which is
';' in Vietnamese settings) and audit.html (per-unit summary, per-host detail, heterogeneity of each
unit). Reports are Vietnamese by default, English with lang="en".

Secrets never reach these files: results hold facts and checks only, and `to_plain` masks SecretStr.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..render import i18n, xlsx
from ..render.console import to_plain
from ..render.csv import to_csv
from ..render.files import write_text
from ..render.html import render_html
from . import messages  # noqa: F401  (registers the audit's vi/en messages)
from .runner import SCHEMA, AuditReport

TEMPLATES = Path(__file__).with_name("templates")


CSV_COLUMNS = ("unit_code", "unit", "host", "role", "address", "status", "reason", "grade", "checks", "failed",
               "vendor", "model", "serial", "cpu_model", "cpu_cores", "ram_mb", "disk_total_gb", "root_free_gb",
               "os", "kernel", "ipv4", "uptime_days", "config_saved", "interfaces_up", "vlan_count")
# RAM as bought (MemTotal reads a little below the installed size): upper bound in MB -> label.
RAM_BUCKETS = ((1750, "< 2 GB"), (3500, "2–4 GB"), (7000, "4–8 GB"), (14000, "8–16 GB"), (None, "≥ 16 GB"))


def ram_bucket(mb: int | None) -> str | None:
    if mb is None:
        return None
    return next(label for top, label in RAM_BUCKETS if top is None or mb < top)


def report_data(report: AuditReport | dict) -> dict[str, Any]:
    """The JSON-ready record (what audit.json holds)."""
    return to_plain(report) if not isinstance(report, dict) else report


def load_json(path: str | Path) -> dict[str, Any]:
    """Read an audit.json (or the run folder holding one); BadInput if it is not an audit record."""
    p = Path(path)
    if p.is_dir():
        p = p / "audit.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{p}: no such audit result") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{p}: not an audit.json ({e})") from None
    if not isinstance(data, dict) or data.get("run", {}).get("schema") != SCHEMA:
        raise BadInput(f"{p}: not an audit.json of schema {SCHEMA}")
    return data


def _fmt(value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return i18n.fmt_bool(value, lang)
    if isinstance(value, float):
        return i18n.fmt_number(value, lang, 1)
    if isinstance(value, int):
        return i18n.fmt_number(value, lang)
    return str(value)


def reason_text(h: dict, lang: str) -> str:
    """Why a host was not audited, in the report's language (the English text for older records)."""
    if h.get("reason_code"):
        return i18n.t(f"reason.{h['reason_code']}", lang, **(h.get("reason_params") or {}))
    return h.get("reason") or ""


def expected_text(text: str, lang: str) -> str:
    """A rule's expectation (baseline.py writes it in a neutral form: operators, values, "one of: ...",
    "yes"/"no") with its two words in the report's language."""
    if text in ("yes", "no"):
        return i18n.fmt_bool(text == "yes", lang)
    if text.startswith("one of: "):
        return i18n.t("audit.one_of", lang, values=text.removeprefix("one of: "))
    return text


def _os_text(f: dict) -> str | None:
    if f.get("os_name"):
        return f["os_name"]
    if f.get("os_version"):
        return " ".join(x for x in (f.get("vendor"), f["os_version"]) if x)
    return None


def csv_rows(data: dict, lang: str) -> list[list[Any]]:
    names = {u["unit"]: u["name"] for u in data["units"]}
    rows = []
    for h in data["hosts"]:
        f = h.get("facts") or {}
        checks = h.get("checks") or []
        ipv4 = [a.split("/")[0] for n in f.get("nics") or [] for a in n.get("ipv4") or []]
        row = {
            "unit_code": h["unit"], "unit": names.get(h["unit"], h["unit"]), "host": h["host"],
            "role": i18n.t(f"role.{h['role']}", lang), "address": h["address"],
            "status": i18n.t(f"status.{h['status']}", lang), "reason": reason_text(h, lang),
            "grade": i18n.t(f"grade.{h['grade']}", lang) if h.get("grade") else "",
            "checks": f"{sum(c['passed'] for c in checks)}/{len(checks)}" if h["status"] == "audited" else "",
            "failed": "; ".join(i18n.t(f"fact.{c['name']}", lang) for c in checks if not c["passed"]),
            "os": _os_text(f), "ipv4": " ".join(ipv4),
            "config_saved": ("" if f.get("config_saved") is None else i18n.fmt_bool(f["config_saved"], lang)),
        }
        rows.append([row.get(c, f.get(c)) for c in CSV_COLUMNS])
    return rows


def heterogeneity(data: dict) -> list[dict[str, Any]]:
    """Per unit: distribution of CPU model, RAM size class and OS over its audited PCs and servers, the
    number of distinct (CPU, RAM, OS) configurations, and the network device models."""
    out = []
    for u in data["units"]:
        hosts = [h for h in data["hosts"] if h["unit"] == u["unit"] and h["status"] == "audited"]
        pcs = [h["facts"] for h in hosts if h["role"] in ("server", "workstation")]
        net = [h["facts"] for h in hosts if h["role"] in ("switch", "router")]
        cpu = Counter(f.get("cpu_model") or "?" for f in pcs)
        ram = Counter(ram_bucket(f.get("ram_mb")) or "?" for f in pcs)
        os_ = Counter(f.get("os_name") or "?" for f in pcs)
        configs = {(f.get("cpu_model"), ram_bucket(f.get("ram_mb")), f.get("os_name")) for f in pcs}
        out.append({"unit": u["unit"], "name": u["name"], "machines": len(pcs), "configs": len(configs),
                    "cpu": cpu.most_common(), "ram": sorted(ram.items(), key=lambda kv: _ram_order(kv[0])),
                    "os": os_.most_common(),
                    "net": Counter(" ".join(x for x in (f.get("vendor"), f.get("model")) if x) or "?"
                                   for f in net).most_common()})
    return out


def _ram_order(label: str) -> int:
    labels = [lbl for _, lbl in RAM_BUCKETS]
    return labels.index(label) if label in labels else len(labels)


def render_report_html(data: dict, lang: str) -> str:
    units = data["units"]
    names = {u["unit"]: u["name"] for u in units}
    by_unit = [(u, [h for h in data["hosts"] if h["unit"] == u["unit"]]) for u in units]
    ctx = {
        "title": i18n.t("audit.title", lang), "run": data["run"], "totals": data["totals"], "units": units,
        "by_unit": by_unit, "names": names, "het": heterogeneity(data),
        "fmt": lambda v: _fmt(v, lang), "reason": lambda h: reason_text(h, lang),
        "expected": lambda text: expected_text(text, lang),
    }
    return render_html("audit.html.j2", ctx, lang=lang, search_path=[TEMPLATES])


def render_xlsx(data: dict, lang: str):
    """The workbook: per unit (with the total), uniformity per unit, per host (the CSV's columns)."""
    t = lambda key, **kw: i18n.t(key, lang, **kw)  # noqa: E731
    run, tot = data["run"], data["totals"]
    note = t("audit.subtitle", province=run["province"], run=run["id"], baseline=run["baseline"].split("/")[-1])
    wb = xlsx.workbook()
    pct = t("audit.compliant_pct")
    rows = [[u["unit"], u["name"], u["hosts"], u["audited"], u["compliant"],
             None if u["percent"] is None else u["percent"] / 100,
             "; ".join(f"{t('status.' + s)}: {n}" for s, n in u["statuses"].items() if s != "audited" and n)]
            for u in data["units"]]
    rows.append(["", t("common.total"), tot["hosts"], tot["audited"], tot["compliant"],
                 None if tot["percent"] is None else tot["percent"] / 100, ""])
    xlsx.add_sheet(wb, t("audit.sheet_units"), [t("col.unit_code"), t("col.unit"), t("audit.hosts"),
                                                t("audit.audited"), t("audit.compliant"), pct, t("audit.not_audited")],
                   rows, formats={pct: "0.0%"}, title=t("audit.title"), notes=[note])
    lines = lambda pairs: "\n".join(f"{k} × {n}" for k, n in pairs)  # noqa: E731
    xlsx.add_sheet(wb, t("audit.sheet_uniformity"),
                   [t("col.unit_code"), t("col.unit"), t("audit.audited"), t("audit.configs"), t("audit.cpu"),
                    t("audit.ram"), t("audit.os"), t("audit.net_models")],
                   [[h["unit"], h["name"], h["machines"], h["configs"], lines(h["cpu"]), lines(h["ram"]),
                     lines(h["os"]), lines(h["net"])] for h in heterogeneity(data)],
                   title=t("audit.heterogeneity"), notes=[t("audit.heterogeneity_hint")])
    xlsx.add_sheet(wb, t("audit.sheet_hosts"), [t(f"col.{c}") for c in CSV_COLUMNS], csv_rows(data, lang),
                   title=t("audit.details"), notes=[note])
    return wb


def write_all(report: AuditReport, out_dir: Path, lang: str = i18n.DEFAULT_LANG) -> dict[str, Path]:
    """audit.json, audit.csv, audit.xlsx and audit.html in `out_dir`. All are rendered before the first
    is written, so a rendering error leaves no partial run folder behind."""
    i18n.check_lang(lang)
    data = report_data(report)
    texts = {"json": json.dumps(data, ensure_ascii=False, indent=2) + "\n",
             "csv": to_csv([i18n.t(f"col.{c}", lang) for c in CSV_COLUMNS], csv_rows(data, lang)),
             "html": render_report_html(data, lang)}
    book = render_xlsx(data, lang)
    files = {kind: write_text(out_dir / f"audit.{kind}", text, bom=(kind == "csv")) for kind, text in texts.items()}
    files["xlsx"] = xlsx.save(book, out_dir / "audit.xlsx")
    return files
