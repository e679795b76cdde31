"""LDAP writes encoded by hand and pipelined on a connection that ldap3 opened and bound.

An initial apply sends one add per official: through ldap3 each costs about 0.85 ms of Python (its
pyasn1 encoder builds an object tree per request, the synchronous strategy decodes the answer the same
way and waits for it before the next request), which made the directory phase the largest CPU cost of
the apply after the hashes. Here the three requests the accounts job writes (add, modify, delete;
RFC 4511 4.6-4.8) are encoded directly as BER (about 30 us) and several are kept in flight on one
connection (`window`): slapd works on them in its own threads while the next ones are encoded, and
answers are read as they come, matched by message ID.

ldap3 still opens the connection (StartTLS with the provincial CA and the server names checked, the
bind): `Wire` writes to and reads from the socket it leaves bound and idle; message IDs start far above
ldap3's own, so the unbind it sends afterwards cannot collide with one of ours.

No LDAP transactions (RFC 5805), though one commit per 200 officials halved the initial apply on
the benchmark: the slapd of both Debian releases crashes with them (provisioning/accounts/README.md).
"""
from __future__ import annotations

import socket
from typing import Iterable, NamedTuple

import ldap3
from ldap3.core.results import RESULT_CODES

MODIFY = {ldap3.MODIFY_ADD: 0, ldap3.MODIFY_DELETE: 1, ldap3.MODIFY_REPLACE: 2, ldap3.MODIFY_INCREMENT: 3}
ANSWERS = {0x69: "add", 0x67: "modify", 0x6B: "delete"}   # AddResponse, ModifyResponse, DelResponse
FIRST_ID = 1 << 24


class Answer(NamedTuple):
    msg_id: int
    code: int
    message: str


class Lost(Exception):
    """The connection ended (closed, reset, timed out, or the server's notice of disconnection)."""


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(b),)) + b


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _len(len(content)) + content


def _octets(v) -> bytes:
    b = v if isinstance(v, bytes) else str(v).encode("utf-8")
    return b"\x04" + _len(len(b)) + b


def _int(tag: int, v: int) -> bytes:
    return _tlv(tag, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def _values(vals: Iterable) -> bytes:
    return _tlv(0x31, b"".join(_octets(v) for v in vals))


def add_request(dn: str, attributes: dict[str, list]) -> bytes:
    attrs = b"".join(_tlv(0x30, _octets(k) + _values(v if isinstance(v, (list, tuple)) else [v]))
                     for k, v in attributes.items())
    return _tlv(0x68, _octets(dn) + _tlv(0x30, attrs))


def modify_request(dn: str, changes: dict[str, list]) -> bytes:
    """`changes` as ldap3 takes them: {attribute: [(MODIFY_x, [values]), ...]} (or one tuple)."""
    items = []
    for attr, ch in changes.items():
        for how, vals in ([ch] if isinstance(ch, tuple) else ch):
            items.append(_tlv(0x30, _int(0x0A, MODIFY[how]) + _tlv(0x30, _octets(attr) + _values(vals))))
    return _tlv(0x66, _octets(dn) + _tlv(0x30, b"".join(items)))


def delete_request(dn: str) -> bytes:
    b = dn.encode("utf-8")
    return b"\x4a" + _len(len(b)) + b


def encode(kind: str, dn: str, payload: dict) -> bytes:
    if kind == "add":
        return add_request(dn, payload)
    if kind == "modify":
        return modify_request(dn, payload)
    if kind == "delete":
        return delete_request(dn)
    raise ValueError(f"unknown LDAP operation {kind!r}")


def _read_tlv(buf: bytes | memoryview, pos: int) -> tuple[int, int, int] | None:
    """(tag, start of content, end of content) of the element at `pos`, or None when incomplete."""
    if len(buf) < pos + 2:
        return None
    tag, n = buf[pos], buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if len(buf) < pos + k:
            return None
        n = int.from_bytes(bytes(buf[pos:pos + k]), "big")
        pos += k
    if len(buf) < pos + n:
        return None
    return tag, pos, pos + n


class Wire:
    """Requests out, answers in, on the socket of a bound ldap3 connection."""

    def __init__(self, conn: ldap3.Connection):
        self.sock = conn.socket
        self.next_id = FIRST_ID
        self.buf = bytearray()

    def send(self, kind: str, dn: str, payload: dict) -> int:
        """Send an update; its message ID."""
        msg_id = self.next_id
        self.next_id += 1
        try:
            self.sock.sendall(_tlv(0x30, _int(0x02, msg_id) + encode(kind, dn, payload)))
        except OSError as e:
            raise Lost(type(e).__name__) from None
        return msg_id

    def answers(self) -> list[Answer]:
        """The answers that arrive next (at least one)."""
        out: list[Answer] = []
        while not out:
            try:
                data = self.sock.recv(262144)
            except (OSError, socket.timeout) as e:
                raise Lost(type(e).__name__) from None
            if not data:
                raise Lost("closed by the server")
            self.buf += data
            pos = 0
            while (msg := _read_tlv(self.buf, pos)) is not None:
                _, start, end = msg
                out.append(self._answer(bytes(self.buf[start:end])))
                pos = end
            del self.buf[:pos]
        return out

    @staticmethod
    def _answer(content: bytes) -> Answer:
        t_id = _read_tlv(content, 0)
        t_op = _read_tlv(content, t_id[2])
        msg_id = int.from_bytes(content[t_id[1]:t_id[2]], "big")
        if msg_id == 0 or t_op[0] not in ANSWERS:   # notice of disconnection, or nothing we asked for
            raise Lost("the server ended the connection")
        t_code = _read_tlv(content, t_op[1])
        t_matched = _read_tlv(content, t_code[2])
        t_msg = _read_tlv(content, t_matched[2])
        code = int.from_bytes(content[t_code[1]:t_code[2]], "big")
        return Answer(msg_id, code, content[t_msg[1]:t_msg[2]].decode("utf-8", "replace"))


def describe(code: int, message: str) -> str:
    """An error as ldap3 words it (`_run_one` of the accounts apply): description (code): message."""
    return f"{RESULT_CODES.get(code, 'other')} ({code}): {message}".strip()
