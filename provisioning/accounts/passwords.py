"""First passwords: generation, and SHA-512-crypt hashing on every core.

Why libcrypt through ctypes: `{CRYPT}$6$` is the one hash that both slapd (crypt(3)) and Dovecot
verify out of the box. The system's libcrypt (libxcrypt) is the very code slapd links against, is
maintained by the distribution, and keeps working after Python 3.13 removes the `crypt` module;
passlib is unmaintained. ctypes releases the GIL during the call, so plain threads hash on all cores
(hashing is the largest cost of a first import: about 2 ms a password).

Passwords travel as pydantic SecretStr, which renders as '***' in reprs, logs and JSON.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

from pydantic import SecretStr

# No look-alikes: no 0/O/o, 1/l/I/i.
LOWER = "abcdefghjkmnpqrstuvwxyz"
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
DIGITS = "23456789"
ALPHABET = LOWER + UPPER + DIGITS
LENGTH = 12          # 55^12: about 69 bits
SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CRYPT_DATA_SIZE = 32768  # sizeof(struct crypt_data) in libxcrypt

_lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1", use_errno=True)
_crypt_rn = _lib.crypt_rn
_crypt_rn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
_crypt_rn.restype = ctypes.c_char_p
_local = threading.local()


def generate(length: int = LENGTH) -> SecretStr:
    """A random password with at least one lower-case letter, one capital and one digit."""
    while True:
        pw = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if any(c in LOWER for c in pw) and any(c in UPPER for c in pw) and any(c in DIGITS for c in pw):
            return SecretStr(pw)


def _crypt(phrase: bytes, setting: bytes) -> str:
    buf = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = ctypes.create_string_buffer(_CRYPT_DATA_SIZE)
    out = _crypt_rn(phrase, setting, buf, _CRYPT_DATA_SIZE)
    if not out:
        raise OSError(ctypes.get_errno(), "crypt_rn failed")
    return out.decode("ascii")


def sha512_crypt(password: SecretStr) -> str:
    """`{CRYPT}$6$<salt>$...` with glibc's default 5000 rounds."""
    salt = "".join(secrets.choice(SALT_CHARS) for _ in range(16))
    return "{CRYPT}" + _crypt(password.get_secret_value().encode("utf-8"), f"$6${salt}".encode())


def verify(password: str, hashed: str) -> bool:
    h = hashed.removeprefix("{CRYPT}")
    return secrets.compare_digest(_crypt(password.encode("utf-8"), h.encode()), h)


def hash_many(passwords: Sequence[SecretStr], workers: int | None = None,
              progress: Callable[[int], None] | None = None) -> list[str]:
    """Hash in parallel threads (one per core); `progress(n)` is called as chunks complete."""
    workers = workers or os.cpu_count() or 1
    if len(passwords) < 64 or workers == 1:
        out = [sha512_crypt(p) for p in passwords]
        if progress:
            progress(len(out))
        return out
    chunk = max(16, min(256, len(passwords) // (workers * 8) or 16))
    parts = [passwords[i:i + chunk] for i in range(0, len(passwords), chunk)]

    def work(part: Sequence[SecretStr]) -> list[str]:
        return [sha512_crypt(p) for p in part]

    out: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as ex:
        for hashed in ex.map(work, parts):
            out.extend(hashed)
            if progress:
                progress(len(hashed))
    return out
