"""What the roster reader says about a problem, in Vietnamese (the default) and English.

Each problem has a code and parameters; the text is made here, so the CLI (`--lang`) and the web console
show the same sentence in the operator's language. Parameters are values from the file or the province
(names, codes, characters): never translated.
"""
from __future__ import annotations

from typing import Any

# The roster's fields as HR calls them (the Vietnamese column names of the template).
FIELD_NAMES = {
    "hr_id": ("hr_id", "mã cán bộ"),
    "family_name": ("family name", "họ"),
    "middle_name": ("middle name", "tên đệm"),
    "given_name": ("given name", "tên"),
    "unit": ("unit code", "mã đơn vị"),
    "position": ("position", "chức vụ"),
    "uses_computer": ("uses a computer", "sử dụng máy tính"),
    "status": ("status", "trạng thái"),
}

# code: (English, Vietnamese); `{field}` is filled with the field's name in the same language.
MESSAGES: dict[str, tuple[str, str]] = {
    "file_not_found": ("file not found", "không tìm thấy tệp"),
    "unreadable": ("cannot read the file: {error}", "không đọc được tệp: {error}"),
    "empty_file": ("the file is empty", "tệp rỗng"),
    "second_column": ("second column for {key} (first is {first!r})",
                      "cột thứ hai cho {field} (cột đầu là {first!r})"),
    "missing_column": ("missing column ({key}; accepted headers: {accepted})",
                       "thiếu cột {field} (tên cột được chấp nhận: {accepted})"),
    "missing_column_full_name": (
        "missing column ({key}; accepted headers: {accepted}); the file has one full-name column {full!r}: "
        "split it into Họ, Tên đệm and Tên (a name cannot be split reliably by a program)",
        "thiếu cột {field} (tên cột được chấp nhận: {accepted}); tệp chỉ có một cột họ tên {full!r}: hãy tách "
        "thành Họ, Tên đệm và Tên (chương trình không tách họ tên chính xác được)"),
    "legacy_unconvertible": (
        "legacy Vietnamese encoding {detail}; save the file as Unicode (UTF-8) after converting it (e.g. with UniKey)",
        "tệp dùng bảng mã tiếng Việt cũ ({detail}); hãy chuyển sang Unicode (UTF-8), ví dụ bằng UniKey, rồi lưu lại"),
    "not_text": ("the file is neither UTF-8/UTF-16 nor TCVN3/VNI/Windows-1258 text; save it as CSV UTF-8 or as XLSX",
                 "tệp không phải văn bản UTF-8/UTF-16 hay TCVN3/VNI/Windows-1258; hãy lưu thành CSV UTF-8 hoặc XLSX"),
    "missing_hr_id": ("missing hr_id (the official's stable key)", "thiếu mã cán bộ (mã định danh cố định của cán bộ)"),
    "bad_hr_id": ("hr_id must be 1-32 letters, digits, '.', '_', '/' or '-'",
                  "mã cán bộ gồm 1-32 chữ cái, chữ số, '.', '_', '/' hoặc '-'"),
    "duplicate_hr_id": ("duplicate hr_id (also on row {other})", "trùng mã cán bộ (đã có ở dòng {other})"),
    "too_long": ("longer than {limit} characters", "dài quá {limit} ký tự"),
    "empty": ("empty {field}", "bỏ trống {field}"),
    "bad_chars": ("impossible character(s) in a name: {chars}", "ký tự không hợp lệ trong họ tên: {chars}"),
    "name_punctuation": ("a space, apostrophe or hyphen may only stand alone between letters of a name",
                         "dấu cách, dấu nháy hoặc gạch nối chỉ được đứng riêng lẻ giữa các chữ của tên"),
    "formula": ("a position is text and may not start with =, +, - or @ (a spreadsheet formula)",
                "chức vụ là chữ, không được bắt đầu bằng =, +, - hoặc @ (công thức bảng tính)"),
    "missing_unit": ("missing unit code", "thiếu mã đơn vị"),
    "unknown_unit": ("unknown unit code (not in province.yml)",
                     "mã đơn vị không có trong danh sách đơn vị của tỉnh (province.yml)"),
    "unit_name_for_code": ("unknown unit code (not in province.yml); this is the name of unit {unit_code}: write its code",
                           "mã đơn vị không có trong danh sách của tỉnh; đây là tên của đơn vị {unit_code}: hãy ghi mã"),
    "yes_no": ("expected Có or Không (yes/no)", "cần ghi Có hoặc Không"),
    "unknown_status": ("unknown status; expected Đang công tác, Nghỉ việc, Nghỉ hưu or Chuyển công tác (active/left)",
                       "trạng thái không hợp lệ; ghi Đang công tác, Nghỉ việc, Nghỉ hưu hoặc Chuyển công tác"),
}

WHERE = {"row": ("row {row}", "dòng {row}"), "file": ("file", "tệp"), "column": ("column", "cột"),
         "header": ("{path}: {n} problem(s), nothing was changed:", "{path}: {n} lỗi, chưa thay đổi gì:")}


def _i(lang: str) -> int:
    return 1 if lang == "vi" else 0


def text(code: str, params: dict[str, Any], lang: str = "vi") -> str:
    """The sentence for one problem in `lang` ("vi" or "en")."""
    i = _i(lang)
    field = FIELD_NAMES.get(str(params.get("key", "")), (params.get("key", ""),) * 2)[i]
    return MESSAGES[code][i].format(field=field, **params)


def where(key: str, lang: str = "vi", **params: Any) -> str:
    return WHERE[key][_i(lang)].format(**params)
