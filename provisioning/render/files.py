"""Atomic file output: a report or sheet is either complete on disk or absent, never half-written."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: Path, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path next to `path` to write to; on success it is chmod'ed to `mode` and renamed
    over `path`, on error it is removed. The temp file is created 0600, so secrets never show in between."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str, mode: int = 0o644, bom: bool = False) -> Path:
    """Write UTF-8 text atomically (`bom` for files Excel opens: it then reads UTF-8 correctly)."""
    with atomic_path(path, mode) as tmp:
        tmp.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    return Path(path)
