#!/usr/bin/python
"""Ansible module `applied_config`: has a service taken up its configuration files?

A handler notified by a configuration change is lost when the deploy stops before the end of the play
(a failing task or handler, a killed run, a dropped connection): the next deploy finds the files
already in place, changes nothing and notifies nothing, and the service keeps running the old
configuration. This module makes the state visible on the server itself: after a service has been
restarted or reloaded with its configuration, a handler records it (`state: recorded` touches
/var/lib/provision/applied/<service>); at the start of its role, `state: checked` compares that
record with the configuration files and reports `changed` when a file is newer, so that the task
notifies the service's handler again. The check is idempotent (nothing pending: no change) and
converges whatever stopped the previous run, including a restart that failed.

A server that never recorded a service (deployed before this record existed) counts as pending once
when the configuration files exist: one restart, then the record exists.
"""
from __future__ import annotations

import glob
import os

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: applied_config
short_description: Report a service whose configuration changed after its last restart; record restarts
options:
  service:
    description: Name of the record (the service), a file under I(record_dir).
    required: true
    type: str
  paths:
    description: Configuration files (glob patterns allowed) the service reads; used with state=checked.
    type: list
    elements: str
    default: []
  state:
    description: C(checked) reports changed when a file is newer than the record; C(recorded) writes the record.
    choices: [checked, recorded]
    default: checked
    type: str
  record_dir:
    description: Where the records live.
    default: /var/lib/provision/applied
    type: str
"""

EXAMPLES = r"""
- name: Restart dovecot if a previous deploy changed its configuration without restarting it
  applied_config:
    service: dovecot
    paths: [/etc/dovecot/dovecot.conf, /etc/dovecot/dovecot-ldap.conf.ext]
  notify: Restart dovecot

# in handlers/main.yml, after the handler that restarts the service:
- name: Record that dovecot runs its configuration
  applied_config:
    service: dovecot
    state: recorded
  listen: Restart dovecot
"""

RETURN = r"""
pending:
  description: The files newer than the record (state=checked).
  type: list
  returned: always
"""


def newer_files(paths: list[str], record_ns: int | None) -> list[str]:
    """The existing files among `paths` changed after the record (all of them when there is none)."""
    found: list[str] = []
    for pattern in paths:
        for path in sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]:
            try:
                mtime = os.stat(path).st_mtime_ns
            except FileNotFoundError:
                continue
            if record_ns is None or mtime > record_ns:
                found.append(path)
    return found


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "service": {"type": "str", "required": True},
            "paths": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["checked", "recorded"], "default": "checked"},
            "record_dir": {"type": "str", "default": "/var/lib/provision/applied"},
        },
        supports_check_mode=True,
    )
    service = module.params["service"]
    if not service or "/" in service or service.startswith("."):
        module.fail_json(msg=f"applied_config: service {service!r} is not a plain name")
    record = os.path.join(module.params["record_dir"], service)

    if module.params["state"] == "recorded":
        # Bookkeeping after the handler did its work: the handler itself is the change.
        if not module.check_mode:
            os.makedirs(module.params["record_dir"], mode=0o755, exist_ok=True)
            with open(record, "a", encoding="utf-8"):
                pass
            os.utime(record)
        module.exit_json(changed=False, pending=[])

    try:
        record_ns: int | None = os.stat(record).st_mtime_ns
    except FileNotFoundError:
        record_ns = None
    pending = newer_files(module.params["paths"], record_ns)
    module.exit_json(
        changed=bool(pending),
        pending=pending,
        msg=(f"{service}: configuration changed after the last restart: {', '.join(pending)}"
             if pending else f"{service}: running its configuration"),
    )


if __name__ == "__main__":
    main()
