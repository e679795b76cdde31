"""Terminal output shared by every command: rich tables for people, `--json` for scripts."""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import ipaddress
import json
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Wide enough for unit codes and Vietnamese names when output goes to a file or CI log.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)  # one error per line, never wrapped


_SCALARS = frozenset((str, int, float, bool, type(None)))
_FIELDS: dict[type, tuple[str, ...]] = {}   # field names of each dataclass met (dataclasses.fields is slow)


def to_plain(obj: Any) -> Any:
    """Convert result objects (dataclasses, pydantic models, enums, paths, bytes...) to JSON-ready data.
    Secrets are never rendered: a SecretStr becomes '***'."""
    kind = type(obj)
    if kind in _SCALARS:     # most values of a 10,000-row plan: returned before any isinstance
        return obj
    names = _FIELDS.get(kind)
    if names is not None:
        return {n: to_plain(getattr(obj, n)) for n in names}
    if isinstance(obj, SecretStr):
        return "***"
    if isinstance(obj, BaseModel):
        return to_plain(obj.model_dump())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(obj))
        return {n: to_plain(getattr(obj, n)) for n in names}
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (Path, ipaddress.IPv4Network, ipaddress.IPv4Address, ipaddress.IPv6Network)):
        return str(obj)
    if isinstance(obj, (dt.datetime, dt.date)):
        return obj.isoformat()
    if isinstance(obj, (bytes, bytearray)):
        # binary LDAP values (jpegPhoto, certificates): text when it is UTF-8, else base64 as LDIF does
        try:
            return bytes(obj).decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(obj).decode("ascii")
    return obj


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_plain(obj), ensure_ascii=False, indent=2) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    return t


def error(msg: str) -> None:
    # the message is plain text (file names, YAML keys like "[min, max]"): never read it as markup
    err_console.print(f"[bold red]error:[/] {escape(msg)}", highlight=False, markup=True)
