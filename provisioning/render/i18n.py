"""Vietnamese/English messages and number, percent and date formatting for every report.

User-facing reports are Vietnamese by default and English with `--lang en`. Each module keeps its own
messages next to its code and registers them once at import time:

    from provisioning.render.i18n import register, t
    register({
        "audit.title": {"vi": "Báo cáo rà soát hạ tầng {unit}", "en": "Infrastructure audit of {unit}"},
    })
    t("audit.title", "vi", unit="Sở Nội vụ")      # -> "Báo cáo rà soát hạ tầng Sở Nội vụ"

Keys are dotted (`<module>.<name>`); registering the same key with a different text is an error, so two
modules cannot silently overwrite each other. A missing key or language raises KeyError: a typo fails in
tests instead of printing a raw key to a provincial office.

Formatting follows Vietnamese administrative practice: decimal comma and dot thousands ("1.234,5"),
dates "25/11/2026", the document date line "Bến Tre, ngày 25 tháng 11 năm 2026". English uses
"1,234.5" and "25 Nov 2026". `None` (no data) always renders as an em dash.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any, Mapping

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
NO_DATA = "—"

_CATALOGUE: dict[str, dict[str, str]] = {}

_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add messages {key: {"vi": ..., "en": ...}}; both languages are required. Text is stored NFC."""
    for key, texts in messages.items():
        missing = [lang for lang in LANGS if lang not in texts]
        if missing:
            raise ValueError(f"message {key!r} has no text for {', '.join(missing)}")
        norm = {lang: unicodedata.normalize("NFC", texts[lang]) for lang in LANGS}
        if key in _CATALOGUE and _CATALOGUE[key] != norm:
            raise ValueError(f"message {key!r} is already registered with a different text")
        _CATALOGUE[key] = norm


def check_lang(lang: str) -> str:
    """Return `lang` if supported, else raise ValueError naming the supported ones."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r} (use one of {', '.join(LANGS)})")
    return lang


def t(key: str, lang: str = DEFAULT_LANG, **kw: Any) -> str:
    """The message `key` in `lang`, with `{name}` placeholders filled from `kw` (str.format)."""
    text = _CATALOGUE[key][check_lang(lang)]
    return text.format(**kw) if kw else text


def fmt_number(value: float | int | None, lang: str = DEFAULT_LANG, decimals: int = 0) -> str:
    """1234.5 -> "1.234,5" (vi) / "1,234.5" (en)."""
    if value is None:
        return NO_DATA
    s = f"{value:,.{decimals}f}"
    if check_lang(lang) == "vi":
        s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return s


def fmt_percent(ratio: float | None, lang: str = DEFAULT_LANG, decimals: int = 1) -> str:
    """A ratio 0..1 as a percent: 0.5 -> "50,0%" (vi) / "50.0%" (en)."""
    if ratio is None:
        return NO_DATA
    return fmt_number(ratio * 100, lang, decimals) + "%"


def fmt_signed_percent(delta: float | None, lang: str = DEFAULT_LANG, decimals: int = 1) -> str:
    """A change of a ratio in percentage points: 0.05 -> "+5,0 điểm %" / "+5.0 pp"."""
    if delta is None:
        return NO_DATA
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    unit = " điểm %" if lang == "vi" else " pp"
    return sign + fmt_number(abs(delta) * 100, lang, decimals) + unit


def fmt_date(day: dt.date | dt.datetime | None, lang: str = DEFAULT_LANG) -> str:
    """25/11/2026 (vi) / 25 Nov 2026 (en)."""
    if day is None:
        return NO_DATA
    if check_lang(lang) == "vi":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{day.day} {_EN_MONTHS[day.month - 1][:3]} {day.year}"


def fmt_datetime(moment: dt.datetime | None, lang: str = DEFAULT_LANG) -> str:
    """14:05 25/11/2026 (vi, time first as in Vietnamese documents) / 25 Nov 2026 14:05 (en)."""
    if moment is None:
        return NO_DATA
    hm = f"{moment.hour:02d}:{moment.minute:02d}"
    return f"{hm} {fmt_date(moment, lang)}" if lang == "vi" else f"{fmt_date(moment, lang)} {hm}"


def fmt_month(year: int, month: int, lang: str = DEFAULT_LANG) -> str:
    """"tháng 11/2026" (vi) / "November 2026" (en)."""
    if check_lang(lang) == "vi":
        return f"tháng {month:02d}/{year}"
    return f"{_EN_MONTHS[month - 1]} {year}"


def fmt_place_date(place: str, day: dt.date, lang: str = DEFAULT_LANG) -> str:
    """The date line of an administrative document: "Bến Tre, ngày 25 tháng 11 năm 2026".
    Decree 30/2020/NĐ-CP (appendix I): days below 10 and the months 1 and 2 take a leading zero."""
    if check_lang(lang) == "vi":
        dd = f"{day.day:02d}" if day.day < 10 else str(day.day)
        mm = f"{day.month:02d}" if day.month < 3 else str(day.month)
        return f"{place}, ngày {dd} tháng {mm} năm {day.year}"
    return f"{place}, {fmt_date(day, lang)}"


def fmt_bool(value: bool | None, lang: str = DEFAULT_LANG) -> str:
    if value is None:
        return NO_DATA
    return t("common.yes" if value else "common.no", lang)


register({
    "common.yes": {"vi": "Có", "en": "Yes"},
    "common.no": {"vi": "Không", "en": "No"},
    "common.total": {"vi": "Tổng cộng", "en": "Total"},
    "common.no_data": {"vi": "Không có dữ liệu", "en": "No data"},
    "common.generated": {"vi": "Lập lúc {when}", "en": "Generated {when}"},
    "common.page": {"vi": "Trang {n}", "en": "Page {n}"},
    "common.unit": {"vi": "Đơn vị", "en": "Unit"},
    "common.unit_code": {"vi": "Mã đơn vị", "en": "Unit code"},
    "common.target": {"vi": "Mục tiêu", "en": "Target"},
    "doc.nation": {"vi": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "en": "SOCIALIST REPUBLIC OF VIET NAM"},
    "doc.motto": {"vi": "Độc lập - Tự do - Hạnh phúc", "en": "Independence - Freedom - Happiness"},
    "doc.preparer": {"vi": "NGƯỜI LẬP BÁO CÁO", "en": "PREPARED BY"},
    "doc.preparer_hint": {"vi": "(Ký, ghi rõ họ tên)", "en": "(Signature and full name)"},
    "doc.head": {"vi": "THỦ TRƯỞNG ĐƠN VỊ", "en": "HEAD OF THE AGENCY"},
    "doc.head_hint": {"vi": "(Ký tên, đóng dấu)", "en": "(Signature and seal)"},
})
