"""The central log store on the integration center (role `logging`): its settings as the role published
them on the center (`SETTINGS`: store, retention_days, disk_warn_percent) and how full the store's file
system is. One reading for every job that needs it: `provision compliance` runs `DISK_COMMAND` as one of
its probes, `provision verify` runs `disk_command(store)` with the store from the role's facts, the
monthly report calls `read`; all of them parse with `used_percent` and `parse_settings`.

API:
    SETTINGS, DISK_COMMAND, disk_command(store=None) -> str
    used_percent(df_output) -> int | None          the Use% of `df -P`'s last line
    parse_settings(text) -> dict | None            logging.json (None: missing or not an object)
    StoreUse(host, store, used_percent, warn_percent, retention_days)   .full
    read(province, host, timeout=10.0) -> StoreUse | None   over transport.ssh (None: the role is not
                                                             deployed there); OperationFailed when the
                                                             server cannot be read
    from_output(host, output) -> StoreUse | None   what `read` makes of its command's output
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

from .errors import OperationFailed
from .model import Host, Province
from .transport import ssh

SETTINGS = "/etc/provision/logging.json"
# df of the store named in SETTINGS (compliance reads it without the role's facts)
DISK_COMMAND = (f"df -P \"$(sed -n 's/.*\"store\": *\"\\([^\"]*\\)\".*/\\1/p' {SETTINGS} 2>/dev/null)\" "
                "2>/dev/null | tail -1")
_USE = re.compile(r"\s(\d+)%\s")


def disk_command(store: str | None = None) -> str:
    """The shell command whose output `used_percent` reads: df of `store`, or of the store SETTINGS names."""
    return DISK_COMMAND if store is None else f"df -P {shlex.quote(store)} 2>/dev/null | tail -1"


def used_percent(df_output: str) -> int | None:
    """Use% of the last line of `df -P` (None when there is none: no store, df failed)."""
    lines = [ln for ln in df_output.splitlines() if ln.strip()]
    m = _USE.search(lines[-1] + " ") if lines else None
    return int(m.group(1)) if m else None


def parse_settings(text: str) -> dict | None:
    try:
        values = json.loads(text)
    except ValueError:
        return None
    return values if isinstance(values, dict) else None


@dataclass(frozen=True)
class StoreUse:
    host: str
    store: str
    used_percent: int | None      # None: df could not read the store
    warn_percent: int
    retention_days: int

    @property
    def full(self) -> bool:
        """The store's file system is at or past the published warning threshold."""
        return self.used_percent is not None and self.used_percent >= self.warn_percent


_MARK = "==provision-logstore-df=="


def read(province: Province, host: Host, timeout: float = 10.0) -> StoreUse | None:
    """The store's settings and disk use on `host` (the center), in one SSH command."""
    command = f"cat {SETTINGS} 2>/dev/null; echo {_MARK}; {DISK_COMMAND}"
    try:
        with ssh.open_session(province, host, timeout=timeout) as session:
            _, out, _ = session.run(command, timeout=timeout * 3)
    except OperationFailed:
        raise
    except Exception as e:  # noqa: BLE001 - paramiko, socket: the server's failure, said in one line
        first = str(e).splitlines()[0] if str(e) else ""
        raise OperationFailed(f"{host.name} ({host.address}:{host.port}): SSH: {type(e).__name__}: {first}"
                              .rstrip(": ")) from None
    return from_output(host.name, out.decode("utf-8", "replace"))


def from_output(host: str, output: str) -> StoreUse | None:
    """`read`'s command output -> StoreUse (None: no settings published on that server)."""
    text, _, df = output.partition(_MARK)
    settings = parse_settings(text)
    if not settings or not settings.get("store"):
        return None
    return StoreUse(host, str(settings["store"]), used_percent(df), int(settings.get("disk_warn_percent", 80)),
                    int(settings.get("retention_days", 0)))
