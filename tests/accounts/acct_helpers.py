"""Helpers for the accounts tests: write rosters in the encodings HR uses, talk to the real services."""
from __future__ import annotations

import csv
import imaplib
import io
import re
import smtplib
import subprocess
from pathlib import Path

HEADERS = ["Mã cán bộ", "Họ", "Tên đệm", "Tên", "Mã đơn vị", "Chức vụ", "Dùng máy tính", "Trạng thái"]
ACTIVE = "Đang công tác"


def person(hr_id: str, family: str, middle: str, given: str, unit: str, position: str = "Chuyên viên",
           computer: str = "Có", status: str = ACTIVE) -> list[str]:
    return [hr_id, family, middle, given, unit, position, computer, status]


def csv_text(rows: list[list[str]], delimiter: str = ",", headers: list[str] = HEADERS) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue()


def write_roster(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    path.write_bytes(csv_text(rows, delimiter).encode(encoding))
    return path


def sheet_passwords(sheet_files: list[Path]) -> dict[str, str]:
    """uid -> first password, read back from the printable sheets (as the official would)."""
    out = {}
    for f in sheet_files:
        html = f.read_text(encoding="utf-8")
        for uid, pw in re.findall(r"<b>([a-z0-9]+)</b>.*?<span class=\"pw\">([^<]+)</span>", html, re.S):
            out[uid] = pw
    return out


def imap_login(port: int, user: str, password: str) -> imaplib.IMAP4:
    c = imaplib.IMAP4("127.0.0.1", port)
    c.login(user, password)
    return c


def imap_can_login(port: int, user: str, password: str) -> bool:
    try:
        c = imap_login(port, user, password)
    except imaplib.IMAP4.error:
        return False
    c.logout()
    return True


def send_mail(port: int, to: str, subject: str = "Công văn số 1") -> None:
    msg = f"From: vanthu@example.org\r\nTo: {to}\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nXin chào.\r\n"
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.sendmail("vanthu@example.org", [to], msg.encode("utf-8"))


class _Cli:
    """The real `provision` command, run as a user would, with the test's data directory."""

    def argv(self, *args: str) -> list[str]:
        import sys

        return [str(Path(sys.executable).with_name("provision")), *args]

    def __call__(self, *args: str, env) -> subprocess.CompletedProcess:
        import os

        return subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=600,
                              cwd=Path(__file__).resolve().parents[2],
                              env={**os.environ, "PROVISION_DATA": str(env.data)})


cli = _Cli()
