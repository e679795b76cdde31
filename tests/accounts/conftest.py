"""One real slapd + Dovecot + Postfix for the accounts tests (started once, on loopback), and a
fresh province per test: empty ou=People, the unit groups as the directory role makes them, empty mail
store, empty data directory."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.mailstack import MailStack, unit_groups_ldif
from fixtures.province_stack import BASE, DOMAIN, NAMES, PAH, SNV, STC, TT, UNITS, VP, mail_stack, write_inventory  # noqa: F401

# the accounts tests give the director a larger mailbox
QUOTA = '  quota_mb: {default: 1024, positions: {"Giám đốc": 4096}}\n'


@pytest.fixture(scope="session")
def stack():
    if os.geteuid() != 0:
        pytest.skip("the mail store is owned by vmail (uid 5000): needs root")
    with mail_stack("acct-stack-") as s:
        yield s


@dataclass
class Env:
    stack: MailStack
    inventory: Path
    data: Path
    tmp: Path


def wipe(stack: MailStack) -> None:
    """Empty ou=People, ou=Groups back to the unit groups the directory role makes, an empty mail store."""
    s = stack.slapd
    for ou in ("People", "Groups"):
        out = subprocess.run(["ldapsearch", "-LLL", "-x", "-H", s.url, "-D", s.admin_dn, "-w", s.admin_password,
                              "-E", "pr=1000/noprompt", "-s", "one", "-b", f"ou={ou},{BASE}", "(objectClass=*)", "1.1"],
                             capture_output=True, text=True, check=True).stdout
        dns = [line[4:] for line in out.splitlines() if line.startswith("dn: ")]
        if dns:
            subprocess.run(["ldapdelete", "-x", "-c", "-H", s.url, "-D", s.admin_dn, "-w", s.admin_password],
                           input="\n".join(dns) + "\n", capture_output=True, text=True)
    s.ldapadd(unit_groups_ldif(BASE, NAMES))
    for child in stack.mail_root.iterdir():
        shutil.rmtree(child)


@pytest.fixture
def env(stack, tmp_path, monkeypatch):
    wipe(stack)
    data = tmp_path / "var"
    monkeypatch.setenv("PROVISION_DATA", str(data))
    inv = write_inventory(tmp_path / "inventory" / "prov", stack, QUOTA)
    return Env(stack, inv, data, tmp_path)
