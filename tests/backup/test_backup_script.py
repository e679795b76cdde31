"""The servers' backup script (roles/backup/files/provision-backup), run here on temporary directories:
snapshot contents and counts, atomic snapshots, retention, mailbox restore, refused input. The
directory part (slapcat/slapadd) is tested for real in tests/deploy/test_ops_lab.py."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.backup import ops
from provisioning.errors import BadInput
from provisioning.smb import nt_hash
from tests.conftest import EXAMPLE, ROOT

SCRIPT = ROOT / "roles" / "backup" / "files" / "provision-backup"
DOMAIN = "bentre.gov.vn"


@pytest.fixture
def server(tmp_path):
    """A fake server: a mail store with two mailboxes, an /etc, settings pointing at them."""
    vmail = tmp_path / "vmail"
    for uid, n in (("annv", 3), ("binhtt", 2)):
        for i in range(n):
            d = vmail / DOMAIN / uid / "Maildir" / ("cur" if i % 2 else "new")
            d.mkdir(parents=True, exist_ok=True)
            (d / f"17000000{i}.M{i}P1.mail,S=10").write_text(f"Subject: thư {i}\n\nNội dung\n", encoding="utf-8")
    etc = tmp_path / "etc"
    (etc / "postfix").mkdir(parents=True)
    (etc / "postfix" / "main.cf").write_text("myhostname = mail\n")
    cfg = {"dir": str(tmp_path / "backups"), "keep_days": 14, "keep_min": 3, "base_dn": "dc=bentre,dc=gov,dc=vn",
           "ldap_config_dir": str(tmp_path / "no-slapd"), "mail_dir": str(vmail), "paths": [str(etc)]}
    (tmp_path / "backup.json").write_text(json.dumps(cfg))
    return tmp_path


def backup(server: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env={**os.environ, "PROVISION_BACKUP_CONFIG": str(server / "backup.json")}, timeout=60)


def test_snapshot_holds_mail_and_configuration_with_counts_and_checksums(server):
    r = backup(server, "run")
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert set(m["parts"]) == {"vmail.tar.gz", "etc.tar.gz"}          # no slapd on this "server"
    assert m["parts"]["vmail.tar.gz"]["messages"] == 5
    snap = server / "backups" / m["snapshot"]
    assert oct(os.stat(server / "backups").st_mode & 0o777) == "0o700"
    listed = subprocess.run(["tar", "-tzf", str(snap / "etc.tar.gz")], capture_output=True, text=True).stdout
    assert "postfix/main.cf" in listed
    import hashlib
    assert hashlib.sha256((snap / "vmail.tar.gz").read_bytes()).hexdigest() == m["parts"]["vmail.tar.gz"]["sha256"]
    assert not list((server / "backups").glob(".partial-*"))
    r = backup(server, "run", "--if-none")
    assert json.loads(r.stdout) == {"skipped": True}


def test_retention_keeps_recent_and_the_newest_few(server):
    root = server / "backups"
    old = [(dt.datetime.now() - dt.timedelta(days=d)).strftime("%Y-%m-%dT%H-%M-%S") for d in (40, 30, 20, 1)]
    for stamp in old:
        (root / stamp).mkdir(parents=True)
        (root / stamp / "manifest.json").write_text("{}")
    (root / ".partial-2020-01-01T00-00-00").mkdir()       # a crashed run
    m = json.loads(backup(server, "run").stdout)
    # 14 days: the 40/30/20-day-old ones may go, but 3 snapshots always stay: the newest old one survives.
    assert m["removed"] == old[:2]
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == sorted([old[2], old[3], m["snapshot"]])
    assert not (root / ".partial-2020-01-01T00-00-00").exists()


def test_a_deleted_mailbox_comes_back_and_newer_mail_stays(server):
    snap = json.loads(backup(server, "run").stdout)["snapshot"]
    box = server / "vmail" / DOMAIN / "annv"
    subprocess.run(["rm", "-rf", str(box)], check=True)
    newer = server / "vmail" / DOMAIN / "binhtt" / "Maildir" / "new" / "1800000000.M9P9.mail"
    newer.write_text("Subject: sau sao lưu\n\n")
    r = backup(server, "restore", "--from", "latest", "--what", "mail", "--mailbox", f"annv@{DOMAIN}")
    assert r.returncode == 0, r.stderr
    done = json.loads(r.stdout)
    assert done["snapshot"] == snap and done["mail"]["messages"] == 3
    assert len(list(box.glob("Maildir/*/*"))) == 3
    assert newer.exists()


@pytest.mark.parametrize("args, message", [
    (["restore", "--from", "2001-01-01T00-00-00", "--what", "mail"], "no snapshot"),
    (["restore", "--from", "latest", "--what", "etc"], "--what"),
    (["restore", "--from", "latest", "--what", "mail", "--mailbox", "../../etc"], "--mailbox"),
])
def test_script_refuses_bad_requests(server, args, message):
    backup(server, "run")
    r = backup(server, *args)
    assert r.returncode == 1 and message in r.stderr and not r.stdout


@pytest.mark.parametrize("kwargs, message", [
    ({"host": "tthdl-srv01", "snapshot": "yesterday", "what": ["ldap"]}, "--from"),
    ({"host": "tthdl-srv01", "snapshot": "latest", "what": ["etc"]}, "--what"),
    ({"host": "tthdl-srv01", "snapshot": "latest", "what": ["mail"], "mailbox": "annv"}, "--mailbox"),
    ({"host": "no-such-host", "snapshot": "latest", "what": ["mail"]}, "no-such-host"),
])
def test_restore_command_refuses_bad_input_before_any_connection(kwargs, message):
    with pytest.raises(BadInput, match=message):
        ops.restore(EXAMPLE, **kwargs)


def test_nt_hash_matches_the_published_values():
    assert nt_hash("password") == "8846F7EAEE8FB117AD06BDD830B7586C"
    assert nt_hash("") == "31D6CFE0D16AE931B73C59D7E0C089C0"
    # Non-ASCII passwords are hashed as UTF-16LE, like Windows does.
    assert nt_hash("Mật khẩu") != nt_hash("Mat khau") and len(nt_hash("Mật khẩu")) == 32
