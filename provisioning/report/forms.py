"""The unit form: what no system knows, filled by each unit every month.

`provision report form` writes one blank form per unit (XLSX by default, or YAML); the unit fills the
value column and sends it back; the provincial office drops the filled files into
`var/<inventory>/report/<YYYY-MM>/forms/` (or passes `--forms DIR`), any file name, .xlsx/.yml/.yaml.

Fields (FIELDS): training sessions held and trainees, which of the directive's common software is in
use (legal documents lookup, document and dossier management, the socio-economic information system,
the executive web portal, others), whether documents are drafted, edited and submitted for signature
on the network, the reporter and notes.

When did a form *arrive*? Its `submitted` field (the date the unit sent it, which the unit fills and
the office can correct from the mail or registry stamp), or, when that is empty, the file's modification
time in the province's timezone. A form that arrived after the 25th of the month is *late* (the
directive: "trước ngày 25 hàng tháng"; the 25th itself is accepted). A unit without a form is *missing*.

In the XLSX the machine keys sit in hidden column A, so relabelling or translating column B never
breaks reading; the sheet is protected except the value cells (no password: it prevents accidents,
not edits).
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import yaml
from openpyxl.styles import Alignment, Font, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import BadInput
from ..model import Province, Unit, nfc
from ..render import i18n, xlsx
from ..render.files import write_text
from .period import Month
from .admins import fold

TRUE = {"yes", "y", "co", "x", "1", "true"}
FALSE = {"no", "n", "khong", "0", "false"}


def parse_bool(value: object) -> bool | None:
    """Yes/no in Vietnamese or English (Có/Không, x, 1/0...); None when the text is neither."""
    if isinstance(value, bool):
        return value
    text = fold(str(value)).strip()
    return True if text in TRUE else False if text in FALSE else None


# (key, type, filled by the unit?)
FIELDS: list[tuple[str, str, bool]] = [
    ("unit_code", "text", False),
    ("unit_name", "text", False),
    ("month", "text", False),
    ("submitted", "date", True),
    ("reporter", "text", True),
    ("training_sessions", "int", True),
    ("trainees", "int", True),
    ("sw_legal_docs", "bool", True),
    ("sw_documents", "bool", True),
    ("sw_socioeconomic", "bool", True),
    ("sw_portal", "bool", True),
    ("sw_other", "text", True),
    ("drafting_signing", "bool", True),
    ("notes", "text", True),
]
SOFTWARE = ("sw_legal_docs", "sw_documents", "sw_socioeconomic", "sw_portal")
KEYS = {k for k, _, _ in FIELDS}


@dataclass
class Form:
    unit: str
    file: str
    arrived: dt.date
    arrived_from: str            # submitted | mtime
    late: bool
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def software(self) -> list[str]:
        return [k for k in SOFTWARE if self.values.get(k)]


# --- writing blank forms ----------------------------------------------------------------------------

def blank_values(unit: Unit, month: Month) -> dict[str, Any]:
    return {k: None for k in KEYS} | {"unit_code": unit.code, "unit_name": unit.name, "month": str(month)}


def write_xlsx(path: Path, province: Province, unit: Unit, month: Month, lang: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = xlsx.sheet_title(i18n.t("form.sheet", lang))
    ws["B1"] = i18n.t("form.title", lang, month=i18n.fmt_month(month.year, month.month, lang))
    ws["B1"].font = Font(bold=True, size=13)
    ws["B2"] = i18n.t("form.instructions", lang, deadline=i18n.fmt_date(month.deadline, lang))
    ws["B2"].alignment = Alignment(wrap_text=True)
    ws.row_dimensions[2].height = 45
    ws.merge_cells("B2:C2")
    ws.append([])
    ws.append(["key", i18n.t("form.col_field", lang), i18n.t("form.col_value", lang)])
    for c in ws[4]:
        c.font, c.fill, c.border = Font(bold=True), xlsx.HEADER_FILL, xlsx.BORDER
    yes_no = DataValidation(type="list", formula1='"{},{}"'.format(i18n.t("common.yes", lang),
                                                                    i18n.t("common.no", lang)), allow_blank=True)
    count = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    day = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True)
    for dv in (yes_no, count, day):
        ws.add_data_validation(dv)
    values = blank_values(unit, month)
    for key, kind, editable in FIELDS:
        ws.append([key, i18n.t(f"form.{key}", lang), values[key]])
        row = ws.max_row
        cell = ws.cell(row=row, column=3)
        for c in ws[row]:
            c.border = xlsx.BORDER
            c.alignment = Alignment(wrap_text=True, vertical="top")
        if editable:
            cell.protection = Protection(locked=False)
            validation = {"bool": yes_no, "int": count, "date": day}.get(kind)
            if validation:
                validation.add(cell)
            if kind == "date":
                cell.number_format = xlsx.DATE
    ws.column_dimensions["A"].hidden = True
    ws.column_dimensions["B"].width = 62
    ws.column_dimensions["C"].width = 40
    ws.protection.sheet = True
    xlsx.page_setup(ws, header_row=4)
    return xlsx.save(wb, path)


def write_yaml(path: Path, province: Province, unit: Unit, month: Month, lang: str) -> Path:
    lines = [f"# {i18n.t('form.title', lang, month=i18n.fmt_month(month.year, month.month, lang))}",
             f"# {i18n.t('form.instructions', lang, deadline=i18n.fmt_date(month.deadline, lang))}"]
    values = blank_values(unit, month)
    for key, _, _ in FIELDS:
        lines.append(f"# {i18n.t(f'form.{key}', lang)}")
        lines.append(yaml.safe_dump({key: values[key]}, allow_unicode=True).strip())
    return write_text(path, "\n".join(lines) + "\n")


def write_blank_forms(province: Province, month: Month, out: Path, lang: str, fmt: str = "xlsx",
                      units: list[Unit] | None = None) -> list[Path]:
    writer = {"xlsx": write_xlsx, "yaml": write_yaml}[fmt]
    ext = "xlsx" if fmt == "xlsx" else "yml"
    return [writer(out / f"{u.code}.{ext}", province, u, month, lang)
            for u in (units if units is not None else province.units.values())]


# --- reading filled forms ---------------------------------------------------------------------------

def _read_xlsx(path: Path) -> dict[str, tuple[Any, str]]:
    """{key: (value, where)} from the hidden key column."""
    try:
        ws = openpyxl.load_workbook(path, data_only=True).worksheets[0]
    except Exception as e:  # a broken or non-XLSX file: many exception types
        raise BadInput(f"{path}: not a readable XLSX form ({type(e).__name__})") from None
    out = {}
    for row in ws.iter_rows(min_row=1):
        key = row[0].value
        if isinstance(key, str) and key.strip() in KEYS and len(row) >= 3:
            out[key.strip()] = (row[2].value, f"row {row[0].row}")
    return out


def _read_yaml(path: Path) -> dict[str, tuple[Any, str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: not a readable YAML form ({e})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: a form is a mapping of fields")
    return {str(k): (v, str(k)) for k, v in data.items() if str(k) in KEYS}


def _parse_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    text = str(v).strip()
    for f in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, f).date()
        except ValueError:
            continue
    return None


def _convert(kind: str, v: Any) -> tuple[Any, bool]:
    """(value, ok). Empty cells give (None, True)."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None, True
    if kind == "int":
        if isinstance(v, bool):
            return None, False
        try:
            n = int(float(str(v).replace(",", ".")))
        except ValueError:
            return None, False
        return n, n >= 0 and float(str(v).replace(",", ".")) == n
    if kind == "bool":
        b = parse_bool(v)
        return b, b is not None
    if kind == "date":
        d = _parse_date(v)
        return d, d is not None
    return nfc(str(v)), True


def read_form(path: Path, province: Province, month: Month) -> Form:
    raw = _read_xlsx(path) if path.suffix.lower() == ".xlsx" else _read_yaml(path)
    problems, values = [], {}
    for key, kind, _ in FIELDS:
        v, where = raw.get(key, (None, key))
        conv, ok = _convert(kind, v)
        if not ok:
            problems.append(f"{path}: {where}: {key}: {v!r} is not a valid {kind}")
        values[key] = conv
    code = values.get("unit_code")
    if code not in province.units:
        problems.append(f"{path}: unit_code: unknown unit code {code!r}")
    if values.get("month") not in (None, str(month)):
        problems.append(f"{path}: month: the form is for {values['month']}, the report for {month}")
    if problems:
        raise BadInput("\n  ".join(["invalid unit form:", *problems]))
    tz = zoneinfo.ZoneInfo(province.info.timezone)
    if values.get("submitted"):
        arrived, source = values["submitted"], "submitted"
    else:
        arrived, source = dt.datetime.fromtimestamp(path.stat().st_mtime, tz).date(), "mtime"
    return Form(code, str(path), arrived, source, arrived > month.deadline, values)


def read_forms(directory: Path, province: Province, month: Month) -> dict[str, Form]:
    """Every filled form in `directory`, by unit code; two forms for one unit is an error."""
    if not directory.is_dir():
        return {}
    files = sorted(p for p in directory.iterdir()
                   if p.is_file() and p.suffix.lower() in (".xlsx", ".yml", ".yaml") and not p.name.startswith(("~$", ".")))
    out: dict[str, Form] = {}
    problems = []
    for p in files:
        try:
            form = read_form(p, province, month)
        except BadInput as e:
            problems.append(str(e))
            continue
        if form.unit in out:
            problems.append(f"{p}: a second form for unit {form.unit} (first: {out[form.unit].file}); keep one")
            continue
        out[form.unit] = form
    if problems:
        raise BadInput("\n".join(problems))
    return out


# --- forms filled online (the web console) ----------------------------------------------------------
#
# A draft is kept in `report/<YYYY-MM>/drafts/<unit>.yml` (not read by the report); submitting writes
# `report/<YYYY-MM>/forms/<unit>.yml` with `submitted` set to the day, in the province's timezone, so
# the next `report monthly` counts it like a form that came by mail, on time or late by the same rule.

@dataclass
class UnitFormState:
    unit: str
    unit_name: str
    status: str                  # missing | draft | on_time | late
    values: dict[str, Any]
    arrived: dt.date | None = None


def _today(province: Province) -> dt.date:
    return dt.datetime.now(zoneinfo.ZoneInfo(province.info.timezone)).date()


def month_dir(province: Province, month: Month) -> Path:
    from .. import paths

    return paths.data_dir(province.inventory_dir, "report") / str(month)


def clean_values(raw: dict[str, Any], unit: Unit, month: Month) -> tuple[dict[str, Any], dict[str, str]]:
    """The unit's fields from a web form: (values, problems by field). Unit, name and month are fixed;
    `submitted` is set when the form is submitted, never taken from the user."""
    values = blank_values(unit, month)
    problems: dict[str, str] = {}
    for key, kind, editable in FIELDS:
        if not editable or key == "submitted":
            continue
        v = raw.get(key)
        if kind == "bool" and v in (None, ""):
            values[key] = None
            continue
        conv, ok = _convert(kind, v)
        if not ok:
            problems[key] = kind
        values[key] = conv
    return values, problems


def _dump(path: Path, values: dict[str, Any]) -> Path:
    plain = {k: (v.strftime("%d/%m/%Y") if isinstance(v, dt.date) else v) for k, v in values.items()}
    return write_text(path, yaml.safe_dump(plain, allow_unicode=True, sort_keys=False))


def save_draft(province: Province, month: Month, unit: Unit, raw: dict[str, Any]) -> dict[str, str]:
    """Keep the unit's unfinished form; returns the problems (nothing saved when there are some)."""
    values, problems = clean_values(raw, unit, month)
    if not problems:
        _dump(month_dir(province, month) / "drafts" / f"{unit.code}.yml", values)
    return problems


def submit(province: Province, month: Month, unit: Unit, raw: dict[str, Any],
           today: dt.date | None = None) -> tuple[Form | None, dict[str, str]]:
    """Write the unit's form where `report monthly` reads forms, dated today; a resubmission replaces
    the earlier one (and its date). Returns (the form as the report will read it, problems)."""
    values, problems = clean_values(raw, unit, month)
    if problems:
        return None, problems
    values["submitted"] = today or _today(province)
    path = _dump(month_dir(province, month) / "forms" / f"{unit.code}.yml", values)
    for stale in (month_dir(province, month) / "forms").glob(f"{unit.code}.*"):
        if stale != path and stale.suffix.lower() in (".yml", ".yaml", ".xlsx"):
            stale.unlink()
    draft = month_dir(province, month) / "drafts" / f"{unit.code}.yml"
    if draft.exists():
        draft.unlink()
    return read_form(path, province, month), {}


def unit_state(province: Province, month: Month, unit: Unit) -> UnitFormState:
    """The unit's form for the month: the submitted one (on time or late), else the draft, else blank."""
    forms_dir = month_dir(province, month) / "forms"
    for p in sorted(forms_dir.glob("*")) if forms_dir.is_dir() else []:
        if p.suffix.lower() not in (".yml", ".yaml", ".xlsx") or p.name.startswith(("~$", ".")):
            continue
        try:
            f = read_form(p, province, month)
        except BadInput:
            continue
        if f.unit == unit.code:
            return UnitFormState(unit.code, unit.name, "late" if f.late else "on_time", f.values, f.arrived)
    draft = month_dir(province, month) / "drafts" / f"{unit.code}.yml"
    if draft.is_file():
        raw = yaml.safe_load(draft.read_text(encoding="utf-8")) or {}
        values, _ = clean_values(raw, unit, month)
        return UnitFormState(unit.code, unit.name, "draft", values)
    return UnitFormState(unit.code, unit.name, "missing", blank_values(unit, month))


def states(province: Province, month: Month) -> list[UnitFormState]:
    """Every unit's form state for the month (the provincial office's list of who is late)."""
    return [unit_state(province, month, u) for u in province.units.values()]
