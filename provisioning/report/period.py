"""The reporting month, and the directive's deadline: units report "before the 25th of every month"."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..errors import BadInput

DEADLINE_DAY = 25
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        m = _MONTH.match(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise BadInput(f"--month {text!r}: expected YYYY-MM, e.g. 2026-11")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def deadline(self) -> dt.date:
        """A form that arrived on or before this day is on time; the 26th or later is late."""
        return dt.date(self.year, self.month, DEADLINE_DAY)

    def prev(self) -> "Month":
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def contains(self, day: dt.date | dt.datetime) -> bool:
        return (day.year, day.month) == (self.year, self.month)
