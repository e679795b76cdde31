"""The province's generated service secrets, kept in an ansible-vault file.

`var/<inventory>/secrets/vault.yml` is encrypted with ansible-vault (AES-256) under a random password
kept next to it in `secrets/.vault-pass` (0600, directory 0700). Secrets are generated once, on the
first deploy, and never printed. Ansible reads them as `vault_<key>` variables (the deploy passes the
file with `-e @vault.yml --vault-password-file`), together with a SHA-512-crypt hash of each LDAP
password (`vault_<key>_hash`), computed once so that the directory role can compare stored hashes and
stay idempotent. Other code (verify, accounts) reads passwords only through `load_secrets`.
"""
from __future__ import annotations

import os
import secrets as _random
import warnings
from pathlib import Path

import yaml

from .errors import OperationFailed
from .paths import data_dir

KEYS = ("ldap_admin", "ldap_mail_reader", "ldap_provisioner", "ldap_replicator", "ca_passphrase")
HASHED = ("ldap_admin", "ldap_mail_reader", "ldap_provisioner", "ldap_replicator")

with warnings.catch_warnings():
    # Deprecated in Python 3.13; the project runs on 3.11. It gives the SHA-512-crypt that slapd and
    # Dovecot both verify, without a new dependency.
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt


def secrets_dir(inventory_dir: str | Path) -> Path:
    return data_dir(inventory_dir, "secrets")


def vault_file(inventory_dir: str | Path) -> Path:
    return secrets_dir(inventory_dir) / "vault.yml"


def vault_password_file(inventory_dir: str | Path) -> Path:
    return secrets_dir(inventory_dir) / ".vault-pass"


def sha512_crypt(password: str) -> str:
    """`{CRYPT}$6$...`: verified by slapd (crypt(3)) and by Dovecot alike."""
    return "{CRYPT}" + crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))


def _vault(password: bytes):
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    return VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(password))])


def _write_private(path: Path, data: bytes) -> None:
    """Write owner-only, atomically (a crash never leaves a half-written secret)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def _read(inventory_dir: str | Path) -> dict[str, str]:
    vf, pf = vault_file(inventory_dir), vault_password_file(inventory_dir)
    try:
        password = pf.read_bytes().strip()
        plain = _vault(password).decrypt(vf.read_bytes())
    except Exception as e:  # never echo the file content
        raise OperationFailed(f"cannot open the secrets vault {vf}: {type(e).__name__}") from None
    data = yaml.safe_load(plain) or {}
    return {k.removeprefix("vault_"): str(v) for k, v in data.items()}


def ensure_secrets(inventory_dir: str | Path) -> dict[str, str]:
    """Generate missing secrets once (existing ones are kept) and return them (without the hashes)."""
    vf, pf = vault_file(inventory_dir), vault_password_file(inventory_dir)
    if not pf.exists():
        if vf.exists():
            raise OperationFailed(f"{vf} exists but its password file {pf} is missing")
        _write_private(pf, _random.token_urlsafe(32).encode() + b"\n")
    current = _read(inventory_dir) if vf.exists() else {}
    wanted = dict(current)
    for key in KEYS:
        if not wanted.get(key):
            wanted[key] = _random.token_urlsafe(24)
    for key in HASHED:
        if current.get(key) != wanted[key] or not wanted.get(f"{key}_hash"):
            wanted[f"{key}_hash"] = sha512_crypt(wanted[key])
    if wanted != current:
        text = yaml.safe_dump({f"vault_{k}": v for k, v in sorted(wanted.items())}, default_flow_style=False)
        _write_private(vf, _vault(pf.read_bytes().strip()).encrypt(text))
    return {k: wanted[k] for k in KEYS}


def load_secrets(inventory_dir: str | Path) -> dict[str, str]:
    """The province's secrets (ldap_admin, ldap_mail_reader, ldap_provisioner, ldap_replicator,
    ca_passphrase). Raises OperationFailed when the province was never deployed."""
    if not vault_file(inventory_dir).exists():
        raise OperationFailed(f"no secrets for {inventory_dir}: run `provision deploy -i {inventory_dir}` first")
    data = _read(inventory_dir)
    return {k: data[k] for k in KEYS}
