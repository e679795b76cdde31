"""Samba attributes of an official's directory entry (objectClass sambaSamAccount).

The unit file shares authenticate SMB logins with NTLM, which needs the NT hash (MD4 of the UTF-16LE
password) of each user: an LDAP simple bind cannot check an SMB login. The accounts module writes
`sambaNTPassword` with every password it sets; every other change (webmail, the console) uses the Password
Modify extended operation, for which the directory's smbk5pwd overlay writes the hash; the fileshare role's sync copies the hashes of the unit's officials from the unit's replica into Samba.

MD4 is implemented here because OpenSSL 3 (and so hashlib) no longer offers it by default.
"""
from __future__ import annotations

import hashlib
import struct
import time
import zlib


def _md4(data: bytes) -> bytes:
    """RFC 1320 MD4 (only used for the NT hash, which is MD4 by definition)."""
    def rotl(x: int, n: int) -> int:
        return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF

    msg = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[off:off + 64])
        a, b, c, d = h
        for i in range(16):  # round 1
            a, b, c, d = d, rotl((a + ((b & c) | (~b & d)) + x[i]) & 0xFFFFFFFF, (3, 7, 11, 19)[i % 4]), b, c
        for i in range(16):  # round 2
            k = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15][i]
            a, b, c, d = d, rotl((a + ((b & c) | (b & d) | (c & d)) + x[k] + 0x5A827999) & 0xFFFFFFFF,
                                 (3, 5, 9, 13)[i % 4]), b, c
        for i in range(16):  # round 3
            k = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15][i]
            a, b, c, d = d, rotl((a + (b ^ c ^ d) + x[k] + 0x6ED9EBA1) & 0xFFFFFFFF, (3, 9, 11, 15)[i % 4]), b, c
        h = [(v + n) & 0xFFFFFFFF for v, n in zip(h, (a, b, c, d))]
    return struct.pack("<4I", *h)


def nt_hash(password: str) -> str:
    """sambaNTPassword value: upper-case hex MD4 of the UTF-16LE password."""
    return _md4(password.encode("utf-16-le")).hex().upper()


def domain_sid(base_dn: str) -> str:
    """A stable SID prefix for the province (the schema requires sambaSID; Samba's tdbsam on the unit
    servers allocates its own local SIDs, so this only has to be well-formed and stable)."""
    digest = hashlib.sha256(base_dn.lower().encode()).digest()
    a, b, c = struct.unpack("<3I", digest[:12])
    return f"S-1-5-21-{a}-{b}-{c}"


def samba_attributes(base_dn: str, uid: str, password: str) -> dict[str, list[str]]:
    """Attributes to add to (or replace in) an inetOrgPerson entry, objectClass included."""
    rid = 1000 + zlib.crc32(uid.encode()) % 1_000_000_000
    return {"objectClass": ["sambaSamAccount"], "sambaSID": [f"{domain_sid(base_dn)}-{rid}"],
            "sambaNTPassword": [nt_hash(password)], "sambaAcctFlags": ["[U          ]"],
            "sambaPwdLastSet": [str(int(time.time()))]}
