"""A4 PDF documents in Vietnamese, ready to print and sign (reportlab).

    from provisioning.render.pdf import PdfDocument
    doc = PdfDocument("Báo cáo tháng 11/2026", lang="vi")
    doc.state_header(["UBND TỈNH BẾN TRE", "VĂN PHÒNG"], "Bến Tre, ngày 25 tháng 11 năm 2026")
    doc.heading("BÁO CÁO ...")
    doc.paragraph("Kết quả ...")
    doc.table(["Đơn vị", "Số hộp thư"], [["Sở Nội vụ", 12]], numeric=[1])
    doc.signature_block()
    doc.save(out_dir / "report.pdf")              # atomic

The DejaVu TrueType fonts of Debian's fonts-dejavu-core and fonts-dejavu-extra (the condensed and italic
faces; both installed by scripts/bootstrap.sh) are embedded:
reportlab's built-in PDF fonts have no Vietnamese glyphs, and an embedded font is what makes the file
print the same on any office PC. Text is normalised to NFC so every diacritic maps to one glyph.
Margins follow Decree 30/2020/NĐ-CP for administrative documents (left 30 mm, right 15 mm, top and
bottom 20 mm); pages are numbered in the footer.
"""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Any, Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape as _landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table,
                                TableStyle)

from . import i18n
from .files import atomic_path

FONT_DIR = Path(os.environ.get("PROVISION_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
_FAMILIES = {
    "Body": ("DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic"),
    "Table": ("DejaVuSansCondensed", "DejaVuSansCondensed-Bold", "DejaVuSansCondensed-Oblique",
              "DejaVuSansCondensed-BoldOblique"),
}


# Every table sets its cell font even for Paragraph cells; without this reportlab falls back to
# Helvetica, a non-embedded font without Vietnamese glyphs.
_LAYOUT = [("FONT", (0, 0), (-1, -1), "Table", 8.5), ("VALIGN", (0, 0), (-1, -1), "TOP")]


class FontsMissing(RuntimeError):
    """The DejaVu fonts are not installed (Debian packages fonts-dejavu-core and fonts-dejavu-extra)."""


def register_fonts() -> None:
    """Register the two font families once per process (reportlab keeps a global registry)."""
    from reportlab.lib.fonts import addMapping

    if "Body" in pdfmetrics.getRegisteredFontNames():
        return
    # Every file is checked before any is registered: a half-registered family would make every later
    # PDF of the process fail with a reportlab mapping error instead of this message.
    for files in _FAMILIES.values():
        for f in files:
            path = FONT_DIR / f"{f}.ttf"
            if not path.exists():
                raise FontsMissing(f"font {path} not found: install the Debian packages fonts-dejavu-core and "
                                   "fonts-dejavu-extra (scripts/bootstrap.sh does) or set PROVISION_FONT_DIR")
    for family, files in _FAMILIES.items():
        names = []
        for variant, f in zip(("", "-Bold", "-Italic", "-BoldItalic"), files):
            pdfmetrics.registerFont(TTFont(family + variant, str(FONT_DIR / f"{f}.ttf")))
            names.append(family + variant)
        for (bold, italic), name in zip(((0, 0), (1, 0), (0, 1), (1, 1)), names):
            addMapping(family, bold, italic, name)


def _text(v: Any) -> str:
    """Escape for reportlab's paragraph markup; None renders as the no-data dash."""
    if v is None:
        return i18n.NO_DATA
    return escape(unicodedata.normalize("NFC", str(v)))


class PdfDocument:
    """Flowing A4 document: add parts in reading order, then `save()`."""

    def __init__(self, title: str, lang: str = i18n.DEFAULT_LANG, landscape: bool = False,
                 author: str = "provision"):
        register_fonts()
        self.title, self.lang, self.author = title, i18n.check_lang(lang), author
        self.pagesize = _landscape(A4) if landscape else A4
        self.width = self.pagesize[0] - 45 * mm
        self.story: list = []
        base = ParagraphStyle("base", fontName="Body", fontSize=11, leading=15)
        self.styles = {
            "p": base,
            "small": ParagraphStyle("small", parent=base, fontSize=9, leading=12),
            "h1": ParagraphStyle("h1", parent=base, fontName="Body-Bold", fontSize=14, leading=19,
                                 alignment=TA_CENTER, spaceAfter=6, keepWithNext=1),
            "h2": ParagraphStyle("h2", parent=base, fontName="Body-Bold", fontSize=12, leading=16, spaceBefore=10,
                                 spaceAfter=4, keepWithNext=1),
            "h3": ParagraphStyle("h3", parent=base, fontName="Body-Bold", fontSize=11, leading=15, spaceBefore=6,
                                 spaceAfter=3, keepWithNext=1),
            "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
            "cell": ParagraphStyle("cell", fontName="Table", fontSize=8.5, leading=10.5),
            "cell_num": ParagraphStyle("cell_num", fontName="Table", fontSize=8.5, leading=10.5, alignment=TA_RIGHT),
            "head": ParagraphStyle("head", fontName="Table-Bold", fontSize=8.5, leading=10.5),
        }

    def state_header(self, agency_lines: Sequence[str], place_date: str | None = None) -> None:
        """The two-column head of a Vietnamese administrative document: issuing agency on the left, the
        national name and motto on the right, the place/date line under the motto."""
        left = "<br/>".join(f"<b>{_text(x)}</b>" if i == len(agency_lines) - 1 else _text(x)
                            for i, x in enumerate(agency_lines))
        right = (f"<b>{_text(i18n.t('doc.nation', self.lang))}</b><br/>"
                 f"<b><u>{_text(i18n.t('doc.motto', self.lang))}</u></b>")
        if place_date:
            right += f"<br/><br/><i>{_text(place_date)}</i>"
        st = ParagraphStyle("hd", parent=self.styles["center"], fontSize=10, leading=13.5)
        t = Table([[Paragraph(left, st), Paragraph(right, st)]], colWidths=[self.width * 0.44, self.width * 0.56])
        t.setStyle(TableStyle(_LAYOUT))
        self.story += [t, Spacer(1, 8 * mm)]

    def heading(self, text: str, level: int = 1) -> None:
        self.story.append(Paragraph(_text(text), self.styles[f"h{min(max(level, 1), 3)}"]))

    def paragraph(self, text: str, style: str = "p") -> None:
        self.story.append(Paragraph(_text(text), self.styles[style]))

    def spacer(self, height_mm: float = 4) -> None:
        self.story.append(Spacer(1, height_mm * mm))

    def page_break(self) -> None:
        self.story.append(PageBreak())

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric: Sequence[int] = (),
              col_widths: Sequence[float] | None = None, total_row: bool = False) -> None:
        """A table that splits across pages with the header repeated. `col_widths` are fractions of the
        text width; `numeric` columns are right-aligned; `total_row` bolds the last row."""
        head = [Paragraph(_text(h), self.styles["head"]) for h in headers]
        body = [[Paragraph(_text(v), self.styles["cell_num" if i in numeric else "cell"]) for i, v in enumerate(r)]
                for r in rows]
        widths = [self.width * f for f in col_widths] if col_widths else None
        t = Table([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
        style = [
            *_LAYOUT,
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EDF3")),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        if total_row and rows:
            style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#F4F4F4")))
        t.setStyle(TableStyle(style))
        self.story += [t, Spacer(1, 3 * mm)]

    def signature_block(self, left: tuple[str, str] | None = None, right: tuple[str, str] | None = None,
                        names: tuple[str, str] = ("", "")) -> None:
        """Two signature places (title, hint); defaults: the preparer and the head of the agency."""
        left = left or (i18n.t("doc.preparer", self.lang), i18n.t("doc.preparer_hint", self.lang))
        right = right or (i18n.t("doc.head", self.lang), i18n.t("doc.head_hint", self.lang))
        st = self.styles["center"]
        cells = [Paragraph(f"<b>{_text(title)}</b><br/><i>{_text(hint)}</i><br/><br/><br/><br/><br/>"
                           f"<b>{_text(name)}</b>", st)
                 for (title, hint), name in zip((left, right), names)]
        t = Table([cells], colWidths=[self.width / 2] * 2)
        t.setStyle(TableStyle(_LAYOUT))
        self.story.append(KeepTogether([Spacer(1, 8 * mm), t]))

    def _footer(self, canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Table", 8)
        canvas.drawCentredString(self.pagesize[0] / 2, 10 * mm, i18n.t("common.page", self.lang, n=doc.page))
        canvas.restoreState()

    def save(self, path: Path) -> Path:
        """Build the PDF atomically (temp file in the same directory, then rename)."""
        with atomic_path(path) as tmp:
            doc = SimpleDocTemplate(str(tmp), pagesize=self.pagesize, leftMargin=30 * mm, rightMargin=15 * mm,
                                    topMargin=20 * mm, bottomMargin=20 * mm, title=self.title,
                                    author=self.author, lang=self.lang, initialFontName="Body")
            doc.build(list(self.story), onFirstPage=self._footer, onLaterPages=self._footer)
        return Path(path)
