"""The HR roster as the report needs it: per official, the HR id, the unit, and whether they are
*eligible* (need and can work on a computer: the directive's "có nhu cầu và điều kiện làm việc trên
máy tính"). Only those three columns are read.

This is a small adapter: the accounts module owns the full roster format (names, positions, legacy
encodings); the report only counts rows. Accepted: CSV (UTF-8, with or without BOM) or XLSX (first
sheet), first row = headers, matched case- and diacritics-insensitively:
  hr_id     — "hr_id", "mã nhân sự", "employee_id"
  unit      — "unit", "unit_code", "mã đơn vị"
  eligible  — "eligible", "uses_computer", "sử dụng máy tính" (yes/no, có/không, x, 1/0, true/false)
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import BadInput
from .admins import fold

COLUMNS = {
    "hr_id": ("hr_id", "ma nhan su", "ma_nhan_su", "employee_id"),
    "unit": ("unit", "unit_code", "ma don vi", "ma_don_vi"),
    "eligible": ("eligible", "uses_computer", "su dung may tinh", "su_dung_may_tinh"),
}
TRUE = {"yes", "y", "co", "x", "1", "true"}
FALSE = {"no", "n", "khong", "", "0", "false"}


@dataclass(frozen=True)
class RosterEntry:
    hr_id: str
    unit: str
    eligible: bool


def parse_bool(value: object) -> bool | None:
    """Yes/no in Vietnamese or English; None when the text is neither."""
    if isinstance(value, bool):
        return value
    text = fold(str(value if value is not None else "")).strip()
    return True if text in TRUE else False if text in FALSE else None


def _rows(path: Path) -> list[list[object]]:
    if path.suffix.lower() == ".xlsx":
        import openpyxl
        try:
            ws = openpyxl.load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as e:  # openpyxl raises many types for a broken file
            raise BadInput(f"{path}: not a readable XLSX file ({type(e).__name__})") from None
        return [list(r) for r in ws.iter_rows(values_only=True)]
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text (convert legacy TCVN3/VNI files with the accounts import first)") \
            from None
    return [list(r) for r in csv.reader(io.StringIO(text))]


def read_roster(path: Path, units: Iterable[str]) -> list[RosterEntry]:
    """Read and check every row; all problems are reported together (file, row, column)."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: roster file not found")
    rows = _rows(path)
    if not rows:
        raise BadInput(f"{path}: empty roster")
    header = [fold(str(h or "")).strip() for h in rows[0]]
    idx = {}
    for key, names in COLUMNS.items():
        found = [i for i, h in enumerate(header) if h in names]
        if not found:
            raise BadInput(f"{path}: row 1: no column for {key} (one of: {', '.join(names)})")
        idx[key] = found[0]
    known, problems, out, seen = set(units), [], [], {}
    for n, r in enumerate(rows[1:], start=2):
        if not any(str(v or "").strip() for v in r):
            continue
        cell = {k: (r[i] if i < len(r) else None) for k, i in idx.items()}
        hr_id, unit = str(cell["hr_id"] or "").strip(), str(cell["unit"] or "").strip()
        eligible = parse_bool(cell["eligible"])
        if not hr_id:
            problems.append(f"{path}: row {n}: hr_id: empty")
        elif hr_id in seen:
            problems.append(f"{path}: row {n}: hr_id: {hr_id!r} already on row {seen[hr_id]}")
        if unit not in known:
            problems.append(f"{path}: row {n}: unit: unknown unit code {unit!r}")
        if eligible is None:
            problems.append(f"{path}: row {n}: eligible: {cell['eligible']!r} is not yes/no")
        if hr_id and unit in known and eligible is not None and hr_id not in seen:
            out.append(RosterEntry(hr_id, unit, eligible))
        seen.setdefault(hr_id, n)
    if problems:
        raise BadInput("invalid roster:\n  " + "\n  ".join(problems))
    return out
