"""The HR roster as the report needs it: per official, the HR id, the unit, and whether they are
*eligible* — the directive's "có nhu cầu và điều kiện làm việc trên máy tính": an active official
(status "Đang công tác") who uses a computer ("Dùng máy tính" = Có).

The file is the same roster `provision accounts` reads (CSV in UTF-8/UTF-16/legacy TCVN3-VNI, or XLSX,
with province.yml `accounts.headers` for extra column names): provisioning.roster parses and validates
it, so both commands agree on who is on it. Officials who left (status "Nghỉ việc",
"Chuyển công tác"...) are not on the month's roster.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..model import Province
from ..roster import read_roster as read_hr_roster


@dataclass(frozen=True)
class RosterEntry:
    hr_id: str
    unit: str
    eligible: bool


def read_roster(path: Path, province: Province) -> list[RosterEntry]:
    """Active officials of the roster; raises BadInput (RosterError) naming every bad row and column."""
    roster = read_hr_roster(path, province.units, province.settings.accounts.headers)
    return [RosterEntry(o.hr_id, o.unit, o.eligible) for o in roster.officials if o.active]
