"""What every check of one verify run shares: the province, the servers checked, the verified TLS
context, the service secrets, the probe mailbox's password of this run, the values the roles published
on each server, and the one way verify runs a command on a server over SSH.

Role facts: the roles publish their effective values (share name, proxy port, CA path...) as Ansible
local facts, `/etc/ansible/facts.d/<role>.fact` (JSON). verify reads them once per server and run, over
SSH, and checks what was really deployed; a missing file fails the checks that need it ("deploy
first"), never a fallback to a copy of the role's defaults.

SSH uses the inventory's own settings (user, port, key, `ansible_ssh_common_args`, so the inventory's
known_hosts and StrictHostKeyChecking): a server whose host key is unknown or changed is refused, and
every check of that server fails with that reason.
"""
from __future__ import annotations

import json
import re
import shlex
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import paths
from ..errors import OperationFailed
from ..model import Host, HostRole, Province

FACTS_DIR = "/etc/ansible/facts.d"     # Ansible's fact_path: where the roles publish their values
# One command per server and run: every fact file, each after a `==> NAME <==` line (tail -v).
_READ_FACTS = f"cd {FACTS_DIR} 2>/dev/null && tail -v -n +1 -- *.fact 2>/dev/null; true"
_FACT_HEADER = re.compile(r"^==> (.+)\.fact <==$", re.MULTILINE)
HOST_KEY_SIGNS = ("REMOTE HOST IDENTIFICATION HAS CHANGED", "Host key verification failed",
                  "mismatching host key")
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


class RoleFacts:
    """The roles' published values per server, read over SSH once per server and run (the failure too:
    a server that cannot be read is not asked again)."""

    def __init__(self, province: Province, timeout: float):
        self.province, self.timeout = province, timeout
        self._read: dict[str, dict[str, dict] | OperationFailed] = {}

    def of(self, host_name: str) -> dict[str, dict]:
        """{role: values} on one server; OperationFailed when it cannot be read."""
        if host_name not in self._read:
            try:
                self._read[host_name] = read_role_facts(self.province.hosts[host_name], self.timeout)
            except OperationFailed as e:
                self._read[host_name] = e
        found = self._read[host_name]
        if isinstance(found, OperationFailed):
            raise found
        return found


class Context:
    """What every check needs: the province, its names, the verified TLS context and the secrets."""

    def __init__(self, province: Province, ca_pem: str, service_secrets: dict[str, str], timeout: float,
                 facts: RoleFacts):
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
        self.facts = facts

    def role_facts(self, srv: Server) -> dict[str, dict]:
        """Every role's published values on a server. Raises AssertionError (the check fails) when the
        server cannot be read (host key, unreachable)."""
        try:
            return self.facts.of(srv.name)
        except OperationFailed as e:
            raise AssertionError(str(e)) from None

    def fact(self, srv: Server, role: str, key: str):
        """One value a role published on a server ("role facts missing on HOST: deploy first" if none)."""
        values = self.role_facts(srv).get(role)
        if values is None:
            raise AssertionError(f"role facts missing on {srv.name}: deploy first "
                                 f"(no {FACTS_DIR}/{role}.fact)")
        if key not in values:
            raise AssertionError(f"role facts of {role} on {srv.name} have no {key!r}: deploy again "
                                 f"({FACTS_DIR}/{role}.fact)")
        return values[key]

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


def _ssh_problem(host: Host, r: subprocess.CompletedProcess) -> str:
    text = (r.stderr or r.stdout).strip()
    if any(sign in text for sign in HOST_KEY_SIGNS):
        return (f"{host.name}: the server's SSH host key is not the one in known_hosts (a reinstalled server, "
                f"or someone in the middle): check it, then update known_hosts")
    return f"{host.name}: SSH failed: {text[-200:]}"


def read_role_facts(host: Host, timeout: float) -> dict[str, dict]:
    """The local facts the roles published on a server: {role: values}."""
    try:
        r = ssh_run(host, _READ_FACTS, timeout, timeout + 10)
    except subprocess.TimeoutExpired:
        raise OperationFailed(f"{host.name}: no answer over SSH while reading the role facts") from None
    if r.returncode != 0:
        raise OperationFailed(_ssh_problem(host, r))
    return parse_role_facts(r.stdout)


def parse_role_facts(text: str) -> dict[str, dict]:
    """`tail -v` of the fact files -> {role: values}; a file that is not a JSON object is left out
    (the checks that need it then say that the role's facts are missing)."""
    parts = _FACT_HEADER.split(text)
    facts: dict[str, dict] = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        try:
            values = json.loads(body)
        except ValueError:
            continue
        if isinstance(values, dict):
            facts[name] = values
    return facts


def fetch_ca(host: Host, ca_path: str, timeout: float = 10.0) -> str:
    """The provincial CA certificate, read from the center over SSH with the inventory's settings."""
    try:
        r = ssh_run(host, f"cat {shlex.quote(ca_path)}", timeout, timeout + 5)
    except subprocess.TimeoutExpired:
        raise OperationFailed(f"{host.name}: no answer over SSH while fetching the provincial CA") from None
    if r.returncode != 0 or "BEGIN CERTIFICATE" not in r.stdout:
        if r.returncode == 255:
            raise OperationFailed(_ssh_problem(host, r))
        raise OperationFailed(f"{host.name}: cannot read {ca_path} over SSH (deployed?): "
                              f"{(r.stderr or r.stdout).strip()[:200]}")
    try:
        ssl.create_default_context(cadata=r.stdout)
    except ssl.SSLError as e:
        raise OperationFailed(f"{host.name}: {ca_path} is not a usable CA certificate: {e}") from None
    return r.stdout


def center_ca_path(host: Host, facts: RoleFacts) -> str:
    """Where the pki role put the CA on the center (its published facts)."""
    pki = facts.of(host.name).get("pki")
    if not isinstance(pki, dict) or not pki.get("ca_path"):
        raise OperationFailed(f"role facts missing on {host.name}: deploy first (no {FACTS_DIR}/pki.fact)")
    return pki["ca_path"]


def provincial_ca(inventory: str | Path, center: Host, facts: RoleFacts, timeout: float) -> tuple[str, str]:
    """The CA from the center (at the path its pki role published), kept in var/<inventory>/verify/ca.crt
    for the next run. When the center cannot be reached, the kept copy lets the unit servers still be
    checked (WAN outage); the second value then says why (empty when the CA came from the center)."""
    kept = paths.data_dir(inventory, "verify") / "ca.crt"
    try:
        pem = fetch_ca(center, center_ca_path(center, facts), timeout)
    except OperationFailed as e:
        if not kept.exists():
            raise
        return kept.read_text(), f"{e}; using the copy kept at {kept}"
    kept.write_text(pem)
    return pem, ""
