"""Fetch the mail server's logs, current and rotated (dovecot.log, dovecot.log.1, dovecot.log.2.gz ...),
over SSH (paramiko/SFTP) with the inventory's credentials, or from a local directory (`--logs DIR`).

Host keys are checked: the known_hosts file named in the host's `ansible_ssh_common_args`
(`-o UserKnownHostsFile=...`, as the lab writes it) and ~/.ssh/known_hosts; an unknown key is refused
unless the inventory says `StrictHostKeyChecking=no`, as Ansible would.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import posixpath
import re
import shlex
import stat
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from ..model import Host
from .maillog import LogFile

DEFAULT_PATTERNS = ("/var/log/dovecot.log*", "/var/log/mail.log*", "/var/log/roundcube/userlogins.log*")
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


def _ssh_options(host: Host) -> dict[str, str]:
    opts: dict[str, str] = {}
    args = shlex.split(str(host.vars.get("ansible_ssh_common_args", "")))
    for i, a in enumerate(args):
        if a == "-o" and i + 1 < len(args) and "=" in args[i + 1]:
            k, v = args[i + 1].split("=", 1)
            opts[k.lower()] = v
    return opts


def connect(host: Host, timeout: float = 10) -> paramiko.SSHClient:
    opts = _ssh_options(host)
    client = paramiko.SSHClient()
    client.load_system_host_keys()
    if opts.get("userknownhostsfile"):
        known = Path(opts["userknownhostsfile"]).expanduser()
        if known.exists():
            client.load_host_keys(str(known))
    strict = opts.get("stricthostkeychecking", "yes").lower() not in ("no", "off")
    client.set_missing_host_key_policy(paramiko.RejectPolicy() if strict else paramiko.AutoAddPolicy())
    try:
        client.connect(host.address, port=host.port, username=host.user,
                       password=host.password.get_secret_value() if host.password else None,
                       key_filename=str(host.key_file) if host.key_file else None,
                       timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
                       allow_agent=False, look_for_keys=host.key_file is None and host.password is None)
    except (paramiko.SSHException, OSError) as e:
        client.close()
        # paramiko's messages name the host and the reason, never the password
        raise CollectError(f"{host.name} ({host.address}:{host.port}): {type(e).__name__}: {e}") from None
    return client


def from_host(host: Host, patterns=DEFAULT_PATTERNS, timeout: float = 10) -> list[LogFile]:
    """Read every current and rotated log matching `patterns` on `host` over SFTP."""
    client = connect(host, timeout)
    out: list[LogFile] = []
    try:
        sftp = client.open_sftp()
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
        client.close()
    return out


def read_file(host: Host, path: str, timeout: float = 10) -> bytes:
    """One file from `host` over SFTP (e.g. the provincial CA certificate)."""
    client = connect(host, timeout)
    try:
        with client.open_sftp().open(path, "rb") as fh:
            return fh.read()
    except OSError as e:
        raise CollectError(f"{host.name}: cannot read {path}: {e}") from None
    finally:
        client.close()


def from_hosts(hosts: list[Host], patterns=DEFAULT_PATTERNS, timeout: float = 10) -> list[Collected]:
    """The logs of every host, one result per host: a host that cannot be read does not stop the others."""
    out = []
    for host in hosts:
        try:
            out.append(Collected(host.name, from_host(host, patterns, timeout)))
        except CollectError as e:
            out.append(Collected(host.name, error=str(e)))
    return out
