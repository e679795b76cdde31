"""The diff between the roster (what HR says) and the directory (what exists): a list of changes.

Pure and in memory: the directory is read once (directory.read_state), the mail store is listed
once, and every official is compared by hr_id, the stable key. Nothing here writes anything, and a
plan holds no password (passwords are made by apply, after the plan was accepted).

Actions:
  create   a new joiner (or a purged official who comes back: same username)
  enable   a leaver who comes back: same entry, same username, a new first password
  update   mover (unit), name change, position/quota change: attributes only, DN unchanged
  disable  a leaver, an official who no longer uses a computer, or one missing from the roster
  mailbox  an enabled account whose mailbox is missing or incomplete (e.g. after a crash)
  reissue  an account whose first password never reached a sheet (the apply that made it crashed)
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

from . import naming
from ..model import AccountsSettings
from .directory import DirectoryState, Person, Target
from ..roster import Official, Roster

DEFAULT_GUARD_PCT = 5.0
DEFAULT_GUARD_MIN = 20


@dataclass
class Change:
    action: str
    hr_id: str
    uid: str
    unit: str | None
    name: str
    changes: dict[str, list] = field(default_factory=dict)  # attribute -> [old, new]
    kinds: list[str] = field(default_factory=list)           # move, rename, title, quota, mailbox...
    reason: str = ""
    replaces_tombstone: bool = False
    samba_account: bool = False  # the entry already has objectClass sambaSamAccount (NT hash of the shares)


@dataclass
class GroupChange:
    unit: str
    add: list[str]
    remove: list[str]
    missing: bool = False          # the directory role has not created the group (yet): nothing to change
    add_placeholder: bool = False  # groupOfNames needs a member: keep the directory role's placeholder


@dataclass
class Plan:
    changes: list[Change]
    groups: list[GroupChange]
    enabled_before: int
    roster_rows: int
    eligible: int
    source_encoding: str
    converted_from: str | None

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def summary(self) -> dict[str, int]:
        actions = ("create", "enable", "update", "disable", "mailbox", "reissue")
        out = {a: self.count(a) for a in actions}
        out["group_changes"] = len(self.groups)
        return out

    @property
    def empty(self) -> bool:
        return not self.changes and not self.groups


_GUARD = re.compile(r"(?P<count>[0-9]{1,9})|(?P<pct>[0-9]{1,3}(?:[.,][0-9]+)?)%")


def guard_limit(enabled: int, max_disable: str | None) -> int:
    """How many accounts one apply may disable: default max(5% of enabled, 20); `--max-disable`
    is a count ("50") or a percentage of enabled accounts ("10%")."""
    if max_disable is None:
        return max(math.ceil(enabled * DEFAULT_GUARD_PCT / 100), DEFAULT_GUARD_MIN)
    m = _GUARD.fullmatch(max_disable.strip())
    if not m:      # also refuses "-5", "inf%", "nan%", "1e9": a limit is a plain count or percentage
        raise ValueError(max_disable)
    if m["pct"] is None:
        return int(m["count"])
    pct = float(m["pct"].replace(",", "."))
    if pct > 100:
        raise ValueError(max_disable)
    return math.ceil(enabled * pct / 100)


def _desired(o: Official, settings: AccountsSettings) -> dict[str, object]:
    return {"cn": o.full_name, "sn": o.family_name, "givenName": o.given_name, "displayName": o.full_name,
            "departmentNumber": o.unit, "title": o.position, "mailQuotaMB": settings.quota_for(o.position)}


def _current(p: Person) -> dict[str, object]:
    return {"cn": p.cn, "sn": p.sn, "givenName": p.given_name, "displayName": p.display_name,
            "departmentNumber": p.unit, "title": p.title, "mailQuotaMB": p.quota_mb}


KIND_OF = {"cn": "rename", "sn": "rename", "givenName": "rename", "displayName": "rename",
           "departmentNumber": "move", "title": "title", "mailQuotaMB": "quota"}


def compute(roster: Roster, state: DirectoryState, target: Target, settings: AccountsSettings, *,
            mailboxes: set[str] | None = None, delivered: set[str] | None = None,
            issued: dict[str, str] | None = None) -> Plan:
    """`mailboxes`: uids with a complete mailbox (None: do not check); `delivered`: uids whose
    password reached a sheet (None: do not check); `issued`: uid -> hr_id ever issued here."""
    issued = issued or {}
    by_hr = state.by_hr_id()
    issued_by_hr = {hr: uid for uid, hr in issued.items()}
    taken = set(state.people) | state.foreign_uids | set(issued)
    changes: list[Change] = []
    members: dict[str, set[str]] = defaultdict(set)
    roster_ids = set()
    eligible = 0

    for o in roster.officials:
        roster_ids.add(o.hr_id)
        p = by_hr.get(o.hr_id)
        if not o.eligible:
            if p and p.active:
                why = "no longer uses a computer" if o.active else "left (roster status)"
                changes.append(_disable(p, why))
            continue
        eligible += 1
        want = _desired(o, settings)
        if p is None or p.tombstone:
            if p is not None:
                uid = p.uid
            elif (prior := issued_by_hr.get(o.hr_id)) and prior not in state.people:
                uid = prior  # issued before, entry lost (crash between purge steps, restored backup)
            else:
                uid = naming.allocate(naming.base_username(o, settings.username_pattern), taken)
            changes.append(Change("create", o.hr_id, uid, o.unit, o.full_name,
                                  {k: [None, v] for k, v in want.items() if v not in ("", None)},
                                  kinds=["mailbox"], replaces_tombstone=p is not None))
        else:
            uid = p.uid
            cur = _current(p)
            diff = {k: [cur[k], v] for k, v in want.items() if (cur[k] or "") != (v or "")}
            kinds = sorted({KIND_OF[k] for k in diff})
            if not p.active:
                changes.append(Change("enable", o.hr_id, uid, o.unit, o.full_name, diff, kinds=kinds + ["mailbox"],
                                      reason="back in the roster", samba_account=p.samba_account))
            else:
                missing_box = mailboxes is not None and uid not in mailboxes
                if diff:
                    changes.append(Change("update", o.hr_id, uid, o.unit, o.full_name, diff,
                                          kinds=kinds + (["mailbox"] if missing_box else [])))
                elif missing_box:
                    changes.append(Change("mailbox", o.hr_id, uid, o.unit, o.full_name, kinds=["mailbox"],
                                          reason="mailbox missing or incomplete"))
                if delivered is not None and p.pwd_reset and uid not in delivered:
                    changes.append(Change("reissue", o.hr_id, uid, o.unit, o.full_name,
                                          reason="first password never delivered (interrupted apply)",
                                          samba_account=p.samba_account))
        members[o.unit].add(target.person_dn(uid))

    for p in state.people.values():
        if p.active and p.hr_id not in roster_ids:
            changes.append(_disable(p, "not in the roster"))

    groups = []
    people_suffix = "," + target.people.lower()
    placeholder = target.placeholder_member.lower()
    for unit in sorted(set(members) | set(state.groups)):
        want_m, have = members.get(unit, set()), state.groups.get(unit)
        if have is None:
            # The directory role owns the unit groups (every unit of province.yml gets one at deploy);
            # accounts only changes members, so a unit added since the last deploy waits for the next.
            if want_m:
                groups.append(GroupChange(unit, sorted(want_m), [], missing=True))
            continue
        # DNs compare case-insensitively. Only people are ours: the placeholder (and anything else
        # not in ou=People) stays.
        want_l = {m.lower(): m for m in want_m}
        have_people = {m.lower(): m for m in have if m.lower().endswith(people_suffix)}
        add = sorted(want_l[k] for k in want_l.keys() - have_people.keys())
        remove = sorted(have_people[k] for k in have_people.keys() - want_l.keys())
        if add or remove:
            emptied = not want_m and len(have) == len(have_people)
            has_placeholder = placeholder in {m.lower() for m in have}
            groups.append(GroupChange(unit, add, remove, add_placeholder=emptied and not has_placeholder))

    enabled = sum(1 for p in state.people.values() if p.active)
    return Plan(changes=changes, groups=groups, enabled_before=enabled, roster_rows=len(roster.officials),
                eligible=eligible, source_encoding=roster.source_encoding, converted_from=roster.converted_from)


def _disable(p: Person, why: str) -> Change:
    return Change("disable", p.hr_id or "", p.uid, p.unit, p.display_name or p.cn,
                  {"mailEnabled": [True, False], "govAccountState": ["active", "disabled"]}, reason=why)
