"""Checks on an uploaded roster before the roster reader sees it: size, real type by content (not by
name), and for XLSX (a zip) the uncompressed size, so that a zip bomb is refused without inflating it."""
from __future__ import annotations

import zipfile
from pathlib import Path

MAX_UNZIPPED = 200 * 1024 * 1024     # a 10,000-row roster is a few MB once unzipped
MAX_RATIO = 200                      # XML compresses well, but not 1:1000


class Refused(Exception):
    """The file is not accepted; the message key says why (console.upload.*)."""

    def __init__(self, key: str, **kw):
        self.key, self.kw = key, kw
        super().__init__(key)


def sniff(path: Path, max_bytes: int) -> str:
    """The roster's type by content: xlsx | xls | csv; Refused otherwise."""
    size = path.stat().st_size
    if size == 0:
        raise Refused("console.upload.empty")
    if size > max_bytes:
        raise Refused("console.upload.too_big", mb=max_bytes // (1024 * 1024))
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if head.startswith(b"PK\x03\x04"):
        _check_zip(path, size)
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"                                   # UTF-16 text as Excel saves it
    if b"\x00" in head or head.lstrip().startswith((b"%PDF", b"\x7fELF", b"MZ", b"\x89PNG", b"\x1f\x8b")):
        raise Refused("console.upload.type")
    return "csv"


def _check_zip(path: Path, size: int) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Refused("console.upload.type") from None
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise Refused("console.upload.type")
    if total > MAX_UNZIPPED or total > size * MAX_RATIO:
        raise Refused("console.upload.bomb")
