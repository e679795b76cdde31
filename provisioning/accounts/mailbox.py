"""Mailboxes on the mail store, over one small interface with two transports.

`LocalStore` runs maildir_ops in this process (the mail store is on this machine, or a test's
directory); `CommandStore` runs it through a local command, as another user (the console's service
user reaches the store as its owner through one sudo rule, see roles/console); `SshStore` sends the same file to `python3 -` on the mail server over one paramiko SSH
connection per call, with the request as JSON on stdin. Either way all mailboxes of an apply are
made in one process, which is what makes it fast: one `doveadm` process per user costs about 13-20 ms
of start-up, configuration and auth lookups each.
"""
from __future__ import annotations

import json
import posixpath
import subprocess
from pathlib import Path
from typing import Protocol

import paramiko

from ..errors import OperationFailed
from ..model import Host, Province
from ..transport import ssh
from . import maildir_ops
from ..model import AccountsSettings

OPS_SOURCE = Path(maildir_ops.__file__).read_text(encoding="utf-8")


class MailStore(Protocol):
    """What the accounts jobs need of the mail store, on this machine (LocalStore) or over SSH (SshStore)."""

    def home(self, uid: str) -> str: ...
    def create(self, uids: list[str]) -> int: ...
    def existing(self) -> set[str]: ...
    def remove(self, uids: list[str]) -> int: ...


class _Base:
    def __init__(self, root: str, domain: str, uid: int, gid: int):
        self.root, self.domain, self.uid, self.gid = root.rstrip("/"), domain, uid, gid

    @property
    def domain_dir(self) -> str:
        return posixpath.join(self.root, self.domain)

    def home(self, uid: str) -> str:
        """mailHomeDirectory of a user (the contract: /var/vmail/<domain>/<uid>)."""
        if not uid or "/" in uid or uid.startswith("."):
            raise ValueError(f"unsafe username {uid!r}")
        return posixpath.join(self.domain_dir, uid)

    def _call(self, req: dict):
        raise NotImplementedError

    def create(self, uids: list[str]) -> int:
        if not uids:
            return 0
        return self._call({"op": "create", "homes": [self.home(u) for u in uids], "uid": self.uid, "gid": self.gid})

    def existing(self) -> set[str]:
        return set(self._call({"op": "existing", "domain_dir": self.domain_dir}))

    def remove(self, uids: list[str]) -> int:
        if not uids:
            return 0
        return self._call({"op": "remove", "homes": [self.home(u) for u in uids]})


class LocalStore(_Base):
    def _call(self, req: dict):
        op = req["op"]
        if op == "create":
            return maildir_ops.create(req["homes"], req["uid"], req["gid"])
        if op == "existing":
            return maildir_ops.existing(req["domain_dir"])
        return maildir_ops.remove(req["homes"])


class CommandStore(_Base):
    """The store on this machine behind a command that runs maildir_ops (request as JSON on stdin)."""

    def __init__(self, root: str, domain: str, uid: int, gid: int, command: list[str]):
        super().__init__(root, domain, uid, gid)
        self.command = command

    def _call(self, req: dict):
        try:
            r = subprocess.run(self.command, input=json.dumps(req), capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise OperationFailed(f"mail store: {self.command[0]}: {getattr(e, 'strerror', None) or e}") from None
        if r.returncode != 0:
            raise OperationFailed(f"mail store: {req['op']} through {' '.join(self.command)} failed: "
                                  f"{r.stderr.strip()[-500:]}")
        return json.loads(r.stdout)["result"]


class SshStore(_Base):
    def __init__(self, root: str, domain: str, uid: int, gid: int, host: Host, province: Province):
        super().__init__(root, domain, uid, gid)
        self.host, self.province = host, province

    def _call(self, req: dict):
        try:   # the province's host-key policy (provisioning.transport.ssh), as for every command
            session = ssh.open_session(self.province, self.host, timeout=15)
        except OperationFailed as e:
            raise OperationFailed(f"mail store: {e}") from None
        except (OSError, paramiko.SSHException) as e:
            raise OperationFailed(f"mail store: {self.host.name} ({self.host.address}:{self.host.port}): "
                                  f"{type(e).__name__}: {e}") from None
        client = session.client
        try:
            # The script comes first on stdin, then the request after a separator line.
            stdin, stdout, stderr = client.exec_command(
                "python3 -c 'import sys; src, _, req = sys.stdin.read().partition(\"\\n#--REQUEST--\\n\"); "
                "sys.stdin = __import__(\"io\").StringIO(req); exec(compile(src, \"maildir_ops\", \"exec\"), "
                "{\"__name__\": \"__main__\"})'", timeout=600)
            stdin.write(OPS_SOURCE + "\n#--REQUEST--\n" + json.dumps(req))
            stdin.channel.shutdown_write()
            out = stdout.read().decode()
            status = stdout.channel.recv_exit_status()
            if status != 0:
                raise OperationFailed(f"mail store on {self.host.name}: {req['op']} failed: "
                                      f"{stderr.read().decode(errors='replace')[-500:]}")
            return json.loads(out)["result"]
        except (OSError, paramiko.SSHException) as e:
            raise OperationFailed(f"mail store on {self.host.name}: {type(e).__name__}: {e}") from None
        finally:
            client.close()


def open_store(province: Province, settings: AccountsSettings) -> MailStore:
    cfg = settings.mail_store
    domain = province.info.mail_domain
    if cfg.host == "local":
        if cfg.command:
            return CommandStore(cfg.root, domain, cfg.uid, cfg.gid, cfg.command)
        return LocalStore(cfg.root, domain, cfg.uid, cfg.gid)
    if cfg.host:
        host = province.hosts[cfg.host]
    elif province.center_servers:
        host = province.center_server
    else:
        raise OperationFailed("no mail store: set accounts.mail_store.host in province.yml")
    return SshStore(cfg.root, domain, cfg.uid, cfg.gid, host, province)
