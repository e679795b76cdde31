"""What the console keeps between requests, all in `<data>/<province>/console/` (owner-only):

  secret.key        signs cookies and CSRF tokens
  sessions/         Django file sessions (expire after the idle time)
  cache/            login attempt counters (rate limit per address and per user)
  totp.json         second factors: uid -> base32 secret and the last time step used (no replay)
  plans/<token>/    an uploaded roster, the plan made from it, the apply's progress and result

The directory, mail store, journal, run folders and report files are the accounts and report jobs'
own, reached only through their public functions.
"""
from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..accounts import service as accounts
from ..model import Province
from .config import ConsoleConfig


PLAN_DAYS = 7


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    tmp.replace(path)


class TotpStore:
    """Second factors, one JSON file (a province has hundreds of administrators, not millions)."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def secret(self, uid: str) -> str | None:
        return (self._read().get(uid) or {}).get("secret")

    def enroll(self, uid: str, secret: str, step: int) -> None:
        with self.lock:
            data = self._read()
            data[uid] = {"secret": secret, "last_step": step, "enrolled": int(time.time())}
            _write_private(self.path, json.dumps(data))

    def use(self, uid: str, code: str) -> bool:
        """Check `code` (this or the previous 30 s step, for clock skew), refusing a step already used."""
        import pyotp

        with self.lock:
            data = self._read()
            rec = data.get(uid)
            if not rec or not code.isdigit() or len(code) != 6:
                return False
            totp = pyotp.TOTP(rec["secret"])
            now = int(time.time()) // 30
            for step in (now, now - 1):
                if step > rec.get("last_step", -1) and totp.at(step * 30) == code:
                    rec["last_step"] = step
                    _write_private(self.path, json.dumps(data))
                    return True
            return False

    def reset(self, uid: str) -> bool:
        with self.lock:
            data = self._read()
            if uid not in data:
                return False
            del data[uid]
            _write_private(self.path, json.dumps(data))
            return True


@dataclass
class Job:
    token: str
    owner: str
    phase: str = "start"
    done: int = 0
    total: int = 0
    state: str = "running"      # running | done | failed
    error: str | None = None
    run: str | None = None


def console_dir(inventory: Path) -> Path:
    """`<data dir>/<province>/console/`, owner-only."""
    d = paths.data_dir(inventory, "console")
    os.chmod(d, 0o700)
    return d


@dataclass
class State:
    cfg: ConsoleConfig
    ctx: accounts.Context
    dir: Path
    totp: TotpStore
    jobs: dict[str, Job] = field(default_factory=dict)

    @property
    def province(self) -> Province:
        return self.ctx.province

    def idle_minutes(self, privileged: bool) -> int:
        """How long a session may stay without a request: the province's `security.console_idle_minutes`,
        shortened by the console's own setting for officials or administrators when that is smaller."""
        minutes = self.province.settings.security.console_idle_minutes
        own = self.cfg.admin_idle_minutes if privileged else self.cfg.session_idle_minutes
        return min(minutes, own) if own else minutes

    @classmethod
    def load(cls, cfg: ConsoleConfig) -> "State":
        ctx = accounts.load(cfg.inventory)
        d = console_dir(ctx.inventory_dir)
        st = cls(cfg, ctx, d, TotpStore(d / "totp.json"))
        st.init_dirs()
        return st

    def init_dirs(self) -> None:
        for sub in ("plans", "sessions", "cache"):
            (self.dir / sub).mkdir(mode=0o700, exist_ok=True)

    # --- plans ---------------------------------------------------------------------------------
    def new_plan_dir(self) -> tuple[str, Path]:
        """A folder for one upload and its plan. Uploads older than PLAN_DAYS go (rosters hold personal
        data; the journal and the run folders keep what was done)."""
        import shutil

        cutoff = time.time() - PLAN_DAYS * 86400
        for old in (self.dir / "plans").iterdir():
            try:
                running = old.name in self.jobs and self.jobs[old.name].state == "running"
                if old.is_dir() and old.stat().st_mtime < cutoff and not running:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                continue
        token = secrets.token_urlsafe(16)
        d = self.dir / "plans" / token
        d.mkdir(mode=0o700)
        return token, d

    def plan_dir(self, token: str) -> Path | None:
        if not token or not all(c.isalnum() or c in "-_" for c in token):
            return None
        d = self.dir / "plans" / token
        return d if d.is_dir() else None

    def write_json(self, path: Path, obj):
        """Write `obj` as JSON (owner-only); returns it as plain data (what reading the file gives)."""
        from ..render.console import to_plain

        plain = to_plain(obj)
        _write_private(path, json.dumps(plain, ensure_ascii=False))
        return plain
