"""Read and validate the HR roster (CSV in UTF-8/UTF-16/legacy 8-bit, or XLSX).

Validation is all-or-nothing: every problem of the file is collected (row, column, value, reason) and
raised together as `RosterError` before anything talks to the directory. Names come out NFC, with
legacy TCVN3/VNI text converted (see legacy.py) or refused with the encoding named.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import BadInput
from . import legacy, messages

FIELDS = ("hr_id", "family_name", "middle_name", "given_name", "unit", "position", "uses_computer", "status")
OPTIONAL_COLUMNS = {"middle_name", "position"}

# Vietnamese headers first (what HR files use), then English aliases. Matching ignores case,
# accents' normalization form, and repeated spaces; province.yml `accounts.headers` adds more.
DEFAULT_HEADERS: dict[str, list[str]] = {
    "hr_id": ["Mã cán bộ", "Mã CB", "hr_id", "hr id", "employee id"],
    "family_name": ["Họ", "family_name", "family name", "last name", "surname"],
    "middle_name": ["Tên đệm", "middle_name", "middle name"],
    "given_name": ["Tên", "given_name", "given name", "first name"],
    "unit": ["Mã đơn vị", "unit", "unit code", "unit_code"],
    "position": ["Chức vụ", "position", "title"],
    "uses_computer": ["Dùng máy tính", "uses_computer", "uses computer"],
    "status": ["Trạng thái", "status"],
}

YES = {"có", "co", "yes", "y", "x", "1", "true"}
NO = {"không", "khong", "no", "n", "0", "false"}
ACTIVE = {"đang công tác", "active"}
LEAVING = {"nghỉ việc", "nghỉ hưu", "chuyển công tác", "left", "leaving", "retired", "transferred"}

HR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")
MAX_NAME = 64
MAX_POSITION = 128
MAX_CELL = 256  # any other field: a 10 kB value is a pasted document or an attack, never an official's data
SHOWN = 40  # a long value is shown cut to this many characters in problems
# What spreadsheets read as the start of a formula (=, +, -, @; a tab or CR is refused as a control character):
# a position must be text, so that exports and the directory never carry live formulas.
FORMULA_START = tuple("=+-@")
NAME_PUNCT_RUN = re.compile(r"[ '\-]{2,}")


@dataclass(frozen=True)
class Official:
    hr_id: str
    family_name: str
    middle_name: str
    given_name: str
    unit: str
    position: str
    uses_computer: bool
    active: bool
    row: int

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family_name, self.middle_name, self.given_name) if p)

    @property
    def eligible(self) -> bool:
        """The directive: an account exists for each active official who uses a computer."""
        return self.active and self.uses_computer


@dataclass(frozen=True)
class Problem:
    """One problem of the file: where (row, column), the value, and why (`code` and `params` in
    messages.py; `reason` is the English sentence)."""
    row: int | None
    column: str
    value: str
    reason: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: int | None, column: str, value: str, code: str, **params: Any) -> "Problem":
        return cls(row, column, value, messages.text(code, params, "en"), code, params)

    def text(self, lang: str = "vi") -> str:
        """Why, in `lang`."""
        return messages.text(self.code, self.params, lang) if self.code else self.reason

    def line(self, lang: str = "vi") -> str:
        where = messages.where("row", lang, row=self.row) if self.row else messages.where("file", lang)
        val = f" {self.value!r}" if self.value else ""
        return f"{where}, {messages.where('column', lang)} {self.column!r}:{val} {self.text(lang)}"

    def __str__(self) -> str:
        return self.line("en")


class RosterError(BadInput):
    """The roster has problems; nothing was written. `problems` lists all of them."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.path = path
        self.problems = problems
        lines = [f"{path}: {len(problems)} problem(s), nothing was changed:"]
        lines += [f"  {p}" for p in problems]
        super().__init__("\n".join(lines))


@dataclass
class Roster:
    path: Path
    officials: list[Official]
    source_encoding: str               # utf-8, utf-16, xlsx, 8-bit...
    converted_from: str | None = None  # TCVN3 / VNI when legacy text was converted
    notes: list[str] = field(default_factory=list)

    def by_hr_id(self) -> dict[str, Official]:
        return {o.hr_id: o for o in self.officials}


def _norm_header(h: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", h)).strip().casefold()


def _clean(value: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip()


def _fix_case(name: str) -> str:
    """Capitalise words typed all upper or all lower (legacy fonts often lose capitals);
    mixed-case words such as minority names (H'Hen) are kept as written."""
    words = []
    for w in name.split(" "):
        if w and (w.isupper() or w.islower()):
            w = w[0].upper() + w[1:].lower()
        words.append(w)
    return " ".join(words)


# --- reading the file into (row number, cells) ---------------------------------------------------

def _decode_csv(data: bytes) -> tuple[str, str]:
    """Bytes -> text and the name of the encoding found. 8-bit files become Windows-1252 text
    for the legacy detector."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8 (BOM)"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    head = data[:200]
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4:  # UTF-16 LE without BOM
        return data.decode("utf-16-le"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return legacy.text_1252(data), "8-bit"


def _read_csv(path: Path) -> tuple[list[tuple[int, list[str]]], str]:
    text, enc = _decode_csv(path.read_bytes())
    # the delimiter the header uses; a title block above it may have none
    head = text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]
    delim = max(("\t", ";", ","), key=lambda d: max(line.count(d) for line in head))
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    for cells in reader:
        rows.append((reader.line_num, cells))
    return rows, enc


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_xlsx(path: Path) -> tuple[list[tuple[int, list[str]]], str]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        rows = [(i, [_cell(v) for v in values]) for i, values in enumerate(ws.iter_rows(values_only=True), start=1)]
    finally:
        wb.close()
    return rows, "xlsx"


def _read_xls(path: Path) -> tuple[list[tuple[int, list[str]]], str]:
    """Excel 97-2003 workbooks (.xls), still what many offices save: first sheet, as for XLSX."""
    import xlrd

    book = xlrd.open_workbook(file_contents=path.read_bytes(), on_demand=True)
    try:
        sheet = book.sheet_by_index(0)
        rows = [(i + 1, [_cell(v) for v in sheet.row_values(i)]) for i in range(sheet.nrows)]
    finally:
        book.release_resources()
    return rows, "xls"


FULL_NAME_HEADERS = {"họ và tên", "họ tên", "họ và tên khai sinh", "full name", "name", "fullname"}

# HR files exported from Excel often open with a title block (the agency, "DANH SÁCH CÁN BỘ, CÔNG CHỨC...",
# a date) above the header row: the header is the first of these rows that names every required column.
HEADER_SEARCH_ROWS = 15


def _legacy_cell(text: str, encoding: str) -> str:
    """One cell converted from a legacy encoding; a cell that cannot come from it (Unicode text) is kept."""
    try:
        return legacy.CONVERTERS[encoding](text)
    except legacy.NotConvertible:
        return text


def _find_header(rows: list[tuple[int, list[str]]],
                 aliases: dict[str, list[str]]) -> tuple[int, list[str], str | None]:
    """The header row: its index in `rows`, its cells, and the legacy encoding its text had to be decoded
    from (None: as read). A file typed with legacy fonts has its header in that encoding too, so each
    candidate row is tried as read, then decoded cell by cell as TCVN3, VNI and Windows-1258.
    When no row qualifies: row 0 as read, whose problems are then reported."""
    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        for encoding in (None, *legacy.CONVERTERS):
            header = [_clean(c if encoding is None else _legacy_cell(c, encoding)) for c in cells]
            found: list[Problem] = []
            _map_header(header, aliases, found, 0)
            if not found:
                return i, header, encoding
    return 0, [_clean(c) for c in rows[0][1]], None


def _map_header(header: list[str], aliases: dict[str, list[str]], problems: list[Problem],
                row: int = 1) -> dict[str, int]:
    lookup: dict[str, str] = {}
    for fld, names in aliases.items():
        for n in names:
            lookup.setdefault(_norm_header(n), fld)
    cols: dict[str, int] = {}
    for idx, h in enumerate(header):
        fld = lookup.get(_norm_header(h))
        if fld is None:
            continue  # HR files carry extra columns (birth date, phone...): not ours
        if fld in cols:
            problems.append(Problem.of(row, h, "", "second_column", key=fld, first=header[cols[fld]]))
            continue
        cols[fld] = idx
    full_name = next((h for h in header if _norm_header(h) in FULL_NAME_HEADERS), None)
    for fld in FIELDS:
        if fld not in cols and fld not in OPTIONAL_COLUMNS:
            accepted = ", ".join(aliases[fld])
            if full_name and fld in ("family_name", "given_name"):
                problems.append(Problem.of(row, aliases[fld][0], "", "missing_column_full_name", key=fld,
                                           accepted=accepted, full=full_name))
            else:
                problems.append(Problem.of(row, aliases[fld][0], "", "missing_column", key=fld, accepted=accepted))
    return cols


# --- validation ----------------------------------------------------------------------------------

def _shown(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."


def _bad_chars(chars: Iterable[str]) -> str:
    return ", ".join(f"{c!r} (U+{ord(c):04X})" for c in dict.fromkeys(chars))


def read_roster(path: str | Path, unit_codes: Iterable[str],
                header_aliases: dict[str, list[str]] | None = None) -> Roster:
    """Read, convert and validate the roster; raise RosterError listing every problem found."""
    path = Path(path)
    aliases = {f: list(v) for f, v in DEFAULT_HEADERS.items()}
    for fld, extra in (header_aliases or {}).items():
        aliases[fld] = list(extra) + aliases[fld]
    if not path.is_file():
        raise RosterError(path, [Problem.of(None, "", "", "file_not_found")])
    try:
        magic = path.read_bytes()[:8]
        if path.suffix.lower() in (".xlsx", ".xlsm") or magic[:2] == b"PK":
            rows, enc = _read_xlsx(path)
        elif path.suffix.lower() == ".xls" or magic == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":   # OLE2: Excel 97
            rows, enc = _read_xls(path)
        else:
            rows, enc = _read_csv(path)
    except Exception as e:  # a corrupt XLSX, an unreadable file: report, never a traceback
        raise RosterError(path, [Problem.of(None, "", "", "unreadable", error=f"{type(e).__name__}: {e}")]) from None
    rows = [(n, cells) for n, cells in rows if any(c.strip() for c in cells)]
    if not rows:
        raise RosterError(path, [Problem.of(None, "", "", "empty_file")])
    problems: list[Problem] = []
    start, header, header_encoding = _find_header(rows, aliases)
    header_row = rows[start][0]
    cols = _map_header(header, aliases, problems, header_row)
    if problems:
        raise RosterError(path, problems)

    def get(cells: list[str], fld: str) -> str:
        i = cols.get(fld)
        return cells[i] if i is not None and i < len(cells) else ""

    body = rows[start + 1:]
    label = {fld: header[i] for fld, i in cols.items()}

    # Legacy encodings: decided once for the whole file, by the header when it had to be decoded, else on
    # the name columns.
    if header_encoding:
        det = legacy.Detection(header_encoding, True, f"converted from {header_encoding}")
    else:
        name_cells = [_clean(get(c, f)) for _, c in body for f in ("family_name", "middle_name", "given_name")]
        det = legacy.detect(name_cells)
    notes = []
    converter = legacy.CONVERTERS.get(det.encoding) if det.encoding else None
    if det.encoding and not det.convertible:
        problems.append(Problem.of(None, "", "", "legacy_unconvertible", detail=det.detail))
    elif det.encoding:
        notes.append(f"{det.detail} to Unicode")
    elif enc == "8-bit":
        problems.append(Problem.of(None, "", "", "not_text"))
        raise RosterError(path, problems)

    def value(cells: list[str], fld: str) -> str:
        raw = get(cells, fld)
        if converter and fld not in ("hr_id", "unit"):
            try:
                raw = converter(raw)
            except legacy.NotConvertible:
                pass  # reported below as impossible characters
        return _clean(raw)

    units = set(unit_codes)
    # HR sometimes writes the unit's name where its code belongs: say which code that name has
    code_of_name = {_norm_header(n): code for code, u in (unit_codes.items() if isinstance(unit_codes, Mapping) else ())
                    for n in (getattr(u, "name", None), getattr(u, "short_name", None)) if n}
    seen: dict[str, int] = {}
    officials = []
    for rownum, cells in body:
        v = {f: value(cells, f) for f in FIELDS}
        row_problems = len(problems)
        hr_id = v["hr_id"]
        if not hr_id:
            problems.append(Problem.of(rownum, label["hr_id"], "", "missing_hr_id"))
        elif not HR_ID.match(hr_id):
            problems.append(Problem.of(rownum, label["hr_id"], _shown(hr_id), "bad_hr_id"))
        elif hr_id in seen:
            problems.append(Problem.of(rownum, label["hr_id"], hr_id, "duplicate_hr_id", other=seen[hr_id]))
        else:
            seen[hr_id] = rownum
        too_long = set()
        for fld in FIELDS:
            if fld in cols and len(v[fld]) > MAX_CELL:
                too_long.add(fld)
                problems.append(Problem.of(rownum, label[fld], _shown(v[fld]), "too_long", limit=MAX_CELL))
        for fld in ("family_name", "middle_name", "given_name"):
            if fld not in cols or fld in too_long:
                continue
            text = v[fld]
            if not text and fld != "middle_name":
                problems.append(Problem.of(rownum, label[fld], "", "empty", key=fld))
            elif bad := legacy.bad_name_chars(text):
                problems.append(Problem.of(rownum, label[fld], _shown(text), "bad_chars", chars=_bad_chars(bad)))
            elif len(text) > MAX_NAME:
                problems.append(Problem.of(rownum, label[fld], _shown(text), "too_long", limit=MAX_NAME))
            elif text and (text[0] in legacy.NAME_PUNCT or text[-1] in legacy.NAME_PUNCT
                           or NAME_PUNCT_RUN.search(text)):
                problems.append(Problem.of(rownum, label[fld], text, "name_punctuation"))
        pos = v["position"]
        if "position" in cols and "position" not in too_long:
            if bad := [c for c in pos if not c.isprintable() or c == "\ufffd"]:
                problems.append(Problem.of(rownum, label["position"], _shown(pos), "bad_chars", chars=_bad_chars(bad)))
            elif len(pos) > MAX_POSITION:
                problems.append(Problem.of(rownum, label["position"], _shown(pos), "too_long", limit=MAX_POSITION))
            elif pos.startswith(FORMULA_START):
                problems.append(Problem.of(rownum, label["position"], _shown(pos), "formula"))
        if not v["unit"]:
            problems.append(Problem.of(rownum, label["unit"], "", "missing_unit"))
        elif v["unit"] not in units:
            code = code_of_name.get(_norm_header(v["unit"]))
            problems.append(Problem.of(rownum, label["unit"], _shown(v["unit"]), "unit_name_for_code", unit_code=code)
                            if code else Problem.of(rownum, label["unit"], _shown(v["unit"]), "unknown_unit"))
        uc = v["uses_computer"].casefold()
        if uc not in YES | NO:
            problems.append(Problem.of(rownum, label["uses_computer"], _shown(v["uses_computer"]), "yes_no"))
        st = v["status"].casefold()
        if st not in ACTIVE | LEAVING:
            problems.append(Problem.of(rownum, label["status"], _shown(v["status"]), "unknown_status"))
        if len(problems) == row_problems:
            officials.append(Official(
                hr_id=hr_id, family_name=_fix_case(v["family_name"]), middle_name=_fix_case(v["middle_name"]),
                given_name=_fix_case(v["given_name"]), unit=v["unit"], position=v["position"],
                uses_computer=uc in YES, active=st in ACTIVE, row=rownum))
    if problems:
        raise RosterError(path, problems)
    return Roster(path=path, officials=officials, source_encoding=enc, converted_from=det.encoding, notes=notes)
