"""The monthly progress report on the directive: per unit and for the province.

Modules, in the order data flows:
  period.py    the month and the 25th-of-the-month deadline
  roster.py    eligible officials per unit (HR roster file)
  directory.py accounts and mailboxes per unit (LDAP, ou=People)
  collect.py   mail server logs over SSH (or a local directory); maillog.py parses and classifies them
  runs.py      latest audit and verify runs of the month
  forms.py     the unit form: blank forms out, filled forms in, late or on time
  admins.py    the network administrator qualification rule
  figures.py   the figures and the directive's targets; monthly.py gathers inputs
  views.py     the report's tables; outputs.py writes JSON, HTML, XLSX and PDF
"""
from . import messages  # noqa: F401  (registers the report's texts)
