"""What every check of one verify run shares: the province, the servers checked, the verified TLS
context, the service secrets, the probe mailbox's password of this run, and the one way verify runs a
command on a server over SSH (the provincial CA, the Samba sync, the backup list).

SSH uses the inventory's own settings (user, port, key, `ansible_ssh_common_args`, so the inventory's
known_hosts and StrictHostKeyChecking): a server whose host key is unknown or changed is refused.
"""
from __future__ import annotations

import shlex
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import paths
from ..errors import OperationFailed
from ..model import Host, HostRole, Province

CA_PATH = "/usr/local/share/ca-certificates/provision-ca.crt"
PROBE_UID = "verify-probe"
REPLICA_WAIT = 15.0      # seconds for a replica to catch up with a change made on the center
SERVER_GROUPS = ("center_servers", "unit_servers")


@dataclass
class Server:
    name: str
    unit: str
    address: str
    fqdn: str
    center: bool


class Context:
    """What every check needs: the province, its names, the verified TLS context and the secrets."""

    def __init__(self, province: Province, ca_pem: str, service_secrets: dict[str, str], timeout: float):
        self.province = province
        self.zone = province.dns_zone
        self.domain = province.info.mail_domain
        self.base_dn = province.info.base_dn
        self.timeout = timeout
        self.ca_pem = ca_pem
        self.tls = ssl.create_default_context(cadata=ca_pem)  # only the provincial CA is trusted
        self.tls.minimum_version = ssl.TLSVersion.TLSv1_2
        self.secrets = service_secrets
        self.probe_password: str | None = None   # set by the probe check
        self.delivery_token: str | None = None   # subject token of the message sent on port 25
        self.servers = [server(h, self.zone) for h in province.hosts.values() if is_server(h)]
        self.center = next(s for s in self.servers if s.center)

    def name(self, service: str) -> str:
        return f"{service}.{self.zone}"

    @property
    def probe_mail(self) -> str:
        return f"{PROBE_UID}@{self.domain}"

    def need_probe(self) -> str:
        """The probe mailbox's password of this run (written by the center's probe-mailbox check)."""
        if not self.probe_password:
            raise AssertionError("no probe mailbox (the center's probe-mailbox check failed or was not run)")
        return self.probe_password

    def ssh(self, srv: Server, argv: list[str], timeout: float = 60.0) -> str:
        """stdout of a command run on a server; a failure is a failed check (AssertionError)."""
        r = ssh_run(self.province.hosts[srv.name], shlex.join(argv), self.timeout, timeout)
        if r.returncode != 0:
            raise AssertionError(f"{argv[0]} on {srv.name}: {(r.stderr or r.stdout).strip()[-300:]}")
        return r.stdout


# A check: what it saw on one server (a short text), or AssertionError saying what is wrong.
CheckFn = Callable[[Context, Server], str]
CheckList = tuple[tuple[str, str, CheckFn], ...]      # (service, check, function), run in this order


def is_server(h: Host) -> bool:
    return h.role == HostRole.server and bool(set(SERVER_GROUPS) & set(h.groups))


def server(h: Host, zone: str) -> Server:
    return Server(h.name, h.unit, h.address, f"{h.name}.{zone}", "center_servers" in h.groups)


def ssh_run(host: Host, command: str, connect_timeout: float, timeout: float) -> subprocess.CompletedProcess:
    """Run one shell command on an inventory host with the inventory's SSH settings (OpenSSH client)."""
    cmd = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={int(connect_timeout)}", "-p", str(host.port)]
    if host.key_file:
        cmd += ["-i", str(host.key_file)]
    cmd += shlex.split(str(host.vars.get("ansible_ssh_common_args", "")))
    cmd += [f"{host.user}@{host.address}", command]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def fetch_ca(host: Host, timeout: float = 10.0) -> str:
    """The provincial CA certificate, read from the center over SSH with the inventory's settings."""
    try:
        r = ssh_run(host, f"cat {CA_PATH}", timeout, timeout + 5)
    except subprocess.TimeoutExpired:
        raise OperationFailed(f"{host.name}: no answer over SSH while fetching the provincial CA") from None
    if r.returncode != 0 or "BEGIN CERTIFICATE" not in r.stdout:
        raise OperationFailed(f"{host.name}: cannot read {CA_PATH} over SSH (deployed?): "
                              f"{(r.stderr or r.stdout).strip()[:200]}")
    try:
        ssl.create_default_context(cadata=r.stdout)
    except ssl.SSLError as e:
        raise OperationFailed(f"{host.name}: {CA_PATH} is not a usable CA certificate: {e}") from None
    return r.stdout


def provincial_ca(inventory: str | Path, center: Host, timeout: float) -> tuple[str, str]:
    """The CA from the center, kept in var/<inventory>/verify/ca.crt for the next run. When the center
    cannot be reached, the kept copy lets the unit servers still be checked (WAN outage); the second
    value then says why (empty when the CA came from the center)."""
    kept = paths.data_dir(inventory, "verify") / "ca.crt"
    try:
        pem = fetch_ca(center, timeout)
    except OperationFailed as e:
        if not kept.exists():
            raise
        return kept.read_text(), f"{e}; using the copy kept at {kept}"
    kept.write_text(pem)
    return pem, ""
