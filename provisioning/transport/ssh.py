"""The one way to open an SSH session to an inventory host, under one host-key policy.

Every command that talks SSH to a host of the province (audit, report log collection, the accounts
mail store, the provincial CA fetch, verify, deploy and backup through Ansible) resolves the same
policy here, from the inventory and `ansible.cfg`:

- known_hosts files: the `UserKnownHostsFile=` of the host's `ansible_ssh_common_args` (as the lab
  writes it), else OpenSSH's defaults `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts`;
- checking: on by default (`ansible.cfg` says `host_key_checking = true`): a host whose key is not in
  known_hosts is refused (`unknown`), and so is a host presenting another key than the recorded one
  (`changed`: a reinstalled server, or someone in the middle). Nothing is sent to a refused host.
- first-contact opt-out, per unit, in province.yml: `ssh_first_contact: accept-new` on a unit means
  OpenSSH's `StrictHostKeyChecking=accept-new` for the unit's hosts: an unknown key is accepted AND
  recorded in the first known_hosts file, so that the next contact checks it; a changed key is always
  refused. `StrictHostKeyChecking=accept-new` (or `no`, which is read the same way: a changed key is
  never accepted here) in a host's `ansible_ssh_common_args`, or `host_key_checking = false` in
  ansible.cfg, open the same door. The audit records every host reached through it
  (`host_key: accepted_new` in audit.json).

A refused key raises `provisioning.errors.HostKeyError` (an `OperationFailed`) whose message names the
host and says what to do; callers turn it into that host's failure, the other hosts go on.

API:
    policy(province, host) -> HostKeyPolicy
    open_session(province, host, *, timeout=10.0, sock=None, host_policy=None, operator_keys=True)
        -> SshSession (paramiko)
        SshSession.client (paramiko.SSHClient), .first_contact (bool: the key was accepted and recorded
        now), .run(command, stdin=None, timeout=None) -> (rc, stdout bytes, stderr bytes),
        .read_file(path) -> bytes, .sftp(), .close(); a context manager.
    ssh_argv(province, host, *remote_cmd, connect_timeout=10) -> list[str]
        the `ssh` command line (OpenSSH client) for the same host under the same policy; the policy's
        options come first, so they win over the inventory's own `-o` options (OpenSSH keeps the first
        value of an option). Run it with subprocess; exit 255 with "Host key verification failed" is
        a refused key (`explain_ssh_failure(stderr)` says so plainly).
    host_key_problem(province, host, timeout=5.0) -> HostKeyError | None
        diagnose a refused key without logging in (for clients that lost the reason)
    ssh_options(province, host) -> list[str]
        the `-o` options of the policy alone (UserKnownHostsFile, StrictHostKeyChecking), for a caller
        that assembles its own OpenSSH command line.
"""
from __future__ import annotations

import configparser
import fcntl
import os
import shlex
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

from ..errors import HostKeyError, OperationFailed
from ..model import Host, Province

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_CFG = REPO / "ansible.cfg"
DEFAULT_KNOWN_HOSTS = (Path("~/.ssh/known_hosts"), Path("/etc/ssh/ssh_known_hosts"))
STRICT, ACCEPT_NEW = "known-hosts", "accept-new"
# What OpenSSH prints for a refused host key (unknown with StrictHostKeyChecking=yes, or changed).
HOST_KEY_SIGNS = ("REMOTE HOST IDENTIFICATION HAS CHANGED", "Host key verification failed",
                  "mismatching host key", "No ED25519 host key is known", "host key is known")

_record_lock = threading.Lock()


def _ansible_checks_host_keys(cfg: Path = ANSIBLE_CFG) -> bool:
    """`host_key_checking` of ansible.cfg (true unless it says otherwise)."""
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    try:
        parser.read(cfg, encoding="utf-8")
        return parser.getboolean("defaults", "host_key_checking", fallback=True)
    except (configparser.Error, ValueError):
        return True


def inventory_ssh_options(host: Host) -> dict[str, str]:
    """The `-o Key=Value` options of the host's `ansible_ssh_common_args` (keys lower-cased)."""
    opts: dict[str, str] = {}
    args = shlex.split(str(host.vars.get("ansible_ssh_common_args") or ""))
    i = 0
    while i < len(args):
        a = args[i]
        value = None
        if a == "-o" and i + 1 < len(args):
            value, i = args[i + 1], i + 1
        elif a.startswith("-o") and len(a) > 2:
            value = a[2:]
        if value and "=" in value:
            k, v = value.split("=", 1)
            opts.setdefault(k.strip().lower(), v.strip())     # OpenSSH keeps the first value
        elif value and " " in value.strip():
            k, v = value.strip().split(None, 1)
            opts.setdefault(k.lower(), v.strip())
        i += 1
    return opts


@dataclass(frozen=True)
class HostKeyPolicy:
    """How one host's key is checked. `known_hosts`: files read (the first is where accept-new records
    a key); `mode`: "known-hosts" or "accept-new"; `why`: where accept-new came from (for messages)."""

    host: str
    address: str
    port: int
    known_hosts: tuple[Path, ...]
    mode: str = STRICT
    why: str = ""
    unit: str = ""

    @property
    def accept_new(self) -> bool:
        return self.mode == ACCEPT_NEW

    @property
    def record_to(self) -> Path:
        return self.known_hosts[0]

    @property
    def lookup_name(self) -> str:
        """The known_hosts name of the host, as OpenSSH and paramiko write it."""
        return self.address if self.port == 22 else f"[{self.address}]:{self.port}"


def policy(province: Province, host: Host) -> HostKeyPolicy:
    """The host-key policy of `host` (see the module docstring)."""
    opts = inventory_ssh_options(host)
    files = tuple(Path(p).expanduser() for p in shlex.split(opts.get("userknownhostsfile", ""))) \
        or tuple(p.expanduser() for p in DEFAULT_KNOWN_HOSTS)
    strict_opt = opts.get("stricthostkeychecking", "").lower()
    unit = province.units.get(host.unit) if province is not None else None
    mode, why = STRICT, ""
    if unit is not None and unit.ssh_first_contact == ACCEPT_NEW:
        mode, why = ACCEPT_NEW, f"province.yml: unit {unit.code}: ssh_first_contact: accept-new"
    elif strict_opt in ("accept-new", "no", "off", "false"):
        mode, why = ACCEPT_NEW, f"inventory: host {host.name}: StrictHostKeyChecking={strict_opt}"
    elif not strict_opt and not _ansible_checks_host_keys():
        mode, why = ACCEPT_NEW, f"{ANSIBLE_CFG.name}: host_key_checking = false"
    return HostKeyPolicy(host.name, host.address, host.port, files, mode, why, host.unit)


def key_error(p: HostKeyPolicy, kind: str) -> HostKeyError:
    """HostKeyError for an "unknown" or "changed" key: names the host, says nothing was sent, what to do."""
    files = ", ".join(str(f) for f in p.known_hosts)
    check = (f"Check the key with the server's administrator (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on "
             f"the server), then add it to {p.record_to}")
    if kind == "changed":
        what = (f"SSH host key CHANGED (another key is recorded in {files}): a reinstalled server, or someone in "
                f"the middle; nothing was sent to it. {check} in place of the old one")
    else:
        what = (f"SSH host key unknown (not in {files}); nothing was sent to it. {check}; or, for a first contact "
                f"on a network you trust, set ssh_first_contact: accept-new on unit {p.unit} in province.yml")
    return HostKeyError(f"{p.host} ({p.lookup_name}): {what}", host=p.host, address=p.address, kind=kind)


_parsed: dict[str, tuple[tuple[int, int], paramiko.HostKeys]] = {}
_parsed_lock = threading.Lock()


def _parse(f: Path) -> paramiko.HostKeys | None:
    """A known_hosts file, parsed once per version of the file: an audit of 500 hosts would otherwise parse
    a 500-line file 500 times (seconds of CPU on a weak control machine)."""
    try:
        st = f.stat()
    except FileNotFoundError:
        return None
    version = (st.st_mtime_ns, st.st_size)
    with _parsed_lock:
        hit = _parsed.get(str(f))
        if hit and hit[0] == version:
            return hit[1]
        keys = paramiko.HostKeys()
        keys.load(str(f))
        _parsed[str(f)] = (version, keys)
        return keys


def _load_known(p: HostKeyPolicy, keys: paramiko.HostKeys) -> paramiko.HostKeys:
    """Fill `keys` (a client's table) with the keys recorded for this host."""
    for f in p.known_hosts:
        try:
            parsed = _parse(f)
        except (OSError, paramiko.SSHException) as e:
            raise OperationFailed(f"{p.host}: cannot read known_hosts {f}: {e}") from None
        entry = parsed.lookup(p.lookup_name) if parsed else None
        for ktype, key in (entry or {}).items():
            if keys.lookup(p.lookup_name) is None or ktype not in keys.lookup(p.lookup_name):
                keys.add(p.lookup_name, ktype, key)
    return keys


def _record(p: HostKeyPolicy, key: paramiko.PKey) -> None:
    """Append the accepted key to the first known_hosts file (one writer at a time: threads and processes)."""
    f = p.record_to
    f.parent.mkdir(parents=True, exist_ok=True)
    line = f"{p.lookup_name} {key.get_name()} {key.get_base64()}\n"
    with _record_lock, open(f, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        text = fh.read()
        if text and not text.endswith("\n"):
            fh.write("\n")
        if line not in text:
            fh.write(line)
    try:
        os.chmod(f, 0o644)
    except OSError:
        pass


class _Policy(paramiko.MissingHostKeyPolicy):
    """Called by paramiko for a key it has no entry of that type for."""

    def __init__(self, p: HostKeyPolicy, known: paramiko.HostKeys):
        self.p, self.known = p, known
        self.accepted = False

    def missing_host_key(self, client, hostname, key) -> None:
        if self.known.lookup(hostname):      # a key of another type is recorded: not a first contact
            raise key_error(self.p, "changed")
        if not self.p.accept_new:
            raise key_error(self.p, "unknown")
        _record(self.p, key)
        self.accepted = True


class GuardedClient(paramiko.SSHClient):
    """A paramiko client that checks the host key under a HostKeyPolicy: the recorded keys loaded, an
    unknown key refused (or accepted and recorded under accept-new), a changed key refused, before
    anything is sent. `first_contact`: the key was accepted now. Also given, unconnected, to libraries
    that take a paramiko client (netmiko)."""

    def __init__(self, p: HostKeyPolicy):
        super().__init__()
        self.guard = _Policy(p, _load_known(p, self.get_host_keys()))
        self.set_missing_host_key_policy(self.guard)
        self.host_policy = p

    @property
    def first_contact(self) -> bool:
        return self.guard.accepted

    def connect(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().connect(*args, **kwargs)
        except paramiko.BadHostKeyException:
            self.close()
            raise key_error(self.host_policy, "changed") from None


@dataclass
class SshSession:
    """An open SSH session to an inventory host (paramiko)."""

    host: Host
    client: paramiko.SSHClient
    policy: HostKeyPolicy
    first_contact: bool = False      # the host's key was unknown, accepted and recorded now (accept-new)
    _closed: bool = field(default=False, repr=False)

    def run(self, command: str, stdin: bytes | str | None = None,
            timeout: float | None = None) -> tuple[int, bytes, bytes]:
        """Run one command; (exit status, stdout, stderr)."""
        chan_in, out, err = self.client.exec_command(command, timeout=timeout)
        if stdin is not None:
            chan_in.write(stdin)
        chan_in.channel.shutdown_write()
        data, errors = out.read(), err.read()
        return out.channel.recv_exit_status(), data, errors

    def sftp(self) -> paramiko.SFTPClient:
        return self.client.open_sftp()

    def read_file(self, path: str) -> bytes:
        """One file over SFTP (OSError when it cannot be read)."""
        with self.client.open_sftp() as sftp, sftp.open(path, "rb") as fh:
            fh.prefetch()
            return fh.read()

    def close(self) -> None:
        if not self._closed:
            self.client.close()
            self._closed = True

    def __enter__(self) -> "SshSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_session(province: Province | None, host: Host, *, timeout: float = 10.0, sock: socket.socket | None = None,
                 host_policy: HostKeyPolicy | None = None, auth_timeout: float | None = None,
                 operator_keys: bool = True) -> SshSession:
    """Connect and log in with the inventory's credentials: its key or password; only when it names
    neither and `operator_keys`, the operator's ~/.ssh keys, as Ansible would (never the agent; the audit
    passes operator_keys=False so that its runs depend on the inventory alone).

    Raises HostKeyError for a refused key, before anything is sent; other failures (unreachable, login
    refused, timeouts) are paramiko's and socket's exceptions, for the caller to classify. `province` may
    be None when `host_policy` is given."""
    p = host_policy or policy(province, host)
    client = GuardedClient(p)
    try:
        client.connect(
            host.address, port=host.port, username=host.user, sock=sock,
            password=host.password.get_secret_value() if host.password else None,
            key_filename=str(host.key_file) if host.key_file else None,
            allow_agent=False, look_for_keys=operator_keys and host.key_file is None and host.password is None,
            timeout=timeout, banner_timeout=timeout, auth_timeout=auth_timeout or timeout,
            channel_timeout=timeout)
    except BaseException:
        client.close()
        raise
    return SshSession(host, client, p, first_contact=client.first_contact)


def host_key_problem(province: Province, host: Host, timeout: float = 5.0) -> HostKeyError | None:
    """Why the policy would refuse `host`'s key now (unknown or changed), or None (known, accepted under
    the opt-out, or the host not answering SSH at all). Only the key exchange is made: no login, nothing
    recorded. For callers whose own client lost the reason (Ansible may report a broken pipe when ssh
    stops at the host key before reading the module it was sent)."""
    p = policy(province, host)
    try:
        sock = socket.create_connection((host.address, host.port), timeout=timeout)
    except OSError:
        return None
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=timeout)
        key = t.get_remote_server_key()
    except (paramiko.SSHException, OSError, EOFError):
        return None
    finally:
        t.close()
    known = _load_known(p, paramiko.HostKeys()).lookup(p.lookup_name)
    if known and known.get(key.get_name()) == key:
        return None
    if known:
        return key_error(p, "changed")
    return None if p.accept_new else key_error(p, "unknown")


def ssh_options(province: Province, host: Host) -> list[str]:
    """The policy as OpenSSH `-o` options (known_hosts files and StrictHostKeyChecking)."""
    p = policy(province, host)
    files = " ".join(shlex.quote(str(f)) for f in p.known_hosts)
    return ["-o", f"UserKnownHostsFile={files}",
            "-o", f"StrictHostKeyChecking={'accept-new' if p.accept_new else 'yes'}"]


def ssh_argv(province: Province, host: Host, *remote_cmd: str, connect_timeout: float = 10) -> list[str]:
    """`ssh` argv for `host` under the policy: BatchMode (never a prompt), the inventory's key, port and
    user, the inventory's other ssh options after ours. `remote_cmd` words are quoted for the remote shell
    (pass one string to send a shell command as it is)."""
    argv = ["ssh", *ssh_options(province, host), "-o", "BatchMode=yes",
            "-o", f"ConnectTimeout={max(1, int(connect_timeout))}", "-p", str(host.port)]
    if host.key_file:
        argv += ["-i", str(host.key_file), "-o", "IdentitiesOnly=yes"]
    argv += shlex.split(str(host.vars.get("ansible_ssh_common_args") or ""))
    argv += ["-l", host.user, host.address]
    if len(remote_cmd) == 1:
        argv.append(remote_cmd[0])
    elif remote_cmd:
        argv.append(shlex.join(remote_cmd))
    return argv


def is_host_key_failure(stderr: str) -> bool:
    """Whether an OpenSSH client (or Ansible's ssh connection) failed on the host key."""
    return any(sign in stderr for sign in HOST_KEY_SIGNS)


def explain_ssh_failure(stderr: str) -> str:
    """Say plainly what OpenSSH's banner of @ signs means; other messages pass unchanged."""
    if is_host_key_failure(stderr):
        return ("the server's SSH host key is not the one in known_hosts (unknown, or a reinstalled server, or "
                "someone in the middle): check it, then update known_hosts")
    return stderr
