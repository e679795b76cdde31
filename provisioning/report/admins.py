"""Does a unit have the dedicated network administrator the directive asks for?

The directive: "cán bộ quản trị mạng chuyên trách có trình độ cao đẳng tin học (hệ chính quy) trở lên",
a dedicated network administrator with at least a (regular-mode) college degree in IT. province.yml
names the administrator and a free-text qualification (units[].admin.qualification). The rule applied to
that text (case and diacritics ignored, Vietnamese or English):

1. level: college ("cao đẳng", "college", "associate") or higher ("đại học", "cử nhân", "kỹ sư",
   "thạc sĩ", "tiến sĩ", "bachelor", "engineer", "master", "PhD"...). "trung cấp" (vocational),
   "sơ cấp" or a certificate ("chứng chỉ") is below the bar; a text with no recognisable level fails.
2. field: IT ("tin học", "công nghệ thông tin"/"CNTT", "khoa học máy tính", "hệ thống thông tin",
   "kỹ thuật phần mềm", "mạng máy tính", "an toàn thông tin", "information technology", "computer",
   "informatics", "software", "network"...). An engineer in electronics and telecommunications is not
   an IT graduate for this rule: the office may accept them, but the report shows them to review.
3. mode: at college level the directive requires regular mode; "tại chức", "vừa làm vừa học" or
   "từ xa" (in-service, work-study, distance) fail at that level. Higher degrees pass in any mode
   ("trở lên").
The result carries a reason code, shown in the report next to each unit that fails.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..model import Unit

_LEVELS = [  # (level, pattern on folded ASCII text), higher first
    (4, r"\b(tien si|phd|ph\.d|doctor|doctorate)\b"),
    (3, r"\b(thac si|master|msc|m\.sc|mba)\b"),
    (2, r"\b(dai hoc|cu nhan|ky su|bachelor|engineer|university|bsc|b\.sc)\b"),
    (1, r"\b(cao dang|college|associate)\b"),
    (0, r"\b(trung cap|so cap|chung chi|certificate|vocational|intermediate)\b"),
]
_IT = re.compile(r"\b(tin hoc|cong nghe thong tin|cntt|khoa hoc may tinh|he thong thong tin|ky thuat phan mem|"
                 r"mang may tinh|an toan thong tin|truyen thong va mang may tinh|ky thuat may tinh|"
                 r"information technology|computer|informatics|software|network|information systems?|\bit\b)")
_NOT_REGULAR = re.compile(r"\b(tai chuc|vua lam vua hoc|tu xa|in-service|part-time|distance)\b")


def fold(text: str) -> str:
    """Lower-case ASCII: "Cao đẳng Tin học" -> "cao dang tin hoc" (đ has no decomposition: mapped)."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@dataclass(frozen=True)
class AdminStatus:
    named: bool
    name: str | None
    qualification: str | None
    qualified: bool
    reason: str          # ok | none_named | no_qualification | level_unknown | below_college | not_it | not_regular


def assess(unit: Unit) -> AdminStatus:
    a = unit.admin
    if a is None:
        return AdminStatus(False, None, None, False, "none_named")
    if not a.qualification:
        return AdminStatus(True, a.name, None, False, "no_qualification")
    text = fold(a.qualification)
    level = next((lvl for lvl, pat in _LEVELS if re.search(pat, text)), None)
    reason = "ok"
    if level is None:
        reason = "level_unknown"
    elif level < 1:
        reason = "below_college"
    elif not _IT.search(text):
        reason = "not_it"
    elif level == 1 and _NOT_REGULAR.search(text):
        reason = "not_regular"
    return AdminStatus(True, a.name, a.qualification, reason == "ok", reason)
