"""Usernames from Vietnamese names: `Nguyễn Văn An` -> `annv`, clashes -> `annv2`, `annv3`...

A username is generated once, when the official first gets an account, and is never changed (a name
change keeps it) nor given to anyone else (the plan passes every uid ever issued as `taken`).
"""
from __future__ import annotations

import functools
import re
import unicodedata

from ..model.settings import DEFAULT_PATTERN, PLACEHOLDERS, check_pattern  # noqa: F401 (a province.yml setting)
from ..roster import Official

MAX_LEN = 24
# Role mailboxes and system names a person must never receive.
RESERVED = frozenset({
    "root", "admin", "administrator", "postmaster", "abuse", "hostmaster", "webmaster", "noreply",
    "mailer-daemon", "nobody", "vmail", "info", "support", "security", "dovecot", "postfix", "openldap",
})


@functools.lru_cache(maxsize=65536)   # a roster repeats its family, middle and given names
def fold(text: str) -> str:
    """Lower-case ASCII letters only. `đ`/`Đ` have no Unicode decomposition, so they are mapped by hand."""
    text = text.replace("đ", "d").replace("Đ", "D")
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z]", "", bare.lower())


def _words(text: str) -> list[str]:
    return [w for w in (fold(x) for x in re.split(r"[\s\-']+", text)) if w]


def base_username(o: Official, pattern: str = DEFAULT_PATTERN) -> str:
    fam, mid, giv = _words(o.family_name), _words(o.middle_name), _words(o.given_name)
    values = {
        "given": "".join(giv), "family": "".join(fam), "middle": "".join(mid),
        "f": "".join(w[0] for w in fam), "m": "".join(w[0] for w in mid), "g": "".join(w[0] for w in giv),
    }
    name = pattern.format(**values).strip("._-")
    return name[:MAX_LEN] or "user"


def allocate(base: str, taken: set[str]) -> str:
    """The base name if free, else base2, base3... The result is added to `taken`."""
    candidate, n = base, 1
    while candidate in taken or candidate in RESERVED:
        n += 1
        candidate = f"{base}{n}"
    taken.add(candidate)
    return candidate
