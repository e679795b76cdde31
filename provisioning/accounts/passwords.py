"""First passwords: generation, and SHA-512-crypt hashing on every core.

The hash is the province's one SHA-512-crypt (`provisioning.secrets`: the system's libxcrypt, the
code slapd and Dovecot verify with). Its binding releases the GIL during the call, so plain threads
hash on all cores.

First passwords are hashed with 1000 rounds (`$6$rounds=1000$<salt>$...`, `first_password_hash`), not
the scheme's default 5000: at 5000 rounds hashing was the largest CPU cost of an initial import (about
1.3 ms a password, 12-13 CPU-seconds for 10,000 joiners on this project's 2-core reference machine).
Why fewer rounds are enough for these passwords and for no others:
- Key stretching makes each guess of an offline attacker more expensive; it matters for secrets with
  little entropy, i.e. passwords people choose (NIST SP 800-63B, 5.1.1.2: memorized secrets are salted
  and hashed with a key derivation function whose cost is "as large as verification server performance
  will allow"). A first password is not chosen by a person: 12 characters drawn by the CSPRNG from 55
  symbols (`generate`), about 69 bits. For the secrets a verifier generates itself (look-up secrets,
  5.1.2.2) SP 800-63B draws the line by entropy: from 112 bits an approved one-way hash suffices; below,
  a salted key derivation function is still required, which SHA-512-crypt at 1000 rounds (its minimum)
  with a 96-bit salt is.
- Finding one such password from its hash takes about 2^68 guesses of 1000 SHA-512 rounds each (2^78
  SHA-512 computations); 5000 rounds would add a factor 5 (2.3 bits) to a search already out of reach.
- A first password lives only until its first use: pwdReset=TRUE makes the directory (ppolicy) and the
  webmail/console demand a new password at the first login.
- The passwords officials then choose are hashed by slapd itself (Password Modify: olcPasswordHash
  {CRYPT}, olcPasswordCryptSaltFormat `$6$%.16s`, the directory role), at the full default 5000 rounds;
  so are the province's service secrets (`provisioning.secrets`). `sha512_crypt` here keeps the full cost.
slapd verifies `rounds=` hashes through crypt(3) (libxcrypt, like any `$6$`), and Dovecot logs officials
in by binding as them, so both accept them (tests/test_secrets.py, tests/accounts).

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


FIRST_ROUNDS = 1000  # SHA-512-crypt rounds of a first password (see above); libxcrypt's minimum


def sha512_crypt(password: SecretStr) -> str:
    """`{CRYPT}$6$<salt>$...` with the default 5000 rounds."""
    return province_secrets.sha512_crypt(password.get_secret_value())


def first_password_hash(password: SecretStr) -> str:
    """`{CRYPT}$6$rounds=1000$<salt>$...`: only for a generated first password that the directory
    marks pwdReset=TRUE in the same request (see the module's note on why it needs fewer rounds)."""
    return province_secrets.sha512_crypt(password.get_secret_value(), rounds=FIRST_ROUNDS)


def verify(password: str, hashed: str) -> bool:
    return province_secrets.verify_crypt(password, hashed)


def hash_many(passwords: Sequence[SecretStr], workers: int | None = None,
              progress: Callable[[int], None] | None = None) -> list[str]:
    """Hash at full cost in parallel threads (one per core); `progress(n)` is called as chunks complete."""
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
