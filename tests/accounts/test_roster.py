"""Roster reading and validation, usernames, legacy encodings and settings (no services needed)."""
from __future__ import annotations

import unicodedata

import pytest
from acct_helpers import HEADERS, csv_text, person, write_roster
from openpyxl import Workbook

from provisioning.accounts import naming
from provisioning.roster import legacy
from provisioning.roster import RosterError, read_roster

UNITS = {"U01", "U02", "000.00.02.H09"}


def names(roster):
    return [o.full_name for o in roster.officials]


def test_utf8_with_and_without_bom_and_nfd_input_is_stored_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", "Nguyễn")
    rows = [person("CB1", nfd, "Văn", "An", "U01"), person("CB2", "Trần", "Thị Thu", "Hà", "U02")]
    for enc in ("utf-8", "utf-8-sig"):
        r = read_roster(write_roster(tmp_path / f"{enc}.csv", rows, enc), UNITS)
        assert names(r) == ["Nguyễn Văn An", "Trần Thị Thu Hà"]
        assert unicodedata.is_normalized("NFC", r.officials[0].family_name)


def test_utf16_tab_separated_as_excel_unicode_text(tmp_path):
    rows = [person("CB1", "Đặng", "Đình", "Đức", "U01"), person("CB2", "Lê", "", "Ánh", "U02", computer="Không")]
    path = tmp_path / "roster.txt"
    path.write_bytes(csv_text(rows, "\t").encode("utf-16"))  # BOM + UTF-16LE, as Excel writes it
    r = read_roster(path, UNITS)
    assert r.source_encoding == "utf-16"
    assert names(r) == ["Đặng Đình Đức", "Lê Ánh"]
    assert [o.eligible for o in r.officials] == [True, False]


def test_xlsx_with_numeric_ids(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    ws.append([1001, "Phạm", "Ngọc", "Ánh", "U01", "Giám đốc", "có", "Đang công tác"])
    ws.append([1002, "Võ", "Thành", "Nhân", "U02", "", "Không", "Nghỉ hưu"])
    wb.save(tmp_path / "r.xlsx")
    r = read_roster(tmp_path / "r.xlsx", UNITS)
    assert [o.hr_id for o in r.officials] == ["1001", "1002"]
    assert r.officials[0].eligible and not r.officials[1].active


def test_title_block_above_the_header_is_skipped_and_rows_keep_their_file_numbers(tmp_path):
    """HR's Excel exports open with the agency, the title and a date above the header."""
    wb = Workbook()
    ws = wb.active
    ws.append(["ỦY BAN NHÂN DÂN TỈNH BẾN TRE"])
    ws.append(["DANH SÁCH CÁN BỘ, CÔNG CHỨC, VIÊN CHỨC"])
    ws.append(["(Kèm theo công văn số 123/UBND-TH ngày 01/12/2026)"])
    ws.append([])
    ws.append(["STT", *HEADERS, "Ghi chú"])
    ws.append([1, "CB1", "Phạm", "Ngọc", "Ánh", "U01", "Giám đốc", "Có", "Đang công tác", ""])
    ws.append([2, "CB2", "Võ", "Thành", "", "U02", "", "Có", "Đang công tác", "thiếu tên"])
    wb.save(tmp_path / "r.xlsx")
    with pytest.raises(RosterError) as e:
        read_roster(tmp_path / "r.xlsx", UNITS)
    assert [(p.row, p.column) for p in e.value.problems] == [(7, "Tên")]     # the file's own row number
    ws.delete_rows(7)
    wb.save(tmp_path / "r.xlsx")
    assert names(read_roster(tmp_path / "r.xlsx", UNITS)) == ["Phạm Ngọc Ánh"]
    # a CSV whose title line has no delimiter at all
    path = tmp_path / "r.csv"
    path.write_text("DANH SÁCH CÁN BỘ\n\n" + csv_text([person("CB1", "Lê", "Văn", "An", "U01")], ";"),
                    encoding="utf-8")
    assert names(read_roster(path, UNITS)) == ["Lê Văn An"]
    # no row names the columns: the first row's problems are reported, as before
    path.write_text("DANH SÁCH CÁN BỘ\nMã cán bộ,Họ,Tên\nCB1,Lê,An\n", encoding="utf-8")
    with pytest.raises(RosterError) as e:
        read_roster(path, UNITS)
    assert {p.row for p in e.value.problems} == {1}


def test_excel_97_xls_roster_is_read_like_xlsx(tmp_path):
    """tests/fixtures/roster-excel97.xls: an Excel 97-2003 workbook (BIFF8, written by xlwt) with a title
    block, an STT column, numeric hr_ids and Vietnamese names, as many offices still save them."""
    from pathlib import Path
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "roster-excel97.xls"
    r = read_roster(fixture, UNITS)
    assert r.source_encoding == "xls"
    assert [o.hr_id for o in r.officials] == ["2001", "2002", "2003"]
    assert names(r) == ["Đặng Đình Đức", "Trần Thị Thu Hà", "Lê Ánh"]
    assert all(unicodedata.is_normalized("NFC", n) for n in names(r))
    assert [o.eligible for o in r.officials] == [True, True, False]
    # recognised by its content, whatever the file is called
    renamed = tmp_path / "danh-sach.dat"
    renamed.write_bytes(fixture.read_bytes())
    assert names(read_roster(renamed, UNITS)) == names(r)
    # a broken .xls is a clear error, never a traceback
    (tmp_path / "broken.xls").write_bytes(fixture.read_bytes()[:1500])
    with pytest.raises(RosterError, match="cannot read the file"):
        read_roster(tmp_path / "broken.xls", UNITS)


# TCVN3 and VNI bytes of "Nguyễn Văn An / Đặng Đình Đức / Trần Thị Thu Hà / Đang công tác / Có".
TCVN3_ROWS = [
    ["CB1", b"Nguy\xd4n", b"V\xa8n", b"An", "U01", b"Chuy\xaan vi\xaan", b"C\xe3", b"\xa7ang c\xabng t\xb8c"],
    ["CB2", b"\xa7\xc6ng", b"\xa7\xd7nh", b"\xa7\xf8c", "U02", b"Chuy\xaan vi\xaan", b"C\xe3", b"\xa7ang c\xabng t\xb8c"],
    ["CB3", b"Tr\xc7n", b"Th\xde Thu", b"H\xb5", "U01", b"Chuy\xaan vi\xaan", b"C\xe3", b"\xa7ang c\xabng t\xb8c"],
]
VNI_ROWS = [
    ["CB1", b"Nguye\xe3n", b"Va\xean", b"An", "U01", b"Chuye\xe2n vie\xe2n", b"Co\xf9", b"\xd1ang co\xe2ng ta\xf9c"],
    ["CB2", b"\xd1a\xebng", b"\xd1\xecnh", b"\xd1\xf6\xf9c", "U02", b"Chuye\xe2n vie\xe2n", b"Co\xf9", b"\xd1ang co\xe2ng ta\xf9c"],
    ["CB3", b"Tra\xe0n", b"Th\xf2 Thu", b"Ha\xf8", "U01", b"Chuye\xe2n vie\xe2n", b"Co\xf9", b"\xd1ang co\xe2ng ta\xf9c"],
]
EXPECTED = ["Nguyễn Văn An", "Đặng Đình Đức", "Trần Thị Thu Hà"]


def _legacy_file(path, rows, header_bytes):
    lines = [b",".join(header_bytes)] + [b",".join(c if isinstance(c, bytes) else c.encode() for c in r) for r in rows]
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    return path


ASCII_HEADERS = [b"hr_id", b"family_name", b"middle_name", b"given_name", b"unit", b"position", b"uses_computer",
                 b"status"]


@pytest.mark.parametrize("enc,rows", [("TCVN3", TCVN3_ROWS), ("VNI", VNI_ROWS)])
def test_legacy_8bit_files_are_detected_and_converted(tmp_path, enc, rows):
    r = read_roster(_legacy_file(tmp_path / f"{enc}.csv", rows, ASCII_HEADERS), UNITS)
    assert r.converted_from == enc
    assert names(r) == EXPECTED
    assert all(o.active and o.uses_computer for o in r.officials)
    assert r.officials[0].position == "Chuyên viên"


def _cp1258(text: str) -> bytes:
    """Windows-1258 bytes as Vietnamese Windows writes them: base letter (â, ơ...) + combining tone."""
    out = ""
    for ch in text:
        d = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in d if c in "\u0300\u0301\u0303\u0309\u0323")
        out += unicodedata.normalize("NFC", "".join(c for c in d if c not in tones)) + tones
    return out.encode("cp1258")


def test_windows_1258_file_is_converted(tmp_path):
    rows = [["CB1", _cp1258("Nguyễn"), _cp1258("Văn"), b"An", "U01", _cp1258("Chuyên viên"), _cp1258("Có"),
             _cp1258("Đang công tác")],
            ["CB2", _cp1258("Đặng"), _cp1258("Đình"), _cp1258("Đức"), "U02", b"", b"yes", b"active"]]
    r = read_roster(_legacy_file(tmp_path / "cp1258.csv", rows, ASCII_HEADERS), UNITS)
    assert r.converted_from == "Windows-1258"
    assert names(r) == ["Nguyễn Văn An", "Đặng Đình Đức"] and r.officials[0].eligible


# The Vietnamese header row as each legacy encoding writes it: TCVN3 from glibc's TCVN5712-1 table (iconv), VNI
# by its base letter + mark characters, Windows-1258 by Python's codec.
HEADERS_VI = ["Mã cán bộ", "Họ", "Tên đệm", "Tên", "Mã đơn vị", "Chức vụ", "Dùng máy tính", "Trạng thái"]
TCVN3_HEADERS = [b"M\xb7 c\xb8n b\xe9", b"H\xe4", b"T\xaan \xae\xd6m", b"T\xaan", b"M\xb7 \xae\xacn v\xde",
                 b"Ch\xf8c v\xf4", b"D\xefng m\xb8y t\xddnh", b"Tr\xb9ng th\xb8i"]
VNI_HEADERS = [b"Ma\xf5 ca\xf9n bo\xe4", b"Ho\xef", b"Te\xe2n \xf1e\xe4m", b"Te\xe2n", b"Ma\xf5 \xf1\xf4n v\xf2",
               b"Ch\xf6\xf9c vu\xef", b"Du\xf8ng ma\xf9y t\xednh", b"Tra\xefng tha\xf9i"]


def _cp1258_rows():
    return [["CB1", _cp1258("Nguyễn"), _cp1258("Văn"), b"An", "U01", _cp1258("Chuyên viên"), _cp1258("Có"),
             _cp1258("Đang công tác")],
            ["CB2", _cp1258("Đặng"), _cp1258("Đình"), _cp1258("Đức"), "U02", _cp1258("Chuyên viên"), _cp1258("Có"),
             _cp1258("Đang công tác")],
            ["CB3", _cp1258("Trần"), _cp1258("Thị Thu"), _cp1258("Hà"), "U01", _cp1258("Chuyên viên"), _cp1258("Có"),
             _cp1258("Đang công tác")]]


@pytest.mark.parametrize("enc", ["TCVN3", "VNI", "Windows-1258"])
def test_whole_legacy_file_with_a_legacy_header_row_is_converted(tmp_path, enc):
    """As HR sends it: every byte of the file, the header row included, typed with a legacy font."""
    headers, rows = {"TCVN3": (TCVN3_HEADERS, TCVN3_ROWS), "VNI": (VNI_HEADERS, VNI_ROWS),
                     "Windows-1258": ([_cp1258(h) for h in HEADERS_VI], _cp1258_rows())}[enc]
    path = _legacy_file(tmp_path / f"{enc}.csv", rows, headers)
    path.write_bytes(b"S\xd4 N\xd8I V\xd9\r\n" + path.read_bytes())   # a title line above the header
    r = read_roster(path, UNITS)
    assert r.converted_from == enc
    assert names(r) == EXPECTED
    assert all(unicodedata.is_normalized("NFC", n) for n in names(r))
    assert [o.row for o in r.officials] == [3, 4, 5]
    assert all(o.active and o.uses_computer for o in r.officials)
    assert r.officials[0].position == "Chuyên viên"


def test_legacy_header_row_names_the_decoded_column_in_problems(tmp_path):
    rows = [list(r) for r in TCVN3_ROWS]
    rows[1][4] = "U99"
    with pytest.raises(RosterError) as e:
        read_roster(_legacy_file(tmp_path / "tcvn3.csv", rows, TCVN3_HEADERS), UNITS)
    assert e.value.problems[0].column == "Mã đơn vị" and e.value.problems[0].row == 3


def test_legacy_text_inside_a_unicode_xlsx_is_converted(tmp_path):
    """Excel shows .VnTime text as Windows-1252 letters; saving as XLSX keeps that mojibake."""
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for row in TCVN3_ROWS:
        ws.append([c.decode("cp1252") if isinstance(c, bytes) else c for c in row])
    wb.save(tmp_path / "tcvn3.xlsx")
    r = read_roster(tmp_path / "tcvn3.xlsx", UNITS)
    assert r.converted_from == "TCVN3" and names(r) == EXPECTED


def test_legacy_file_that_does_not_convert_is_refused_naming_the_encoding(tmp_path):
    rows = [list(r) for r in TCVN3_ROWS] + [["CB4", b"Nguy\xd4n", b"V\xa8n", b"\xb0\xb1\xb2", "U01", b"", b"C\xe3",
                                             b"\xa7ang c\xabng t\xb8c"]]
    with pytest.raises(RosterError) as e:
        read_roster(_legacy_file(tmp_path / "bad.csv", rows, ASCII_HEADERS), UNITS)
    assert "TCVN3 detected" in str(e.value)


def test_unicode_file_with_one_odd_name_is_not_mistaken_for_legacy():
    assert legacy.detect(["Nguyễn", "Văn", "An", "Trần", "Thị", "Hà", "H'Hen", "Niê"]).encoding is None


def broken_rows(u1: str = "U01", u2: str = "U02") -> list[list[str]]:
    """A roster with 21 broken rows (at least 20 distinct defects) and one good row (file row 3)."""
    return [
        person("", "Nguyễn", "Văn", "An", u1),                        # 1 missing hr_id
        person("CB1", "Nguyễn", "Văn", "Bình", u1),
        person("CB1", "Trần", "", "Cường", u1),                       # 2 duplicate hr_id
        person("CB3", "", "Văn", "Dũng", u1),                         # 3 empty family name
        person("CB4", "Lê", "Văn", "", u1),                           # 4 empty given name
        person("CB5", "Lê", "Văn", "Em", "U99"),                         # 5 unknown unit
        person("CB6", "Lê", "Văn", "Phúc", u1, status="Đi học"),      # 6 unknown status
        person("CB7", "Lê", "Văn", "Giang", u1, computer="Có lẽ"),    # 7 unknown computer value
        person("CB8", "Lê2", "Văn", "Hải", u1),                       # 8 digit in a name
        person("CB9", "Lê", "V@n", "Hùng", u1),                       # 9 impossible char in middle
        person("CB10", "Lê", "Văn", "Kh\ufffdi", u1),                 # 10 replacement char (lossy export)
        person("CB 11", "Lê", "Văn", "Lâm", u1),                      # 11 bad hr_id characters
        person("CB12", "Lê", "Văn", "Minh", ""),                         # 12 missing unit
        person("CB13", "Lê", "Văn", "Nam", u1, status=""),            # 13 empty status
        person("CB14", "Lê", "Văn", "Oanh", u1, computer=""),         # 14 empty computer value
        person("CB15", "Lê", "Văn", "Phong" * 15, u1),                # 15 name too long
        person("CB16", "Nguyá»…n", "Văn", "Quân", u1),                # 16 UTF-8 read as Windows-1252
        person("CB17", "Lê", "Văn\t", "Sơn;", u1),                    # 17 punctuation in a name
        person("CB18", "Lê", "Văn", "Tâm", "u01"),                       # 18 unit code in the wrong case
        person("CB19", "Lê", "Văn", "Uyên", u1, position="Chuyên\x07viên"),  # 19 control char in position
        person("CB20", "Lê", "Văn", "Vy", u1, status="left?"),        # 20 unknown status (English)
        person("CB1", "Lê", "Văn", "Xuân", u2),                       # 21 duplicate hr_id again
    ]


def test_every_problem_is_reported_at_once(tmp_path):
    """At least 20 distinct defects, each with row, column, value and reason."""
    rows = broken_rows()
    path = write_roster(tmp_path / "broken.csv", rows)
    with pytest.raises(RosterError) as e:
        read_roster(path, UNITS)
    probs = e.value.problems
    assert len(probs) >= 21
    assert all(p.row and p.column and p.reason for p in probs)
    rows_hit = {p.row for p in probs}
    assert rows_hit == set(range(2, 24)) - {3}  # every broken row (file row 3 is the only good one)
    text = str(e.value)
    for needle in ("missing hr_id", "duplicate hr_id (also on row 3)", "empty family name", "empty given name",
                   "unknown unit code", "unknown status", "expected Có or Không", "impossible character",
                   "U+FFFD", "longer than 64"):
        assert needle in text, needle


def test_missing_columns_are_named_with_accepted_headers(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("Mã cán bộ,Họ,Tên\nCB1,Lê,An\n", encoding="utf-8")
    with pytest.raises(RosterError) as e:
        read_roster(path, UNITS)
    cols = {p.column for p in e.value.problems}
    assert {"Mã đơn vị", "Dùng máy tính", "Trạng thái"} <= cols


def test_english_headers_and_extra_header_aliases(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("Employee ID;family name;middle name;given name;unit;position;uses computer;status;phone\n"
                    "CB1;Lê;Văn;An;U01;;yes;active;0909\n", encoding="utf-8")
    assert names(read_roster(path, UNITS)) == ["Lê Văn An"]
    path.write_text(csv_text([person("CB1", "Lê", "Văn", "An", "U01")]).replace("Mã cán bộ", "Số hiệu"))
    assert read_roster(path, UNITS, {"hr_id": ["Số hiệu"]}).officials[0].hr_id == "CB1"


def test_full_name_column_and_unit_names_get_a_hint(tmp_path):
    from provisioning.model import load_province
    from tests.conftest import EXAMPLE
    units = load_province(EXAMPLE).units
    path = tmp_path / "r.csv"
    path.write_text("Mã cán bộ,Họ và tên,Mã đơn vị,Dùng máy tính,Trạng thái\nCB1,Lê Văn An,000.00.02.H09,Có,"
                    "Đang công tác\n", encoding="utf-8")
    with pytest.raises(RosterError) as e:
        read_roster(path, units)
    reasons = {p.column: p.reason for p in e.value.problems}
    assert set(reasons) == {"Họ", "Tên"} and all("'Họ và tên': split it" in r for r in reasons.values())
    # the unit's name (or short name) where its code belongs
    rows = [person("CB1", "Lê", "Văn", "An", "Sở Nội vụ"), person("CB2", "Lê", "Văn", "Bình", "VP UBND"),
            person("CB3", "Lê", "Văn", "Cường", "Sở Không Có")]
    with pytest.raises(RosterError) as e:
        read_roster(write_roster(tmp_path / "u.csv", rows), units)
    got = [p.reason for p in e.value.problems]
    assert got == ["unknown unit code (not in province.yml); this is the name of unit 000.00.02.H09: write its code",
                   "unknown unit code (not in province.yml); this is the name of unit 000.00.01.H09: write its code",
                   "unknown unit code (not in province.yml)"]


def test_empty_file_is_refused(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(RosterError, match="empty"):
        read_roster(tmp_path / "e.csv", UNITS)


@pytest.mark.parametrize("full,expected", [
    (("Nguyễn", "Văn", "An"), "annv"), (("Trần", "Thị Thu", "Hà"), "hattt"), (("Đặng", "Đình", "Đức"), "ducdd"),
    (("Lê", "", "Ánh"), "anhl"), (("Phạm", "Thanh", "Bình Minh"), "binhminhpt"), (("Hoàng Phủ", "Ngọc", "Tường"), "tuonghpn"),
])
def test_default_username_pattern(full, expected):
    from provisioning.roster import Official

    o = Official("X", *full, unit="U01", position="", uses_computer=True, active=True, row=2)
    assert naming.base_username(o) == expected


def test_fold_maps_d_stroke_and_drops_only_marks():
    assert naming.fold("Đặng Đình Đức") == "dangdinhduc"
    assert naming.fold("Nguyễn Thị Thu Hà") == "nguyenthithuha"


def test_clash_suffixes_and_reserved_names():
    taken = {"annv"}
    assert naming.allocate("annv", taken) == "annv2"
    assert naming.allocate("annv", taken) == "annv3"
    assert naming.allocate("postmaster", set()) == "postmaster2"


def test_pattern_check_names_the_problem():
    assert naming.check_pattern("{given}.{family}") is None
    assert "unknown placeholder" in naming.check_pattern("{ten}{f}")
    assert "must use {given}" in naming.check_pattern("{family}")


@pytest.mark.parametrize(("row", "column", "shown", "reason"), [
    (person("CB1", "Lê", "Văn", "An", "U01", position="=HYPERLINK(\"http://x\",\"Bấm\")"), "Chức vụ",
     '=HYPERLINK("http://x","Bấm")', "spreadsheet formula"),
    (person("CB1", "Lê", "Văn", "An", "U01", position="@SUM(1+1)*cmd|' /C calc'!A0"), "Chức vụ", "@SUM(1+1)",
     "spreadsheet formula"),
    (person("CB1", "Lê", "Văn", "An", "U01", position="+84 trưởng phòng"), "Chức vụ", "+84", "spreadsheet formula"),
    (person("CB1", "Lê", "Văn", "An", "U01", position="-1+1"), "Chức vụ", "-1+1", "spreadsheet formula"),
    (person("CB1", "Lê", "Văn", "An", "U01", position="Chuyên viên " * 1000), "Chức vụ", "Chuyên viên Chuyên",
     "longer than 256 characters"),
    (person("CB1", "Lê", "Văn", "An", "U01", position="Chuyên viên chính " * 8), "Chức vụ", "Chuyên viên",
     "longer than 128 characters"),
    (person("CB1", "-Lê", "Văn", "An", "U01"), "Họ", "-Lê", "between letters"),
    (person("CB1", "Lê", "Văn", "An'", "U01"), "Tên", "An'", "between letters"),
    (person("CB1", "Lê", "Văn--Thị", "An", "U01"), "Tên đệm", "Văn--Thị", "between letters"),
    (person("CB1", "Lê", "Văn", "A" * 10_000, "U01"), "Tên", "AAAA", "longer than 256 characters"),
    (person("CB1", "Lê", "Văn", "An", "U01", status="x" * 10_000), "Trạng thái", "xxxx",
     "longer than 256 characters"),
], ids=["hyperlink", "at-sum-dde", "plus", "minus", "10kB-position", "long-position", "leading-hyphen",
        "trailing-apostrophe", "double-hyphen", "10kB-name", "10kB-status"])
def test_fields_bounded_and_typed(tmp_path, row, column, shown, reason):
    """Spreadsheet formulas, oversized values and mis-shaped names are refused with row, column, a value
    shown short, and the reason; nothing of the file is accepted."""
    path = write_roster(tmp_path / "r.csv", [person("CB0", "Trần", "Thị", "Hà", "U01"), row])
    with pytest.raises(RosterError) as e:
        read_roster(path, UNITS)
    mine = [p for p in e.value.problems if p.column == column]
    assert mine and all(p.row == 3 for p in e.value.problems), e.value.problems
    assert any(p.value.startswith(shown) and reason in p.reason for p in mine), mine
    assert all(len(p.value) <= 43 for p in e.value.problems)  # a 10 kB value is never echoed whole


def test_names_with_inner_apostrophe_hyphen_and_positions_as_text_are_accepted(tmp_path):
    rows = [person("CB1", "H'Năm", "", "Niê", "U01", position="Phó Giám đốc - phụ trách"),
            person("CB2", "Ka-Sô", "Liễng", "Ra", "U01", position="Chuyên viên (hợp đồng 68)"),
            person("CB3", "Lê", "Văn", "An", "U01", position="")]
    r = read_roster(write_roster(tmp_path / "ok.csv", rows), UNITS)
    assert names(r) == ["H'Năm Niê", "Ka-Sô Liễng Ra", "Lê Văn An"]
    assert r.officials[0].position == "Phó Giám đốc - phụ trách"
