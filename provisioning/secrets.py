"""The province's generated service secrets, kept in an ansible-vault file.

`var/<inventory>/secrets/vault.yml` is encrypted with ansible-vault (AES-256) under a random password
kept next to it in `secrets/.vault-pass` (0600, directory 0700). Secrets are generated once, on the
first deploy, and never printed. Ansible reads them as `vault_<key>` variables (the deploy passes the
file with `-e @vault.yml --vault-password-file`), together with a SHA-512-crypt hash of each LDAP
password (`vault_<key>_hash`), computed once so that the directory role can compare stored hashes and
stay idempotent. Other code (verify, accounts) reads passwords only through `load_secrets`.

The province's one SHA-512-crypt implementation lives here too (`sha512_crypt`, `verify_crypt`): the
vault's service hashes and the officials' first passwords (accounts) are made by the same code.
"""
from __future__ import annotations

import base64
import ctypes
import ctypes.util
import os
import secrets as _random
import threading
from pathlib import Path

import yaml

from .errors import OperationFailed
from .paths import data_dir

KEYS = ("ldap_admin", "ldap_mail_reader", "ldap_provisioner", "ldap_replicator", "ca_passphrase")
HASHED = ("ldap_admin", "ldap_mail_reader", "ldap_provisioner", "ldap_replicator")

# SHA-512-crypt (`$6$`) through the system's libcrypt (libxcrypt). `{CRYPT}$6$` is the one hash that
# both slapd (crypt(3)) and Dovecot verify out of the box, and libxcrypt is the very code they link
# against: maintained by the distribution, present on every Debian (libcrypt1 is Priority: required),
# on every Python release (the stdlib `crypt` module is gone from 3.13). One ctypes binding, no build
# step; ctypes releases the GIL during the call, so plain threads hash on every core (accounts).
_CRYPT_DATA_SIZE = 32768  # sizeof(struct crypt_data) in libxcrypt
_lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1", use_errno=True)
_crypt_rn = _lib.crypt_rn
_crypt_rn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
_crypt_rn.restype = ctypes.c_char_p
_local = threading.local()
SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def secrets_dir(inventory_dir: str | Path) -> Path:
    return data_dir(inventory_dir, "secrets")


def vault_file(inventory_dir: str | Path) -> Path:
    return secrets_dir(inventory_dir) / "vault.yml"


def vault_password_file(inventory_dir: str | Path) -> Path:
    return secrets_dir(inventory_dir) / ".vault-pass"


def _crypt(phrase: bytes, setting: bytes) -> str:
    if b"\0" in phrase or b"\0" in setting:  # C strings: everything after a NUL would be ignored
        raise ValueError("crypt_rn cannot take a NUL character")
    buf = getattr(_local, "buf", None)
    if buf is None:  # one struct crypt_data per thread: crypt_rn is reentrant with its own buffer
        buf = _local.buf = ctypes.create_string_buffer(_CRYPT_DATA_SIZE)
    out = _crypt_rn(phrase, setting, buf, _CRYPT_DATA_SIZE)
    if not out or out.startswith(b"*"):  # libxcrypt's failure token ("*0"/"*1") when errno is not set
        raise ValueError("crypt_rn refused the salt or the password")
    return out.decode("ascii")


def sha512_crypt(password: str, salt: str | None = None, rounds: int | None = None) -> str:
    """`{CRYPT}$6$<salt>$...`: verified by slapd (crypt(3)) and by Dovecot (which binds as the user) alike.
    `rounds`: None for the scheme's default 5000 (no `rounds=` in the hash, as slapd writes it for the
    passwords people choose), or an explicit count (`$6$rounds=N$<salt>$...`, 1000 to 999999999; for
    the accounts' random first passwords, see accounts/passwords.py). `salt` (16 characters of
    [./0-9A-Za-z]) only for reproducible tests."""
    if salt is None:  # 96 random bits as 16 characters of the crypt alphabet (one read of the CSPRNG)
        salt = base64.b64encode(_random.token_bytes(12), altchars=b"./").decode("ascii")
    elif not 1 <= len(salt) <= 16 or any(c not in SALT_CHARS for c in salt):
        raise ValueError("a SHA-512-crypt salt is 1-16 characters of [./0-9A-Za-z]")
    if rounds is None:
        setting = f"$6${salt}"
    elif isinstance(rounds, int) and not isinstance(rounds, bool) and 1000 <= rounds <= 999_999_999:
        setting = f"$6$rounds={rounds}${salt}"
    else:  # libxcrypt would silently clamp an out-of-range count: say so instead
        raise ValueError("SHA-512-crypt rounds are 1000 to 999999999")
    return "{CRYPT}" + _crypt(password.encode("utf-8"), setting.encode("ascii"))


def verify_crypt(password: str, hashed: str) -> bool:
    """True when `password` gives `hashed` (`{CRYPT}$6$...` or a bare crypt(3) string)."""
    h = hashed.removeprefix("{CRYPT}")
    try:
        return _random.compare_digest(_crypt(password.encode("utf-8"), h.encode("ascii")), h)
    except (ValueError, UnicodeError):
        return False


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
