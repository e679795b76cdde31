"""Who used mail this month, and from where: Dovecot and Postfix logs of the mail server.

A use is one of:
- a Dovecot login: `imap-login: Login: user=<annv>, method=PLAIN, rip=10.20.2.31, lip=...` (Dovecot 2.3,
  Debian 12) or `imap-login: Info: Logged in: user=<annv>, ...` (Dovecot 2.4, Debian 13), also
  pop3-login; failed logins ("auth failed", "Login aborted", "Disconnected") are not uses;
- a message sent through authenticated submission: Postfix
  `postfix/submission/smtpd[..]: 4F3A1: client=host[10.20.2.31], sasl_method=PLAIN, sasl_username=annv`;
- a webmail login, when Roundcube logs them (`log_logins`, /var/log/roundcube/userlogins.log):
  `[25-Nov-2026 14:05:01 +0700]: <sess> Successful login for annv (ID: 3) from 10.20.1.5 in session ...`
  — this one carries the official's own address, which Dovecot cannot see behind the webmail.
The user is the login name without `@<mail_domain>` (Dovecot accepts uid or uid@domain).

Where from (`origin()`), by the client address (`rip=` / `client=[...]` / Roundcube's `from`):
- `webmail`: loopback, the mail server's own addresses, or an address listed in province.yml
  `report.webmail_hosts` — the webmail application logs in on the user's behalf, so the user's real
  place is unknown; it is a use, counted in neither WAN nor Internet (a Roundcube login line, when
  logged, supplies the real place and counts as webmail use as well);
- `wan`: inside any unit's `wan` ranges of province.yml (the provincial WAN joins every unit, so an
  official of unit A logging in from unit B's office is on the WAN too);
- `internet`: any other address.

Timestamps: classic syslog ("Nov 25 06:30:01", no year: the year is the one that puts the line at or
before the file's modification time, so a log spanning New Year is dated right) or ISO 8601
("2026-11-25T06:30:01..." / "2026-11-25 06:30:01", Dovecot's log_timestamp option). Files may be
gzip-compressed (detected by content, not by name); a truncated .gz yields the lines before the damage
and a warning. Unparseable lines are skipped: logs hold many other messages.
"""
from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import re
import zlib
from dataclasses import dataclass
from typing import Iterable, Iterator

_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"), start=1)}
_SYSLOG_TS = re.compile(r"^(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)\b")
_ISO_TS = re.compile(r"^(?P<date>\d{4}-\d\d-\d\d)[T ](?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)")
_DOVECOT_LOGIN = re.compile(r"\b(?:imap|pop3)-login: (?:Info: )?(?:Login|Logged in): user=<(?P<user>[^>]+)>.*?"
                            r"\brip=(?P<ip>[0-9A-Fa-f:.]+)")
_ROUNDCUBE_TS = re.compile(r"^\[(?P<day>\d{2})-(?P<mon>[A-Z][a-z]{2})-(?P<year>\d{4}) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)")
_ROUNDCUBE_LOGIN = re.compile(r"\bSuccessful login for (?P<user>\S+) \(ID: \d+\) from (?P<ip>[0-9A-Fa-f:.]+)")
_POSTFIX_SENT = re.compile(r"\bpostfix/[\w/.-]*smtpd\[\d+\]: \w+: client=[^\[\s]*\[(?P<ip>[^\]]+)\]"
                           r".*?\bsasl_username=(?P<user>[^\s,]+)")


@dataclass(frozen=True)
class MailEvent:
    when: dt.datetime
    kind: str          # login | sent | webmail
    user: str
    address: str


@dataclass
class LogFile:
    """A log file as collected: its name (for messages), raw bytes (maybe gzip) and modification time."""
    name: str
    data: bytes
    mtime: dt.datetime


def decode(log: LogFile, warnings: list[str]) -> str:
    data = log.data
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error):
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                data = d.decompress(data)
            except zlib.error:
                data = b""
            lines = data.count(b"\n")
            warnings.append(f"{log.name}: damaged gzip file, read {lines} line(s) before the damage")
    return data.decode("utf-8", errors="replace")


def _timestamp(line: str, mtime: dt.datetime) -> dt.datetime | None:
    m = _ROUNDCUBE_TS.match(line)
    if m and m.group("mon") in _MONTHS:
        return dt.datetime(int(m.group("year")), _MONTHS[m.group("mon")], int(m.group("day")),
                           int(m.group("h")), int(m.group("m")), int(m.group("s")))
    m = _ISO_TS.match(line)
    if m:
        try:
            d = dt.date.fromisoformat(m.group("date"))
        except ValueError:
            return None
        return dt.datetime(d.year, d.month, d.day, int(m.group("h")), int(m.group("m")), int(m.group("s")))
    m = _SYSLOG_TS.match(line)
    if not m or m.group("mon") not in _MONTHS:
        return None
    mon, day = _MONTHS[m.group("mon")], int(m.group("day"))
    hms = int(m.group("h")), int(m.group("m")), int(m.group("s"))
    for year in (mtime.year, mtime.year - 1):
        try:
            when = dt.datetime(year, mon, day, *hms)
        except ValueError:  # Feb 29 in a non-leap year
            continue
        if when <= mtime + dt.timedelta(days=1):  # a day of slack for clock and timezone skew
            return when
    return None


def parse(text: str, mtime: dt.datetime, mail_domain: str) -> Iterator[MailEvent]:
    suffix = "@" + mail_domain.lower()
    for line in text.splitlines():
        if "Login: user=<" in line or "Logged in: user=<" in line:
            m, kind = _DOVECOT_LOGIN.search(line), "login"
        elif "sasl_username=" in line:
            m, kind = _POSTFIX_SENT.search(line), "sent"
        elif "Successful login for " in line:
            m, kind = _ROUNDCUBE_LOGIN.search(line), "webmail"
        else:
            continue
        if not m:
            continue
        when = _timestamp(line, mtime)
        if when is None:
            continue
        user = m.group("user").strip().lower().removesuffix(suffix)
        yield MailEvent(when, kind, user, m.group("ip"))


def events(logs: Iterable[LogFile], mail_domain: str, warnings: list[str]) -> list[MailEvent]:
    out: list[MailEvent] = []
    for log in logs:
        out.extend(parse(decode(log, warnings), log.mtime, mail_domain))
    return out


class Origins:
    """Classifies a client address as webmail, wan or internet (rules in the module docstring)."""

    def __init__(self, wan: dict[str, list[ipaddress.IPv4Network]], local: Iterable[str]):
        self.wan = [(net, code) for code, nets in wan.items() for net in nets]
        self._memo: dict[str, str] = {}
        self.local = set()
        for a in local:
            try:
                self.local.add(ipaddress.ip_address(a))
            except ValueError:
                pass  # a DNS name in the inventory: it cannot appear in rip=

    def origin(self, address: str) -> str:
        """Memoised: a month repeats the same few thousand addresses across ~10^5 uses."""
        if address not in self._memo:
            self._memo[address] = self._classify(address)
        return self._memo[address]

    def _classify(self, address: str) -> str:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return "internet"
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if ip.is_loopback or ip in self.local:
            return "webmail"
        if any(ip in net for net, _ in self.wan):
            return "wan"
        return "internet"
