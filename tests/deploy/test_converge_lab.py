"""A deploy stopped right after a configuration change (the controller killed, as a crash or Ctrl-C
would) loses its pending handlers; the next deploy must still restart what runs an old configuration
(roles check plugins/modules/applied_config.py's record at their start).

The center's Postfix and Dovecot are first made to run a configuration of their own (a banner that
says "stale"); the deploy rewrites both files and is killed when the Dovecot file's change arrives,
before any handler. Dovecot then still runs the stale configuration and Postfix's master was not
restarted (Postfix's short-lived smtpd processes read main.cf anew, so its banner alone proves
nothing: the master's process id does); the next deploy restarts both although it finds the files
already in place."""
from __future__ import annotations

import imaplib
import os
import signal
import smtplib

import pytest

from provisioning.deploy.runner import deploy

pytestmark = [pytest.mark.lab, pytest.mark.slow]

STALE = "stale configuration"


def banners(address: str) -> tuple[str, str]:
    smtp = smtplib.SMTP(timeout=20)
    try:
        _, greeting_bytes = smtp.connect(address, 25)
        greeting = greeting_bytes.decode()
    finally:
        smtp.close()
    imap = imaplib.IMAP4(address, 143, timeout=20)
    try:
        welcome = imap.welcome.decode()
    finally:
        imap.shutdown()
    return greeting, welcome


def postfix_master(lab, host: str) -> str:
    """The running Postfix master's process id (a restart changes it, a reload does not)."""
    return lab.ssh(host, "tr -d ' ' </var/spool/postfix/pid/master.pid", check=True).stdout.strip()


def own_ansible_playbook() -> int:
    """The ansible-playbook process this test started (ansible-runner's child), by its parent's id."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == os.getpid() and name.startswith("ansible-playboo"):
            return int(entry)
    raise AssertionError("no ansible-playbook child of this process")


def test_the_deploy_after_an_interrupted_one_restarts_what_runs_an_old_configuration(deployed_lab):
    lab, center = deployed_lab.lab, deployed_lab.center
    assert STALE not in " ".join(banners(center.address))
    # daemons started over SSH must not keep the session's output open
    lab.ssh(center.name, f"echo 'smtpd_banner = $myhostname ESMTP {STALE}' >> /etc/postfix/main.cf && "
                         f"echo 'login_greeting = {STALE}' >> /etc/dovecot/dovecot.conf && "
                         "(service postfix restart && service dovecot restart) >/dev/null 2>&1 </dev/null", check=True)
    smtp_greeting, imap_welcome = banners(center.address)
    assert STALE in smtp_greeting and STALE in imap_welcome
    stale_master = postfix_master(lab, center.name)

    killed: list[int] = []
    before: dict[str, int] = {}

    def kill_after_the_dovecot_change(step) -> None:
        """At the task's start remember the count of changes; kill when the task itself changed."""
        st = step.result
        if killed or step.item != center.name or st.task != "Dovecot settings":
            return
        before.setdefault("changed", st.tasks_changed)
        if st.tasks_changed > before["changed"]:
            pid = own_ansible_playbook()
            killed.append(pid)
            os.killpg(pid, signal.SIGKILL)    # ansible-runner runs it in its own session

    interrupted = deploy(deployed_lab.inventory, on_progress=kill_after_the_dovecot_change)
    assert killed and interrupted.rc != 0
    # the files are the deploy's again, the services were not restarted: Dovecot still runs the stale one
    conf = lab.ssh(center.name, "cat /etc/postfix/main.cf /etc/dovecot/dovecot.conf", check=True).stdout
    assert STALE not in conf
    _, imap_welcome = banners(center.address)
    assert STALE in imap_welcome
    assert postfix_master(lab, center.name) == stale_master

    again = deploy(deployed_lab.inventory)
    assert again.rc == 0, again.error
    c = next(h for h in again.hosts if h.host == center.name)
    assert c.tasks_changed > 0
    smtp_greeting, imap_welcome = banners(center.address)
    assert STALE not in smtp_greeting and STALE not in imap_welcome
    assert postfix_master(lab, center.name) != stale_master
    # converged: nothing pending any more
    pending = lab.ssh(center.name, "ls /var/lib/provision/applied", check=True).stdout.split()
    assert {"postfix", "dovecot", "opendkim", "slapd", "named", "nginx-portal"} <= set(pending)
