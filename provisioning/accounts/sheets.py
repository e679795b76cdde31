"""Printable first-password sheets: one HTML file per unit, one page per official.

The unit's administrator prints the file and hands each official their page. The files are the only
place a first password is ever written: directory 0700, files 0600, created with those modes (no
window where another user could open them), and the CLI prints only their paths.
"""
from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from ..render import i18n

i18n.register({
    "accounts.sheet.title": {"vi": "Phiếu cấp tài khoản thư điện tử công vụ",
                             "en": "Official mail account slip"},
    "accounts.sheet.unit": {"vi": "Đơn vị", "en": "Unit"},
    "accounts.sheet.name": {"vi": "Họ và tên", "en": "Full name"},
    "accounts.sheet.hr_id": {"vi": "Mã cán bộ", "en": "HR ID"},
    "accounts.sheet.username": {"vi": "Tên đăng nhập", "en": "Username"},
    "accounts.sheet.mail": {"vi": "Địa chỉ thư điện tử", "en": "Mail address"},
    "accounts.sheet.password": {"vi": "Mật khẩu lần đầu", "en": "First password"},
    "accounts.sheet.servers": {"vi": "Máy chủ thư (IMAP/SMTP)", "en": "Mail servers (IMAP/SMTP)"},
    "accounts.sheet.note": {
        "vi": "Mật khẩu này chỉ dùng cho lần đăng nhập đầu tiên: hệ thống yêu cầu đổi mật khẩu ngay. "
              "Không chia sẻ mật khẩu; hủy phiếu này sau khi đã đổi mật khẩu.",
        "en": "This password is for the first login only: you must change it at once. "
              "Do not share it; destroy this slip after changing it."},
    "accounts.sheet.issued": {"vi": "Ngày cấp", "en": "Issued on"},
    "accounts.sheet.count": {"vi": "{n} tài khoản", "en": "{n} account(s)"},
})

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 12pt; margin: 2cm; }
.slip { page-break-after: always; border: 1px solid #444; padding: 1.2em 1.5em; margin-bottom: 2em; }
.slip:last-child { page-break-after: auto; }
h1 { font-size: 15pt; margin: 0 0 .8em 0; }
table { border-collapse: collapse; }
td { padding: .25em .8em .25em 0; vertical-align: top; }
td.k { color: #333; white-space: nowrap; }
.pw { font-family: "DejaVu Sans Mono", monospace; font-size: 16pt; letter-spacing: .12em; }
.note { margin-top: 1em; font-size: 10pt; }
@media print { body { margin: 0; } .slip { border: none; } }
"""


@dataclass
class Slip:
    unit: str
    unit_name: str
    hr_id: str
    name: str
    uid: str
    mail: str
    password: SecretStr


def _slip_html(s: Slip, servers: str, day: str, lang: str) -> str:
    e = html.escape
    rows = [
        ("unit", f"{e(s.unit_name)} ({e(s.unit)})"), ("name", e(s.name)), ("hr_id", e(s.hr_id)),
        ("username", f"<b>{e(s.uid)}</b>"), ("mail", e(s.mail)),
        ("password", f'<span class="pw">{e(s.password.get_secret_value())}</span>'),
        ("servers", e(servers)), ("issued", e(day)),
    ]
    cells = "".join(f'<tr><td class="k">{e(i18n.t("accounts.sheet." + k, lang))}</td><td>{v}</td></tr>'
                    for k, v in rows)
    return (f'<section class="slip"><h1>{e(i18n.t("accounts.sheet.title", lang))}</h1><table>{cells}</table>'
            f'<p class="note">{e(i18n.t("accounts.sheet.note", lang))}</p></section>')


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_sheets(out_dir: Path, slips: list[Slip], servers: str, lang: str = i18n.DEFAULT_LANG,
                 today: dt.date | None = None) -> list[Path]:
    """One `<unit code>.html` per unit in `out_dir` (created 0700). Returns the files written."""
    if not slips:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    day = i18n.fmt_date(today or dt.date.today(), lang)
    by_unit: dict[str, list[Slip]] = {}
    for s in slips:
        by_unit.setdefault(s.unit, []).append(s)
    files = []
    for unit, items in sorted(by_unit.items()):
        items.sort(key=lambda s: (s.name.split(" ")[-1], s.name, s.uid))
        title = f"{i18n.t('accounts.sheet.title', lang)} - {items[0].unit_name}"
        body = "\n".join(_slip_html(s, servers, day, lang) for s in items)
        doc = (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}'
               f'</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n')
        path = out_dir / f"{unit}.html"
        _write_private(path, doc)
        files.append(path)
    return files
