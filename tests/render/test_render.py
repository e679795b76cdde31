"""The shared rendering layer: formatting, HTML, XLSX, PDF and CSV outputs opened by real readers."""
from __future__ import annotations

import csv as csv_module
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
import unicodedata
import zipfile

import openpyxl
import pytest

from provisioning.render import i18n, xlsx
from provisioning.render.csv import to_csv, write_csv
from provisioning.render.html import bar_chart, line_chart, render_html
from provisioning.render.pdf import PdfDocument

UNITS = ["Ủy ban nhân dân xã Phú Túc", "Sở Tư pháp", "Ban Quản lý các Khu công nghiệp"]


def test_vietnamese_and_english_formats():
    assert i18n.fmt_number(1234567.5, "vi", 1) == "1.234.567,5"
    assert i18n.fmt_number(1234567.5, "en", 1) == "1,234,567.5"
    assert i18n.fmt_percent(0.5, "vi") == "50,0%"
    assert i18n.fmt_percent(1 / 3, "en", 2) == "33.33%"
    assert i18n.fmt_percent(None, "vi") == i18n.NO_DATA
    assert i18n.fmt_signed_percent(-0.05, "en") == "−5.0 pp"
    assert i18n.fmt_date(dt.date(2026, 11, 25), "vi") == "25/11/2026"
    assert i18n.fmt_date(dt.date(2026, 11, 5), "en") == "5 Nov 2026"
    assert i18n.fmt_month(2026, 3, "vi") == "tháng 03/2026"
    assert i18n.fmt_place_date("Bến Tre", dt.date(2026, 2, 5)) == "Bến Tre, ngày 05 tháng 02 năm 2026"
    assert i18n.fmt_place_date("Bến Tre", dt.date(2026, 11, 25)) == "Bến Tre, ngày 25 tháng 11 năm 2026"


def test_catalogue_refuses_typos_and_silent_overrides():
    i18n.register({"test.greet": {"vi": "Xin chào {name}", "en": "Hello {name}"}})
    assert i18n.t("test.greet", "vi", name="Đức") == "Xin chào Đức"
    assert i18n.t("test.greet", "en", name="Duc") == "Hello Duc"
    with pytest.raises(KeyError):
        i18n.t("test.no-such-key", "vi")
    with pytest.raises(ValueError):
        i18n.t("test.greet", "fr")
    with pytest.raises(ValueError, match="different text"):
        i18n.register({"test.greet": {"vi": "Chào", "en": "Hi"}})
    with pytest.raises(ValueError, match="no text for en"):
        i18n.register({"test.half": {"vi": "Một nửa"}})


def test_html_is_self_contained_escaped_and_localised(tmp_path):
    (tmp_path / "page.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block content %}<p>{{ who }}</p><p>{{ share|percent }}</p>'
        '{{ bar_chart(units, {"Hộp thư": [100, 42.5, None]}, target=50, title="Tỷ lệ") }}'
        '{{ line_chart(["09/2026", "10/2026", "11/2026"], {"Hộp thư": [10, None, 60]}, targets={"Hộp thư": 100}) }}'
        '{% endblock %}', encoding="utf-8")
    html = render_html("page.html.j2", {"title": "Báo cáo", "who": "<script>x()</script>", "share": 0.425,
                                        "units": UNITS}, lang="vi", search_path=[tmp_path])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "42,5%" in html                       # the filter uses the page's language
    assert UNITS[0] in html and "<svg" in html and "<polyline" not in html.split("<svg")[1]
    assert html.count("<rect") >= 3 and "class=\"target\"" in html
    # no external asset: the only URL is the SVG namespace
    assert set(re.findall(r"https?://[^\"' )]+", html)) == {"http://www.w3.org/2000/svg"}
    assert "src=" not in html and "<link" not in html
    en = render_html("page.html.j2", {"title": "Report", "who": "x", "share": 0.425, "units": UNITS},
                     lang="en", search_path=[tmp_path])
    assert "42.5%" in en and 'lang="en"' in en


def test_line_chart_breaks_on_missing_months():
    svg = str(line_chart(["a", "b", "c", "d"], {"s": [10, 20, None, 40]}))
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 3  # a-b joined, d alone
    assert "—" in str(bar_chart(["x"], {"s": [None]}))


def test_xlsx_holds_numbers_and_prints_on_a4(tmp_path):
    wb = xlsx.workbook()
    xlsx.add_sheet(wb, "Đơn vị: tháng 11/2026", ["Đơn vị", "Hộp thư", "Tỷ lệ"],
                   [[UNITS[0], 12, 0.5], [UNITS[1], 3, 1.0]], formats={"Tỷ lệ": xlsx.PERCENT, 1: xlsx.INTEGER},
                   title="Báo cáo", notes=["Nguồn: LDAP"])
    path = xlsx.save(wb, tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path)["Đơn vị- tháng 11-2026"]
    assert openpyxl.load_workbook(path).sheetnames == ["Đơn vị- tháng 11-2026"]
    assert [c.value for c in ws[3]] == ["Đơn vị", "Hộp thư", "Tỷ lệ"]
    assert [c.value for c in ws[4]] == [UNITS[0], 12, 0.5]
    assert ws["C4"].number_format == "0.0%" and ws["B5"].number_format == "#,##0"
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$3:$3" and ws.freeze_panes == "A4"
    assert ws["A7"].value == "Nguồn: LDAP"
    assert list(tmp_path.iterdir()) == [path]     # no temp file left behind


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed (scripts/bootstrap.sh)")
def test_pdf_embeds_fonts_and_keeps_vietnamese_diacritics(tmp_path):
    doc = PdfDocument("Báo cáo", lang="vi")
    doc.state_header(["UBND TỈNH BẾN TRE", "VĂN PHÒNG"], "Bến Tre, ngày 25 tháng 11 năm 2026")
    doc.heading("BÁO CÁO TIẾN ĐỘ")
    doc.table(["Đơn vị", "Số hộp thư"], [[u, i] for i, u in enumerate(UNITS * 30)], numeric=[1],
              col_widths=[0.8, 0.2])
    doc.signature_block()
    path = doc.save(tmp_path / "r.pdf")
    text = unicodedata.normalize("NFC", subprocess.run(["pdftotext", "-layout", str(path), "-"],
                                                       capture_output=True, text=True, check=True).stdout)
    for s in [*UNITS, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "NGƯỜI LẬP BÁO CÁO", "THỦ TRƯỞNG ĐƠN VỊ",
              "Trang 2"]:
        assert s in text, s
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert rows and all("yes" == r[-5] for r in rows), fonts   # every font embedded


def test_csv_has_bom_for_excel(tmp_path):
    path = write_csv(tmp_path / "a.csv", ["Mã", "Họ và tên"], [["annv", "Nguyễn Văn An"], ["x", None]])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "Nguyễn Văn An".encode() in raw and raw.endswith(b"x,\r\n")


FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]


def test_csv_cells_never_start_a_formula():
    text = to_csv(["a", "n"], [[f, -5] for f in FORMULAS])
    rows = list(csv_module.reader(io.StringIO(text)))[1:]
    assert [r[0] for r in rows] == ["'" + f for f in FORMULAS]
    assert {r[1] for r in rows} == {"-5"}            # numbers are data, left alone


def test_xlsx_text_cells_are_text_not_formulas(tmp_path):
    wb = xlsx.workbook()
    xlsx.add_sheet(wb, "s", ["a", "n"], [[f, -5] for f in FORMULAS])
    xlsx.save(wb, tmp_path / "x.xlsx")
    with zipfile.ZipFile(tmp_path / "x.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet                        # no formula element anywhere
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert [ws.cell(row=r, column=1).value for r in range(2, 2 + len(FORMULAS))] == FORMULAS
    assert ws.cell(row=2, column=2).value == -5


def test_a_missing_font_face_is_named_every_time_and_registers_nothing(tmp_path):
    # fonts-dejavu-core without fonts-dejavu-extra (Debian 12 and 13 alike): no serif italics
    from provisioning.render.pdf import FONT_DIR
    for f in FONT_DIR.glob("*.ttf"):
        if f.name != "DejaVuSerif-Italic.ttf":
            (tmp_path / f.name).symlink_to(f)
    code = ("import sys\nfrom reportlab.pdfbase import pdfmetrics\n"
            "from provisioning.render.pdf import FontsMissing, register_fonts\n"
            "for _ in range(2):\n    try:\n        register_fonts()\n    except FontsMissing as e:\n"
            "        print(e)\nprint(sorted(n for n in pdfmetrics.getRegisteredFontNames() if n.startswith(('Body', 'Table'))))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PROVISION_FONT_DIR": str(tmp_path)})
    lines = r.stdout.splitlines()
    assert len(lines) == 3 and lines[2] == "[]"
    for line in lines[:2]:
        assert "DejaVuSerif-Italic.ttf not found" in line and "fonts-dejavu-extra" in line
