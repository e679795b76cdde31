"""CSV for spreadsheets: UTF-8 with a byte-order mark, because Excel on Vietnamese Windows opens a CSV
without BOM in the ANSI code page (cp1258) and turns every diacritic into mojibake.

    from provisioning.render.csv import write_csv
    write_csv(path, ["Mã", "Họ và tên"], rows)

Text cells that a spreadsheet would read as a formula (starting with = + - @, or a tab/CR that Excel
strips before looking) are neutralised with a leading apostrophe, as OWASP advises against CSV
injection: a host's own facts or a roster field must never become a live `=HYPERLINK(...)`.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable, Sequence

from .files import write_text


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that cannot start a formula; numbers and other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    w.writerows([["" if v is None else neutralise(v) for v in r] for r in rows])
    return buf.getvalue()


def write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], mode: int = 0o644) -> Path:
    """Write atomically, UTF-8 with BOM, CRLF line ends (what Excel writes itself)."""
    return write_text(path, to_csv(headers, rows), mode=mode, bom=True)
