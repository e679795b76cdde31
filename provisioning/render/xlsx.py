"""Print-ready Excel workbooks (openpyxl): one sheet per table, headers, number formats, widths, A4.

    from provisioning.render import xlsx
    wb = xlsx.workbook()
    xlsx.add_sheet(wb, "Đơn vị", ["Mã", "Tên", "Tỷ lệ"], rows, formats={"Tỷ lệ": xlsx.PERCENT},
                   title="Báo cáo tháng 11/2026")
    xlsx.save(wb, out_dir / "report.xlsx")       # atomic: never a half-written file

Cells keep real numbers (a ratio 0.5 with format PERCENT), so the office can re-total them and Excel
shows them with the reader's own decimal separator. Every sheet prints on A4, fitted to the page width,
with the header row repeated on each page and the header frozen on screen.

Text is stored as text: openpyxl would store a string starting with "=" as a formula, so a roster
position like `=HYPERLINK(...)` or a host's crafted /etc/os-release would become live in the office's
Excel. Such cells keep their exact text with the string type forced (nothing is evaluated on open).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .files import atomic_path

INTEGER = "#,##0"
DECIMAL = "#,##0.0"
PERCENT = "0.0%"
DATE = "dd/mm/yyyy"
DATETIME = "dd/mm/yyyy hh:mm"
TEXT = "@"

_THIN = Side(style="thin", color="A0A0A0")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="EEF2F7")
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def workbook() -> Workbook:
    """An empty workbook (its default sheet is removed when the first sheet is added)."""
    wb = Workbook()
    wb.active.title = "_empty"
    return wb


def sheet_title(name: str) -> str:
    """Excel refuses []:*?/\\ in sheet names and more than 31 characters."""
    return _BAD_TITLE.sub("-", name).strip()[:31] or "Sheet"


def add_sheet(wb: Workbook, name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
              formats: Mapping[str | int, str] | None = None, widths: Mapping[str | int, float] | None = None,
              title: str | None = None, notes: Sequence[str] = (), landscape: bool = False) -> Worksheet:
    """Append a sheet holding a table.

    `formats`/`widths` are keyed by header text or 0-based column index. `title` is a bold first line
    and `notes` are lines under the table (sources, definitions). Column widths default to the longest
    cell (capped at 60 characters) so the sheet reads without resizing."""
    if "_empty" in wb.sheetnames and len(wb.sheetnames) == 1:
        del wb["_empty"]
    ws = wb.create_sheet(sheet_title(name))
    col = {h: i for i, h in enumerate(headers)}

    def index(key: str | int) -> int:
        return key if isinstance(key, int) else col[key]

    fmt = {index(k): v for k, v in (formats or {}).items()}
    row_no = 1
    if title:
        ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=13)
        row_no = 3
    header_row = row_no
    for i, h in enumerate(headers, start=1):
        c = ws.cell(row=row_no, column=i, value=h)
        c.font, c.fill, c.border = Font(bold=True), HEADER_FILL, BORDER
        c.alignment = Alignment(wrap_text=True, vertical="top")
    longest = [len(str(h)) for h in headers]
    for r in rows:
        row_no += 1
        for i, v in enumerate(r):
            c = ws.cell(row=row_no, column=i + 1, value=v)
            if isinstance(v, str) and c.data_type == "f":
                c.data_type = "s"   # text, never a formula
            c.border = BORDER
            c.alignment = Alignment(vertical="top", wrap_text=isinstance(v, str) and len(v) > 60)
            if i in fmt:
                c.number_format = fmt[i]
            if i < len(longest):
                longest[i] = max(longest[i], min(len(str(v)) if v is not None else 0, 60))
    row_no += 1 if notes else 0  # one blank line between the table and its notes
    for line in notes:
        row_no += 1
        ws.cell(row=row_no, column=1, value=line).font = Font(italic=True, color="555555")
    explicit = {index(k): v for k, v in (widths or {}).items()}
    for i, n in enumerate(longest):
        ws.column_dimensions[get_column_letter(i + 1)].width = explicit.get(i, max(8, n + 2))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    page_setup(ws, header_row, landscape=landscape or len(headers) > 7)
    return ws


def page_setup(ws: Worksheet, header_row: int = 1, landscape: bool = False) -> None:
    """A4, fit to one page wide (as many pages tall as needed), header row repeated on every page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.print_options.horizontalCentered = True


def save(wb: Workbook, path: Path, mode: int = 0o644) -> Path:
    """Write atomically (temp file in the same directory, then rename); `mode` 0o600 for secrets."""
    with atomic_path(path, mode) as tmp:
        wb.save(tmp)
    return Path(path)
