"""What `provision pki` does, on the CA host (the center) over SSH.

- `status`: the CA database (every certificate issued since the database exists: serial, server,
  expiry, valid/revoked/expired, the one each server was last given) and the current CRL.
- `plan_revoke` (reads) then `revoke` (changes): every valid certificate issued to a server's FQDN is
  revoked in the CA database, a new CRL is signed and published at once (`http://pki.<zone>/...`). The
  next `provision deploy` sees the server's certificate on the CRL and gives it a new key and a new
  certificate (roles/pki/tasks/certificate.yml).
- `refresh_crl`: sign and publish a new CRL when it is due (or always, `force`); what each deploy does,
  for a cron job on the control machine between deploys.

The CA key's passphrase comes from the province's vault (secrets.py) and travels on the SSH channel's
stdin only, never on a command line; `provision-ca` reads it from there.
"""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .. import secrets
from ..errors import BadInput, OperationFailed
from ..model import Host, Province, load_province
from ..transport import ssh
from . import messages  # noqa: F401  (registers the texts)

TOOL = "/usr/local/sbin/provision-ca"
FACT = "/etc/ansible/facts.d/pki.fact"
DEFAULT_CA_DIR = "/etc/ssl/provision-ca"     # the pki role's pki_ca_dir
# CRL reasons an operator gives (RFC 5280); certificateHold is left out: a held certificate comes back.
REASONS = ("unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation")


@dataclass
class IssuedCertificate:
    host: str           # inventory host ("" when the name is no server of the inventory any more)
    fqdn: str
    serial: str
    state: str          # valid, revoked, expired
    expires: str
    revoked_at: str = ""
    reason: str = ""
    current: bool = False   # the last certificate issued to this name


@dataclass
class CrlState:
    url: str
    state: str          # ok, due, changed, unpublished, other-ca, missing
    number: str = ""
    this_update: str = ""
    next_update: str = ""
    revoked: list[str] = field(default_factory=list)
    signed_by_ca: bool = False


@dataclass
class PkiStatus:
    inventory: str
    ca_host: str
    certificates: list[IssuedCertificate]
    crl: CrlState

    @property
    def ok(self) -> bool:
        return self.crl.state == "ok"


@dataclass
class RevokePlan:
    host: str
    fqdn: str
    reason: str
    serials: list[str]      # the valid certificates issued to fqdn


@dataclass
class RevokeResult:
    host: str
    fqdn: str
    reason: str
    revoked: list[str]
    crl_number: str = ""
    next_update: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def changed(self) -> bool:
        return bool(self.revoked)


@dataclass
class CrlResult:
    ca_host: str
    changed: bool
    state: str          # why it was signed (or "ok": it was not)
    number: str
    next_update: str


class CaHost:
    """One SSH session to the CA host, running provision-ca with the role's settings."""

    def __init__(self, province: Province, timeout: float = 10.0):
        self.province, self.host = province, province.center_server
        try:
            self.session = ssh.open_session(province, self.host, timeout=timeout)
        except OperationFailed:
            raise
        except Exception as e:  # noqa: BLE001 - paramiko, socket: said in one line
            raise OperationFailed(f"{self.host.name} ({self.host.address}): SSH: {type(e).__name__}: {e}") from None
        self.config = f"{self._ca_dir()}/ca.json"

    def _ca_dir(self) -> str:
        try:
            fact = json.loads(self.session.read_file(FACT))
        except (OSError, ValueError):
            raise OperationFailed(f"{self.host.name}: no {FACT}: deploy first (provision deploy)") from None
        return str(fact.get("ca_dir") or DEFAULT_CA_DIR)

    def run(self, *args: str, stdin: str | None = None) -> dict:
        command = f"PROVISION_CA_CONFIG={shlex.quote(self.config)} {TOOL} {shlex.join(args)}"
        rc, out, err = self.session.run(command, stdin=stdin, timeout=120)
        if rc != 0:
            said = (err or out).decode("utf-8", errors="replace").strip()
            if rc == 127:
                said = f"no {TOOL}: deploy first (provision deploy)"
            raise OperationFailed(f"{self.host.name}: {said[-400:]}")
        return json.loads(out)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "CaHost":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _crl_state(raw: dict) -> CrlState:
    info = raw.get("crl") or {}
    return CrlState(url=raw.get("crl_url", ""), state=raw.get("crl_state", "missing"),
                    number=info.get("number", ""), this_update=info.get("this_update", ""),
                    next_update=info.get("next_update", ""), revoked=list(info.get("revoked", [])),
                    signed_by_ca=bool(info.get("signed_by_ca")))


def certificates(province: Province, rows: list[dict]) -> list[IssuedCertificate]:
    """The CA database's rows, each named by its inventory server; the last one per name is current."""
    by_fqdn = {province.fqdn(h): h.name for h in province.servers()}
    out = [IssuedCertificate(by_fqdn.get(r["cn"], ""), r["cn"], r["serial"], r["state"], r["expires"],
                         r.get("revoked_at", ""), r.get("reason", "")) for r in rows]
    last: dict[str, IssuedCertificate] = {}
    for c in out:
        last[c.fqdn] = c
    for c in last.values():
        c.current = True
    return out


def status(inventory: str | Path, timeout: float = 10.0) -> PkiStatus:
    province = load_province(inventory)
    with CaHost(province, timeout) as ca:
        raw = ca.run("status")
    return PkiStatus(str(inventory), province.center_server.name, certificates(province, raw["certificates"]),
                     _crl_state(raw))


def _server(province: Province, name: str) -> Host:
    host = province.hosts.get(name)
    if host is None or not host.is_server:
        known = ", ".join(h.name for h in province.servers())
        raise BadInput(f"{name}: no server of that name in {province.inventory_dir} (servers: {known})")
    return host


def _reason(reason: str) -> str:
    if reason not in REASONS:
        raise BadInput(f"--reason {reason!r}: use one of {', '.join(REASONS)}")
    return reason


def plan_revoke(inventory: str | Path, host_name: str, reason: str = "unspecified",
                timeout: float = 10.0) -> RevokePlan:
    """What `revoke` would do (BadInput for an unknown server or reason, before any connection)."""
    province = load_province(inventory)
    host, reason = _server(province, host_name), _reason(reason)
    with CaHost(province, timeout) as ca:
        rows = ca.run("status")["certificates"]
    fqdn = province.fqdn(host)
    return RevokePlan(host.name, fqdn, reason, [r["serial"] for r in rows if r["cn"] == fqdn and r["state"] == "valid"])


def revoke(inventory: str | Path, host_name: str, reason: str = "unspecified", timeout: float = 10.0) -> RevokeResult:
    """Revoke every valid certificate of a server and publish the new CRL. BadInput (nothing written)
    for an unknown server or reason; OperationFailed when the CA host cannot do it."""
    province = load_province(inventory)
    host, reason = _server(province, host_name), _reason(reason)
    passphrase = secrets.load_secrets(inventory)["ca_passphrase"]
    fqdn = province.fqdn(host)
    with CaHost(province, timeout) as ca:
        rows = ca.run("status")["certificates"]
        plan = RevokePlan(host.name, fqdn, reason,
                          [r["serial"] for r in rows if r["cn"] == fqdn and r["state"] == "valid"])
        if not plan.serials:
            return RevokeResult(host.name, fqdn, reason, [])
        done = ca.run("revoke", "--cn", fqdn, "--reason", reason, stdin=passphrase + "\n")
    info = done.get("crl") or {}
    missing = sorted(set(plan.serials) - set(info.get("revoked", [])))
    return RevokeResult(host.name, fqdn, reason, list(done.get("revoked", [])), info.get("number", ""),
                        info.get("next_update", ""),
                        f"not on the new CRL: {', '.join(missing)}" if missing else "")


def refresh_crl(inventory: str | Path, force: bool = False, timeout: float = 10.0) -> CrlResult:
    """Sign and publish a new CRL when due (always with `force`)."""
    province = load_province(inventory)
    passphrase = secrets.load_secrets(inventory)["ca_passphrase"]
    with CaHost(province, timeout) as ca:
        args = ["crl"] if force else ["crl", "--if-due"]
        done = ca.run(*args, stdin=passphrase + "\n")
    info = done.get("crl") or {}
    return CrlResult(province.center_server.name, bool(done.get("changed")), done.get("state", ""),
                     info.get("number", ""), info.get("next_update", ""))
