"""Usernames from Vietnamese names: `Nguyễn Văn An` -> `annv`, clashes -> `annv2`, `annv3`...

A username is generated once, when the official first gets an account, and is never changed (a name
change keeps it) nor given to anyone else (the plan passes every uid ever issued as `taken`).
"""
from __future__ import annotations

import re
import string
import unicodedata

from .roster import Official

DEFAULT_PATTERN = "{given}{f}{m}"
PLACEHOLDERS = {
    "given": "given name, all syllables (Thu Hà -> thuha)",
    "family": "family name (Nguyễn -> nguyen)",
    "middle": "middle names (Văn -> van)",
    "f": "initials of the family name",
    "m": "initials of the middle names",
    "g": "initials of the given name",
}
MAX_LEN = 24
# Role mailboxes and system names a person must never receive.
RESERVED = frozenset({
    "root", "admin", "administrator", "postmaster", "abuse", "hostmaster", "webmaster", "noreply",
    "mailer-daemon", "nobody", "vmail", "info", "support", "security", "dovecot", "postfix", "openldap",
})


def fold(text: str) -> str:
    """Lower-case ASCII letters only. `đ`/`Đ` have no Unicode decomposition, so they are mapped by hand."""
    text = text.replace("đ", "d").replace("Đ", "D")
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z]", "", bare.lower())


def _words(text: str) -> list[str]:
    return [w for w in (fold(x) for x in re.split(r"[\s\-']+", text)) if w]


def check_pattern(pattern: str) -> str | None:
    """None if the pattern is usable, else the reason (for a clear province.yml error)."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    except ValueError as e:
        return f"not a valid pattern: {e}"
    unknown = [n for n in names if n not in PLACEHOLDERS]
    if unknown:
        return f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; known: " + \
            ", ".join("{" + k + "}" for k in PLACEHOLDERS)
    if "given" not in names and "g" not in names:
        return "the pattern must use {given} or {g}"
    literal = re.sub(r"\{[^}]*\}", "", pattern)
    if not re.fullmatch(r"[a-z0-9._-]*", literal):
        return "literal text may only use a-z, 0-9, '.', '_' and '-'"
    return None


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
