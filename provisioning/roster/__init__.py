"""The HR roster: reading and validating the file HR sends (CSV in UTF-8/UTF-16/legacy 8-bit, XLSX, XLS).

A bottom-floor package: `provision accounts` syncs identities from it and `provision report` counts the
officials on it, so both read it here and agree on who is on it.
"""
from .reader import (DEFAULT_HEADERS, FIELDS, Official, Problem, Roster, RosterError, read_roster)

__all__ = ["DEFAULT_HEADERS", "FIELDS", "Official", "Problem", "Roster", "RosterError", "read_roster"]
