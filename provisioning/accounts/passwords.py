"""First passwords: generation, and SHA-512-crypt hashing on every core.

The hash is the province's one SHA-512-crypt (`provisioning.secrets`: the system's libxcrypt, the
code slapd and Dovecot verify with). Its binding releases the GIL during the call, so plain threads
hash on all cores (hashing is the largest cost of a first import: about 2 ms a password).

Passwords travel as pydantic SecretStr, which renders as '***' in reprs, logs and JSON.
"""
from __future__ import annotations

import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

from pydantic import SecretStr

from .. import secrets as province_secrets

# No look-alikes: no 0/O/o, 1/l/I/i.
LOWER = "abcdefghjkmnpqrstuvwxyz"
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
DIGITS = "23456789"
ALPHABET = LOWER + UPPER + DIGITS
LENGTH = 12          # 55^12: about 69 bits


def generate(length: int = LENGTH) -> SecretStr:
    """A random password with at least one lower-case letter, one capital and one digit."""
    while True:
        pw = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if any(c in LOWER for c in pw) and any(c in UPPER for c in pw) and any(c in DIGITS for c in pw):
            return SecretStr(pw)


def sha512_crypt(password: SecretStr) -> str:
    """`{CRYPT}$6$<salt>$...` with the default 5000 rounds."""
    return province_secrets.sha512_crypt(password.get_secret_value())


def verify(password: str, hashed: str) -> bool:
    return province_secrets.verify_crypt(password, hashed)


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
