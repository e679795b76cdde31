"""Identities and mailboxes from the HR roster: plan, apply, joiners/movers/leavers, first passwords.

provisioning.roster (read + validate, shared with the report) -> plan.py (diff against one read of the directory) -> apply.py (ldap3
writes, mailboxes, sheets, journal). service.py holds the jobs the CLI (cli/accounts.py) runs.
"""
