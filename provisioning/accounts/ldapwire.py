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

Reads too: `Wire.search` runs a paged search (RFC 2696) and decodes the entries by hand (about 25 us
an entry instead of ldap3's 0.2 ms): reading every official is most of a plan's time, and a plan is
made by every apply, no-change or not, and by every roster upload in the console. ldap3 still encodes
the request (its filter parser).
"""
from __future__ import annotations

import socket
from typing import Iterable, Iterator, NamedTuple

import ldap3
from ldap3.core.results import RESULT_CODES
from ldap3.operation.search import search_operation
from ldap3.utils.asn1 import encode as ber
from ldap3.utils.ciDict import CaseInsensitiveDict

MODIFY = {ldap3.MODIFY_ADD: 0, ldap3.MODIFY_DELETE: 1, ldap3.MODIFY_REPLACE: 2, ldap3.MODIFY_INCREMENT: 3}
ANSWERS = {0x69: "add", 0x67: "modify", 0x6B: "delete"}   # AddResponse, ModifyResponse, DelResponse
FIRST_ID = 1 << 24
PAGED = "1.2.840.113556.1.4.319"                          # simple paged results control (RFC 2696)


class Answer(NamedTuple):
    msg_id: int
    code: int
    message: str


class Lost(Exception):
    """The connection ended (closed, reset, timed out, or the server's notice of disconnection)."""


class SearchFailed(Exception):
    """A search ended with a result code other than success: `code`, `message` (entries already
    yielded were real; the caller decides whether a partial list is usable)."""

    def __init__(self, code: int, message: str):
        super().__init__(describe(code, message))
        self.code, self.message = code, message


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


def search_request(base: str, filt: str, attrs: list[str], scope: str = ldap3.LEVEL) -> bytes:
    """A SearchRequest (no size or time limit, aliases not dereferenced), encoded by ldap3."""
    return ber(search_operation(base, filt, scope, ldap3.DEREF_NEVER, attrs, 0, 0, False, False, True))


def paged_control(size: int, cookie: bytes) -> bytes:
    """Controls [0] holding the paged results control (not critical)."""
    value = _tlv(0x30, _int(0x02, size) + _octets(cookie))
    return _tlv(0xA0, _tlv(0x30, _octets(PAGED) + _octets(value)))


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
        return self._send(encode(kind, dn, payload))

    def _send(self, op_and_controls: bytes) -> int:
        msg_id = self.next_id
        self.next_id += 1
        try:
            self.sock.sendall(_tlv(0x30, _int(0x02, msg_id) + op_and_controls))
        except OSError as e:
            raise Lost(type(e).__name__) from None
        return msg_id

    def search(self, base: str, filt: str, attrs: list[str], scope: str = ldap3.LEVEL,
               page: int = 500) -> Iterator[tuple[str, CaseInsensitiveDict]]:
        """Every entry of a paged search, as (DN, {attribute: [values as text]}) with attribute names
        matched case-insensitively (as ldap3 gives them). Raises SearchFailed when a page ends with
        an error (4: the server's size limit cut the list short), Lost when the connection ends."""
        request, cookie = search_request(base, filt, attrs, scope), b""
        while True:
            msg_id = self._send(request + paged_control(page, cookie))
            done = None
            while done is None:
                for content in self._messages():
                    got_id, t_op = _header(content)
                    if got_id != msg_id:
                        raise Lost("an answer to no request")
                    if t_op[0] == 0x64:                                   # SearchResultEntry
                        yield _entry(content, t_op)
                    elif t_op[0] == 0x65:                                 # SearchResultDone
                        done = _done(content, t_op)
                    elif t_op[0] != 0x73:                                 # not a continuation reference
                        raise Lost("the server ended the connection")
            code, message, cookie = done
            if code != 0:
                raise SearchFailed(code, message)
            if not cookie:
                return

    def answers(self) -> list[Answer]:
        """The answers that arrive next (at least one)."""
        return [self._answer(content) for content in self._messages()]

    def _messages(self) -> list[bytes]:
        """The contents of the whole messages that arrive next (at least one)."""
        out: list[bytes] = []
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
                out.append(bytes(self.buf[start:end]))
                pos = end
            del self.buf[:pos]
        return out

    @staticmethod
    def _answer(content: bytes) -> Answer:
        msg_id, t_op = _header(content)
        if msg_id == 0 or t_op[0] not in ANSWERS:   # notice of disconnection, or nothing we asked for
            raise Lost("the server ended the connection")
        return Answer(msg_id, *_result(content, t_op[1]))


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _header(content: bytes) -> tuple[int, tuple[int, int, int]]:
    """A message's ID and where its protocol operation is (tag, start, end)."""
    t_id = _read_tlv(content, 0)
    return int.from_bytes(content[t_id[1]:t_id[2]], "big"), _read_tlv(content, t_id[2])


def _result(content: bytes, pos: int) -> tuple[int, str]:
    """The LDAPResult at `pos` (resultCode, matchedDN, diagnosticMessage): its code and message."""
    t_code = _read_tlv(content, pos)
    t_matched = _read_tlv(content, t_code[2])
    t_msg = _read_tlv(content, t_matched[2])
    return int.from_bytes(content[t_code[1]:t_code[2]], "big"), _text(content[t_msg[1]:t_msg[2]])


def _entry(content: bytes, t_op: tuple[int, int, int]) -> tuple[str, CaseInsensitiveDict]:
    """A SearchResultEntry: objectName, then SEQUENCE OF {type, SET OF value}."""
    t_dn = _read_tlv(content, t_op[1])
    t_attrs = _read_tlv(content, t_dn[2])
    attrs = CaseInsensitiveDict()
    pos = t_attrs[1]
    while pos < t_attrs[2]:
        t_pa = _read_tlv(content, pos)
        t_type = _read_tlv(content, t_pa[1])
        t_vals = _read_tlv(content, t_type[2])
        vals, v = [], t_vals[1]
        while v < t_vals[2]:
            t_v = _read_tlv(content, v)
            vals.append(_text(content[t_v[1]:t_v[2]]))
            v = t_v[2]
        attrs[_text(content[t_type[1]:t_type[2]])] = vals
        pos = t_pa[2]
    return _text(content[t_dn[1]:t_dn[2]]), attrs


def _done(content: bytes, t_op: tuple[int, int, int]) -> tuple[int, str, bytes]:
    """A SearchResultDone: (result code, diagnostic message, the paged results cookie or b"")."""
    code, message = _result(content, t_op[1])
    cookie, pos = b"", t_op[2]
    if pos < len(content) and content[pos] == 0xA0:                  # controls
        t_ctrls = _read_tlv(content, pos)
        c = t_ctrls[1]
        while c < t_ctrls[2]:
            t_ctrl = _read_tlv(content, c)
            t_oid = _read_tlv(content, t_ctrl[1])
            if content[t_oid[1]:t_oid[2]] == PAGED.encode():
                k = t_oid[2]
                while k < t_ctrl[2]:                                  # optional criticality, then the value
                    t = _read_tlv(content, k)
                    if t[0] == 0x04:
                        t_seq = _read_tlv(content, t[1])
                        t_size = _read_tlv(content, t_seq[1])
                        t_cookie = _read_tlv(content, t_size[2])
                        cookie = content[t_cookie[1]:t_cookie[2]]
                    k = t[2]
            c = t_ctrl[2]
    return code, message, cookie


def describe(code: int, message: str) -> str:
    """An error as ldap3 words it (`_run_one` of the accounts apply): description (code): message."""
    return f"{RESULT_CODES.get(code, 'other')} ({code}): {message}".strip()
