"""Unit forms submitted on the web console, copied to where `report monthly` reads forms.

The console runs on the integration center (roles/console) and writes a submitted form to its own
data folder there: `<report_dir>/<YYYY-MM>/forms/<unit code>.yml`, `report_dir` as the role publishes
it in `/etc/ansible/facts.d/console.fact`. Before building a month's report, the report job reads that
fact on each center server over the project's SSH transport (provisioning.transport.ssh: the
inventory's credentials, host keys checked) and copies the month's forms into the local
`var/<inventory>/report/<YYYY-MM>/forms/`, keeping each file's modification time.

Idempotent: a file already there with the same content is left alone, so a second run copies nothing;
a form the unit submitted again on the console (new content) replaces the local copy of the same
name. A center without the console (no fact) has nothing to copy and is not an error.
"""
from __future__ import annotations

import json
import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from ..errors import OperationFailed
from ..model import Host, Province
from ..transport import ssh
from .period import Month

FACT = "/etc/ansible/facts.d/console.fact"   # published by roles/console (common local_facts)
SUFFIXES = (".yml", ".yaml", ".xlsx")


@dataclass
class Fetched:
    """One center server's console forms for the month (results.HostResult)."""
    host: str
    copied: list[str] = field(default_factory=list)      # local files written (new or changed)
    unchanged: int = 0
    console: bool = False                                # the server runs the console
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def changed(self) -> bool:
        return bool(self.copied)


def _read(sftp: paramiko.SFTPClient, path: str) -> bytes:
    with sftp.open(path, "rb") as fh:
        fh.prefetch()
        return fh.read()


def _write(dest: Path, data: bytes, mtime: float) -> None:
    """Whole file or nothing (a report run must never read a half-copied form)."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.utime(tmp, (mtime, mtime))
    tmp.replace(dest)


def from_host(province: Province, host: Host, month: Month, dest: Path, timeout: float = 10) -> Fetched:
    out = Fetched(host.name)
    try:
        session = ssh.open_session(province, host, timeout=timeout)
    except OperationFailed as e:          # a refused host key: the message says what to do
        out.error = str(e)
        return out
    except (paramiko.SSHException, OSError) as e:
        out.error = f"{host.name} ({host.address}:{host.port}): {type(e).__name__}: {e}"
        return out
    try:
        sftp = session.sftp()
        try:
            fact = json.loads(_read(sftp, FACT))
        except FileNotFoundError:
            return out                    # no console on this server
        except ValueError:
            out.error = f"{host.name}: {FACT} is not JSON"
            return out
        out.console = True
        report_dir = fact.get("report_dir") if isinstance(fact, dict) else None
        if not report_dir:
            out.error = (f"{host.name}: {FACT} does not say where the console keeps unit forms (no report_dir; "
                         "deploy the console again: provision deploy --tags console)")
            return out
        remote = posixpath.join(report_dir, str(month), "forms")
        try:
            entries = sftp.listdir_attr(remote)
        except FileNotFoundError:
            return out                    # no form submitted this month
        for e in sorted(entries, key=lambda e: e.filename):
            name = e.filename
            if (not stat.S_ISREG(e.st_mode or 0) or name.startswith((".", "~$"))
                    or not name.lower().endswith(SUFFIXES) or "/" in name):
                continue
            data = _read(sftp, posixpath.join(remote, name))
            local = dest / name
            if local.is_file() and local.read_bytes() == data:
                out.unchanged += 1
                continue
            dest.mkdir(parents=True, exist_ok=True)
            _write(local, data, float(e.st_mtime or 0))
            out.copied.append(str(local))
    except (paramiko.SSHException, OSError) as e:
        out.error = f"{host.name}: console forms: {type(e).__name__}: {e}"
    finally:
        session.close()
    return out


def fetch(province: Province, month: Month, dest: Path, timeout: float = 10) -> list[Fetched]:
    """The month's console forms of every center server into `dest` (one result per server)."""
    return [from_host(province, h, month, dest, timeout) for h in province.center_servers]
