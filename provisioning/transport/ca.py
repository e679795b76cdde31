"""The provincial CA certificate, as every client of the province's TLS services trusts it.

The pki role makes the CA on the center server and installs its certificate on every server at
`CA_ON_SERVERS`. It is public; what makes the copy trustworthy is the channel: it is read from the
center server over SSH under the province's host-key policy (transport.ssh), on every call, so a
rebuilt center or a renewed CA never leaves a stale copy that fails every StartTLS. The last copy read is
kept in ONE place, `var/<province>/ca.crt` (`cache_path`), and used when the center cannot be reached
(a WAN outage must not stop the checks of the unit servers); the result then says why.

API:
    provincial_ca(province, timeout=10.0) -> str        the PEM (OperationFailed when neither the center
                                                         nor the kept copy has it)
    (`read_from_center` and `fetch` take `path=`: where the center's pki role published the CA, for a
    caller that reads the role's facts, as verify does; default `CA_ON_SERVERS`)
    ca_file(province, timeout=10.0) -> Path              the same, as the kept file (for ldap3/ssl)
    fetch(province, timeout=10.0) -> CaCertificate       pem, path, and `problem` ("" when read from the center)
    cache_path(inventory_dir) -> Path
"""
from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import OperationFailed
from ..model import Province
from . import ssh

CA_ON_SERVERS = "/usr/local/share/ca-certificates/provision-ca.crt"   # the pki role's trust file


@dataclass(frozen=True)
class CaCertificate:
    pem: str
    path: Path          # the kept copy (var/<province>/ca.crt)
    problem: str = ""   # why the kept copy was used instead of the center's (empty: read from the center)


def cache_path(inventory_dir: str | Path) -> Path:
    return paths.data_dir(inventory_dir) / "ca.crt"


def _check(pem: str, where: str) -> str:
    if "BEGIN CERTIFICATE" not in pem:
        raise OperationFailed(f"{where}: not a PEM certificate")
    try:
        ssl.create_default_context(cadata=pem)
    except ssl.SSLError as e:
        raise OperationFailed(f"{where}: not a usable CA certificate: {e}") from None
    return pem


def read_from_center(province: Province, timeout: float = 10.0, path: str | None = None) -> str:
    """The CA certificate on the center server, read now (OperationFailed, HostKeyError)."""
    path = path or CA_ON_SERVERS
    try:
        center = province.center_server
    except LookupError as e:
        raise OperationFailed(str(e)) from None
    try:
        with ssh.open_session(province, center, timeout=timeout) as session:
            data = session.read_file(path)
    except OperationFailed:
        raise
    except FileNotFoundError:
        raise OperationFailed(f"{center.name}: no {path} (not deployed yet? provision deploy)") from None
    except Exception as e:  # noqa: BLE001 - paramiko, socket: the host's failure, said in one line
        first = str(e).splitlines()[0] if str(e) else ""
        raise OperationFailed(f"{center.name} ({center.address}:{center.port}): cannot read {path} "
                              f"over SSH: {type(e).__name__}: {first}".rstrip(": ")) from None
    return _check(data.decode("utf-8", errors="replace"), f"{center.name}:{path}")


def fetch(province: Province, timeout: float = 10.0, path: str | None = None) -> CaCertificate:
    """Read the CA from the center and keep it; when the center cannot be read, the kept copy (with the
    reason in `problem`); OperationFailed when there is neither."""
    kept = cache_path(province.inventory_dir)
    try:
        pem = read_from_center(province, timeout, path)
    except OperationFailed as e:
        return kept_copy(province, e)
    if not kept.is_file() or kept.read_text(encoding="utf-8") != pem:
        tmp = kept.with_suffix(".tmp")
        tmp.write_text(pem, encoding="utf-8")
        tmp.replace(kept)
    return CaCertificate(pem, kept)


def kept_copy(province: Province, why: OperationFailed) -> CaCertificate:
    """The copy kept from the last read, with `why` the center could not be read (raised when none)."""
    kept = cache_path(province.inventory_dir)
    if not kept.is_file():
        raise why
    return CaCertificate(kept.read_text(encoding="utf-8"), kept, f"{why}; using the copy kept at {kept}")


def provincial_ca(province: Province, timeout: float = 10.0) -> str:
    """The provincial CA certificate (PEM)."""
    return fetch(province, timeout).pem


def ca_file(province: Province, timeout: float = 10.0) -> Path:
    """The provincial CA certificate as a file (the kept copy, refreshed from the center)."""
    return fetch(province, timeout).path
