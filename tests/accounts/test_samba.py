"""The NT hash of the unit file shares (sambaSamAccount) is written with every password the accounts
code sets, against the real slapd of the fixture with the role's Samba schema, and the fileshare role's
own sync (roles/fileshare/files/provision-smb-sync) picks the officials up, or leaves them out."""
from __future__ import annotations

import datetime as dt
import importlib.machinery
import importlib.util
import json
import os
from pathlib import Path

import ldap3
import pytest
from acct_helpers import cli, person, sheet_passwords
from conftest import BASE, SNV, VP
from test_lifecycle import BASIC, apply

from provisioning import smb
from provisioning.accounts import passwords, service
from provisioning.accounts.apply import person_ops
from provisioning.accounts.plan import Change

ROOT = Path(__file__).resolve().parents[2]
SYNC = ROOT / "roles" / "fileshare" / "files" / "provision-smb-sync"
SAMBA_ATTRS = ["objectClass", "sambaSID", "sambaNTPassword", "sambaAcctFlags", "sambaPwdLastSet", "userPassword"]
ENABLED_FLAGS = "[U          ]"


def entry(env, uid: str) -> dict[str, list[str]]:
    """The entry's password and Samba attributes, read as the directory admin (raw text values)."""
    s = env.stack.slapd
    c = ldap3.Connection(ldap3.Server(s.url, get_info=ldap3.NONE), s.admin_dn, s.admin_password, auto_bind=True)
    try:
        c.search(f"uid={uid},ou=People,{BASE}", "(objectClass=*)", search_scope=ldap3.BASE, attributes=SAMBA_ATTRS)
        attrs = c.response[0]["attributes"]
        return {k: [v.decode() if isinstance(v, bytes) else str(v) for v in vals] for k, vals in attrs.items() if vals}
    finally:
        c.unbind()


def assert_hash_of(env, uid: str, password: str) -> dict[str, list[str]]:
    e = entry(env, uid)
    assert "sambaSamAccount" in e["objectClass"], e["objectClass"]
    assert e["sambaNTPassword"] == [smb.nt_hash(password)]
    assert passwords.verify(password, e["userPassword"][0])  # the very password the hash belongs to
    assert e["sambaSID"][0].startswith(smb.domain_sid(BASE) + "-")
    assert e["sambaAcctFlags"] == [ENABLED_FLAGS] and len(ENABLED_FLAGS) == 13
    return e


def strip_samba(env, uid: str) -> None:
    """Make the entry look like one created before the accounts code wrote NT hashes."""
    s = env.stack.slapd
    c = ldap3.Connection(ldap3.Server(s.url, get_info=ldap3.NONE), s.admin_dn, s.admin_password, auto_bind=True)
    have = entry(env, uid)
    mods = {a: [(ldap3.MODIFY_DELETE, [])] for a in SAMBA_ATTRS[1:-1] if a in have}
    mods["objectClass"] = [(ldap3.MODIFY_DELETE, ["sambaSamAccount"])]
    assert c.modify(f"uid={uid},ou=People,{BASE}", mods), c.result
    c.unbind()
    assert "sambaSamAccount" not in entry(env, uid)["objectClass"]


def no_hash_in(text: str, *hashes: str) -> bool:
    return not any(h.upper() in text.upper() for h in hashes)


def test_new_officials_get_the_nt_hash_of_their_first_password(env):
    _, result = apply(env, BASIC)
    pw = sheet_passwords(result.sheets)
    assert set(pw) == {"annv", "hattt"}
    a, h = assert_hash_of(env, "annv", pw["annv"]), assert_hash_of(env, "hattt", pw["hattt"])
    assert a["sambaNTPassword"] != h["sambaNTPassword"] and a["sambaSID"] != h["sambaSID"]
    # no NT hash in the journal, the plan or the result of the run
    run = result.sheets[0].parent.parent
    for f in (env.data / env.inventory.name / "accounts" / "journal.jsonl", run / "plan.json", run / "result.json"):
        assert no_hash_in(f.read_text(encoding="utf-8"), a["sambaNTPassword"][0], h["sambaNTPassword"][0]), f


@pytest.mark.parametrize("legacy", [False, True], ids=["samba-entry", "entry-without-samba"])
def test_reset_password_changes_password_and_nt_hash_together(env, legacy):
    _, result = apply(env, BASIC)
    old = sheet_passwords(result.sheets)["annv"]
    if legacy:
        strip_samba(env, "annv")
    r = cli("accounts", "reset-password", "annv", "-i", str(env.inventory), env=env)
    assert r.returncode == 0, r.stderr
    new = sheet_passwords([Path(r.stdout.strip().splitlines()[-1].strip())])["annv"]
    assert new != old
    e = assert_hash_of(env, "annv", new)
    assert not passwords.verify(old, e["userPassword"][0]) and e["sambaNTPassword"] != [smb.nt_hash(old)]
    journal = (env.data / env.inventory.name / "accounts" / "journal.jsonl").read_text(encoding="utf-8")
    assert no_hash_in(r.stdout + r.stderr + journal, e["sambaNTPassword"][0]) and new not in r.stdout + journal
    assert json.loads(journal.splitlines()[-1])["action"] == "reset-password"
    # `show` prints neither the password hash nor the NT hash (the provisioner can read both)
    s = cli("accounts", "show", "annv", "-i", str(env.inventory), "--json", env=env)
    assert s.returncode == 0, s.stderr
    shown = json.loads(s.stdout)["entry"]
    assert "sambaSamAccount" in shown["objectClass"]
    assert not {"userPassword", "sambaNTPassword", "sambaLMPassword"} & set(shown)
    assert no_hash_in(s.stdout, e["sambaNTPassword"][0]) and "$6$" not in s.stdout


@pytest.mark.parametrize("legacy", [False, True], ids=["samba-entry", "entry-without-samba"])
def test_rejoining_official_gets_the_nt_hash_of_the_new_password(env, legacy):
    _, result = apply(env, BASIC)
    first = sheet_passwords(result.sheets)["hattt"]
    left = [list(r) for r in BASIC]
    left[1][7] = "Nghỉ việc"
    apply(env, left, "left.csv")
    assert entry(env, "hattt")["sambaNTPassword"] == [smb.nt_hash(first)]  # kept, but the sync skips it
    if legacy:
        strip_samba(env, "hattt")
    plan, result = apply(env, BASIC, "back.csv")
    assert [(c.action, c.uid, c.samba_account) for c in plan.changes] == [("enable", "hattt", not legacy)]
    assert_hash_of(env, "hattt", sheet_passwords(result.sheets)["hattt"])


def test_reissued_first_password_gets_its_nt_hash(env):
    _, result = apply(env, BASIC)
    first = sheet_passwords(result.sheets)["annv"]
    # the create of annv never reached the journal (the apply that made it was interrupted)
    jpath = env.data / env.inventory.name / "accounts" / "journal.jsonl"
    lines = [ln for ln in jpath.read_text(encoding="utf-8").splitlines() if json.loads(ln)["uid"] != "annv"]
    jpath.write_text("\n".join(lines) + "\n", encoding="utf-8")
    plan, result = apply(env, BASIC, "again.csv")
    assert [(c.action, c.uid, c.samba_account) for c in plan.changes] == [("reissue", "annv", True)]
    new = sheet_passwords(result.sheets)["annv"]
    assert new != first
    assert_hash_of(env, "annv", new)


def load_sync(monkeypatch, env, unit: str, tmp: Path):
    """The fileshare role's sync script, reading the fixture's slapd as it reads a unit's replica
    (bound as the replicator; without StartTLS, which the loopback fixture does not offer)."""
    loader = importlib.machinery.SourceFileLoader("provision_smb_sync", str(SYNC))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    real_sh = mod.sh
    monkeypatch.setattr(mod, "sh", lambda cmd, **kw: real_sh([a for a in cmd if a != "-ZZ"], **kw))
    s = env.stack.slapd
    secret = tmp / "replicator.pw"
    secret.write_text(s.passwords["replicator"])  # ldapsearch -y: the whole file, no newline
    os.chmod(secret, 0o600)
    cfg = {"ldap_uri": s.url, "bind_dn": s.service_dn("replicator"), "secret_file": str(secret),
           "group_dn": f"cn=unit-{unit},ou=Groups,{BASE}", "people_dn": f"ou=People,{BASE}"}
    return lambda: mod.wanted(cfg)


def change_password(env, uid: str, old: str) -> str:
    """The official changes the first password as webmail and the console do (Password Modify extended
    operation; the directory's smbk5pwd overlay writes the NT hash with it)."""
    new = f"Doi-mat-khau-{uid}-{os.urandom(3).hex()}!"
    c = ldap3.Connection(env.stack.slapd.url, f"uid={uid},ou=People,{BASE}", old, auto_bind=True)
    assert c.extend.standard.modify_password(old_password=old, new_password=new), c.result
    c.unbind()
    return new


def test_file_share_sync_takes_joiners_and_drops_leavers(env, monkeypatch):
    rows = BASIC + [person("CB5", "Võ", "Thành", "Nhân", SNV)]
    _, result = apply(env, rows)
    pw = sheet_passwords(result.sheets)
    wanted = load_sync(monkeypatch, env, SNV, env.tmp)
    # straight after the apply: first passwords (pwdReset) open no share until changed
    assert wanted() == {}
    pw = {uid: change_password(env, uid, p) for uid, p in pw.items()}
    assert wanted() == {"hattt": smb.nt_hash(pw["hattt"]), "nhanvt": smb.nt_hash(pw["nhanvt"])}
    assert load_sync(monkeypatch, env, VP, env.tmp)() == {"annv": smb.nt_hash(pw["annv"])}
    left = [list(r) for r in rows]
    left[1][7] = "Nghỉ việc"
    apply(env, left, "left.csv")
    # disabled and locked: the sync deletes the Samba account, though the entry keeps its NT hash
    e = entry(env, "hattt")
    assert e["sambaNTPassword"][0].upper() == smb.nt_hash(pw["hattt"])
    assert wanted() == {"nhanvt": smb.nt_hash(pw["nhanvt"])}
    _, result = apply(env, rows, "back.csv")
    back = sheet_passwords(result.sheets)["hattt"]
    assert wanted() == {"nhanvt": smb.nt_hash(pw["nhanvt"])}  # back on a first password: not yet
    back = change_password(env, "hattt", back)
    assert wanted() == {"hattt": smb.nt_hash(back), "nhanvt": smb.nt_hash(pw["nhanvt"])}


def test_a_password_never_goes_without_its_nt_hash(env):
    ctx = service.load(env.inventory)
    c = Change("create", "CB1", "annv", VP, "Nguyễn Văn An")
    with pytest.raises(ValueError):
        person_ops(c, ctx.target, ctx.store, "x", "{CRYPT}$6$x$y", dt.datetime.now())
