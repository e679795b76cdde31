"""What every check of one verify run shares: the province, the servers checked, the verified TLS
context, the service secrets, the probe mailbox's password of this run, the values the roles published
on each server, and the one way verify runs a command on a server over SSH.

Role facts: the roles publish their effective values (share name, proxy port, CA path...) as Ansible
local facts, `/etc/ansible/facts.d/<role>.fact` (JSON). verify reads them once per server and run, over
SSH, and checks what was really deployed; a missing file fails the checks that need it ("deploy
first"), never a fallback to a copy of the role's defaults.

SSH goes through transport.ssh, under the province's one host-key policy: a server whose host key is
unknown or changed is refused (nothing is sent to it), and every check of that server fails with that
reason; the other servers are checked as usual. The provincial CA comes from transport.ca.
"""
from __future__ import annotations

import json
import re
import shlex
import ssl
from dataclasses import dataclass
from typing import Callable

from ..errors import OperationFailed
from ..model import CENTER_GROUP, Host, Province
from ..transport import ca, ssh

FACTS_DIR = "/etc/ansible/facts.d"     # Ansible's fact_path: where the roles publish their values
# One command per server and run: every fact file, each after a `==> NAME <==` line (tail -v).
_READ_FACTS = f"cd {FACTS_DIR} 2>/dev/null && tail -v -n +1 -- *.fact 2>/dev/null; true"
_FACT_HEADER = re.compile(r"^==> (.+)\.fact <==$", re.MULTILINE)
PROBE_UID = "verify-probe"
REPLICA_WAIT = 15.0      # seconds for a replica to catch up with a change made on the center


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
                self._read[host_name] = read_role_facts(self.province, self.province.hosts[host_name],
                                                        self.timeout)
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
        self.servers = [server(province, h) for h in province.hosts.values() if h.is_server]
        self.center = server(province, province.center_server)
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
        try:
            rc, out, err = ssh_run(self.province, self.province.hosts[srv.name], shlex.join(argv), self.timeout)
        except OperationFailed as e:
            raise AssertionError(str(e)) from None
        if rc != 0:
            raise AssertionError(f"{argv[0]} on {srv.name}: {(err or out).strip()[-300:]}")
        return out


# A check: what it saw on one server (a short text), or AssertionError saying what is wrong.
CheckFn = Callable[[Context, Server], str]
CheckList = tuple[tuple[str, str, CheckFn], ...]      # (service, check, function), run in this order


def server(province: Province, h: Host) -> Server:
    return Server(h.name, h.unit, h.address, province.fqdn(h), CENTER_GROUP in h.groups)


def ssh_run(province: Province, host: Host, command: str, timeout: float) -> tuple[int, str, str]:
    """Run one shell command on a server over transport.ssh (the province's host-key policy):
    (exit status, stdout, stderr). OperationFailed (HostKeyError for a refused key) when the server
    cannot be reached or logged in to: nothing is sent to a server whose key is not trusted."""
    try:
        with ssh.open_session(province, host, timeout=timeout) as session:
            rc, out, err = session.run(command, timeout=timeout + 60)
    except OperationFailed:
        raise
    except Exception as e:  # noqa: BLE001 - paramiko, socket: the server's failure, said in one line
        first = str(e).splitlines()[0] if str(e) else ""
        raise OperationFailed(f"{host.name} ({host.address}:{host.port}): SSH: {type(e).__name__}: {first}"
                              .rstrip(": ")) from None
    return rc, out.decode("utf-8", errors="replace"), err.decode("utf-8", errors="replace")


def read_role_facts(province: Province, host: Host, timeout: float) -> dict[str, dict]:
    """The local facts the roles published on a server: {role: values} (one SSH command)."""
    rc, out, err = ssh_run(province, host, _READ_FACTS, timeout)
    if rc != 0:
        raise OperationFailed(f"{host.name}: cannot read {FACTS_DIR}: {(err or out).strip()[-200:]}")
    return parse_role_facts(out)


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


def center_ca_path(province: Province, facts: RoleFacts) -> str:
    """Where the pki role put the CA on the center (its published facts)."""
    center = province.center_server
    pki = facts.of(center.name).get("pki")
    if not isinstance(pki, dict) or not pki.get("ca_path"):
        raise OperationFailed(f"role facts missing on {center.name}: deploy first (no {FACTS_DIR}/pki.fact)")
    return pki["ca_path"]


def provincial_ca(province: Province, facts: RoleFacts, timeout: float) -> tuple[str, str]:
    """The CA from the center, read at the path its pki role published (transport.ca, which keeps the
    last copy). When the center cannot be read, the kept copy lets the unit servers still be checked
    (WAN outage); the second value then says why (empty when the CA came from the center)."""
    try:
        path = center_ca_path(province, facts)
    except OperationFailed as e:
        got = ca.kept_copy(province, e)
    else:
        got = ca.fetch(province, timeout, path=path)
    return got.pem, got.problem
