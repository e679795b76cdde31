"""One real slapd + Dovecot + Postfix for the accounts tests (started once, on loopback), and a
fresh province per test: empty ou=People, the unit groups as the directory role makes them, empty mail
store, empty data directory."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.mailstack import MailStack, start_dovecot, start_postfix, start_slapd, unit_groups_ldif

BASE = "dc=bentre,dc=gov,dc=vn"
DOMAIN = "bentre.gov.vn"
UNITS = {  # code: (name, kind)
    "000.00.01.H09": ("Văn phòng Ủy ban nhân dân tỉnh", "department"),
    "000.01.01.H09": ("Trung tâm Tích hợp dữ liệu tỉnh", "integration_center"),
    "000.00.02.H09": ("Sở Nội vụ", "department"),
    "000.00.03.H09": ("Sở Tài chính", "department"),
    "000.20.01.H09": ("Ủy ban nhân dân phường An Hội", "commune"),
}
VP, TT, SNV, STC, PAH = UNITS
NAMES = {code: name for code, (name, _) in UNITS.items()}


@pytest.fixture(scope="session")
def stack():
    if os.geteuid() != 0:
        pytest.skip("the mail store is owned by vmail (uid 5000): needs root")
    work = Path(tempfile.mkdtemp(prefix="acct-stack-"))
    os.chmod(work, 0o755)  # Dovecot's mail processes (uid 5000) must reach the mail root
    mail_root = work / "vmail"
    mail_root.mkdir()
    os.chmod(mail_root, 0o755)
    slapd = start_slapd(work / "ldap", BASE, NAMES)
    dovecot = postfix = None
    try:
        dovecot = start_dovecot(work / "dovecot", slapd, mail_root)
        postfix = start_postfix(work / "postfix", slapd, dovecot, DOMAIN)
        yield MailStack(slapd, dovecot, postfix, DOMAIN, mail_root, {"work": work})
    finally:
        for svc in (postfix, dovecot, slapd):
            if svc:
                svc.stop()
        shutil.rmtree(work, ignore_errors=True)


def write_inventory(path: Path, stack: MailStack, accounts_extra: str = "") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    units = "\n".join(f"  - {{code: {c}, name: {n}, kind: {k}{', parent: ' + VP if k == 'integration_center' else ''}}}"
                      for c, (n, k) in UNITS.items())
    pwfile = path / "provisioner.pw"
    pwfile.write_text(stack.slapd.passwords["provisioner"])
    os.chmod(pwfile, 0o600)
    (path / "province.yml").write_text(f"""province:
  name: Tỉnh Bến Tre
  mail_domain: {DOMAIN}
  base_dn: {BASE}
units:
{units}
accounts:
  ldap: {{url: "{stack.slapd.url}", starttls: false, password_file: provisioner.pw}}
  mail_store: {{host: local, root: "{stack.mail_root}"}}
  quota_mb: {{default: 1024, positions: {{"Giám đốc": 4096}}}}
{accounts_extra}""", encoding="utf-8")
    (path / "hosts.yml").write_text(f"""all:
  children:
    servers:
      children:
        center_servers:
          hosts:
            tthdl-srv01: {{ansible_host: 127.0.0.1, unit: {TT}}}
""")
    return path


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
    inv = write_inventory(tmp_path / "inventory" / "prov", stack)
    return Env(stack, inv, data, tmp_path)
