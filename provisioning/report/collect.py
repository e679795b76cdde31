"""Fetch the mail server's logs, current and rotated (dovecot.log, dovecot.log.1, dovecot.log.2.gz ...),
over SSH (paramiko/SFTP) with the inventory's credentials, or from a local directory (`--logs DIR`).

Host keys are checked as for every command (provisioning.transport.ssh): an unknown or changed key
stops the collection from that host, and only from that host.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import posixpath
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from ..errors import OperationFailed
from ..model import Host, Province
from ..model.settings import DEFAULT_MAIL_LOGS
from ..transport import ssh
from .maillog import LogFile

DEFAULT_PATTERNS = DEFAULT_MAIL_LOGS
# Rotated copies are named <log>.<n> or <log>.<n>.gz (logrotate) or <log>-YYYYMMDD[.gz] (dateext).
_ROTATED = re.compile(r"^(\.\d+|-\d{8})?(\.gz)?$")


class CollectError(Exception):
    """The logs could not be fetched (unreachable host, refused key, unreadable file)."""


@dataclass
class Collected:
    """The logs read from one server (results.HostResult: a failed host is data, not an exception)."""
    host: str
    files: list[LogFile] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def changed(self) -> bool:
        return False        # collecting only reads


def _matches(name: str, pattern: str) -> bool:
    base = posixpath.basename(pattern)
    if base.endswith("*"):
        stem = base[:-1]
        return name.startswith(stem) and bool(_ROTATED.match(name[len(stem):]))
    return fnmatch.fnmatch(name, base)


def from_directory(directory: Path, patterns=DEFAULT_PATTERNS) -> list[LogFile]:
    """Log files in a local directory whose names match the patterns' file parts."""
    out = []
    for p in sorted(Path(directory).iterdir()):
        if p.is_file() and any(_matches(p.name, pat) for pat in patterns):
            out.append(LogFile(str(p), p.read_bytes(), dt.datetime.fromtimestamp(p.stat().st_mtime)))
    return out


def connect(province: Province, host: Host, timeout: float = 10) -> ssh.SshSession:
    """An SSH session to `host` under the province's host-key policy (provisioning.transport.ssh)."""
    try:
        return ssh.open_session(province, host, timeout=timeout)
    except OperationFailed as e:        # a refused host key: the message says what to do
        raise CollectError(str(e)) from None
    except (paramiko.SSHException, OSError) as e:
        # paramiko's messages name the host and the reason, never the password
        raise CollectError(f"{host.name} ({host.address}:{host.port}): {type(e).__name__}: {e}") from None


def from_host(province: Province, host: Host, patterns=DEFAULT_PATTERNS, timeout: float = 10) -> list[LogFile]:
    """Read every current and rotated log matching `patterns` on `host` over SFTP."""
    session = connect(province, host, timeout)
    out: list[LogFile] = []
    try:
        sftp = session.sftp()
        for pattern in patterns:
            directory = posixpath.dirname(pattern)
            try:
                entries = sftp.listdir_attr(directory)
            except FileNotFoundError:
                continue        # e.g. no webmail on this server: nothing to read there
            except OSError as e:
                raise CollectError(f"{host.name}: cannot list {directory}: {e}") from None
            for e in sorted(entries, key=lambda e: e.filename):
                if not (_matches(e.filename, pattern) and stat.S_ISREG(e.st_mode or 0)):
                    continue
                path = posixpath.join(directory, e.filename)
                try:
                    with sftp.open(path, "rb") as fh:
                        fh.prefetch()
                        data = fh.read()
                except OSError as err:
                    raise CollectError(f"{host.name}: cannot read {path}: {err}") from None
                out.append(LogFile(f"{host.name}:{path}", data, dt.datetime.fromtimestamp(e.st_mtime or 0)))
    finally:
        session.close()
    return out


def from_hosts(province: Province, hosts: list[Host], patterns=DEFAULT_PATTERNS,
               timeout: float = 10) -> list[Collected]:
    """The logs of every host, one result per host: a host that cannot be read does not stop the others."""
    out = []
    for host in hosts:
        try:
            out.append(Collected(host.name, from_host(province, host, patterns, timeout)))
        except CollectError as e:
            out.append(Collected(host.name, error=str(e)))
    return out
