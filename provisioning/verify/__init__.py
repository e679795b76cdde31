"""`provision verify`: check every deployed service from outside, as a user would.

The checks run on this machine and talk to the servers over the network (directory, SMTP, IMAP, DNS,
HTTPS, NTP, SMB, proxy, webmail). Over SSH (transport.ssh, the province's host-key policy) verify reads
only what the roles published on each server (/etc/ansible/facts.d/<role>.fact: share name, proxy
port, CA path...), the provincial CA from the center (transport.ca), and runs the unit's Samba sync and
the backup list. Every TLS connection is verified against that CA and the service name; verification
is never disabled. Revocation is checked once, by checks/pki.py: the CA's CRL fetched over plain HTTP
from the center (signature, nextUpdate) and the serial of every certificate the TLS listeners serve.

  context.py   the run's context: province, servers, CA, secrets, the probe mailbox, SSH to a server
  probes.py    the clients (SMTP, IMAP, HTTP(S), LDAP, DNS, NTP, SMB, proxy, a small browser)
  checks/      one module per service, each exporting its checks
  run.py       the center's and the units' check lists, composed explicitly; the run and its results

Results: a list of `Check` (host, unit, service, check, ok, detail), saved as
`var/<inventory>/verify/<run>.json`: {"run": {"started", "finished", "inventory"}, "checks": [...]}.
"""
from .run import CENTER_CHECKS, UNIT_CHECKS, Check, VerifyRun, verify

__all__ = ["CENTER_CHECKS", "UNIT_CHECKS", "Check", "VerifyRun", "verify"]
