"""Joiners, movers, leavers and first passwords against real slapd, Dovecot and Postfix on loopback."""
from __future__ import annotations

import base64
import json
import os
import smtplib
import stat
import subprocess
import time

import ldap3
import pytest
from acct_helpers import cli, imap_can_login, imap_login, person, send_mail, sheet_passwords, write_roster
from conftest import BASE, DOMAIN, PAH, SNV, STC, TT, VP

from provisioning.accounts import journal as acct_journal
from provisioning.accounts import service
from provisioning.roster import RosterError
from provisioning.errors import BadInput


def apply(env, rows, name="roster.csv", **kw):
    ctx = service.load(env.inventory)
    roster = service.read(ctx, write_roster(env.tmp / name, rows))
    plan, result, run_dir = service.apply(ctx, roster, **kw)
    if result:
        assert result.ok, result.failed
    return plan, result


def people(env, filt="(objectClass=inetOrgPerson)", *attrs):
    """The directory as the admin sees it: {uid: {attr: [values]}}."""
    out = env.stack.slapd.search(f"ou=People,{BASE}", filt, "uid", *attrs, scope="one")
    entries, cur = {}, None
    for line in out.splitlines():
        if line.startswith("dn: "):
            cur = {}
        elif ": " in line and cur is not None:
            k, v = line.split(": ", 1)
            if k.endswith(":"):  # "attr:: base64" for non-ASCII or binary-looking values
                k, v = k[:-1], base64.b64decode(v).decode("utf-8")
            cur.setdefault(k, []).append(v)
            if k == "uid":
                entries[v] = cur
    return entries


def group_members(env, unit):
    """Usernames in the unit's group (empty if the group does not exist)."""
    out = env.stack.slapd.search(f"ou=Groups,{BASE}", f"(cn=unit-{unit})", "member", scope="one")
    return {line.split("=", 1)[1].split(",", 1)[0] for line in out.splitlines()
            if line.startswith("member: ") and line.endswith(f",ou=People,{BASE}")}


def mailbox_complete(env, uid):
    md = env.stack.mail_root / DOMAIN / uid / "Maildir"
    return (md / "subscriptions").is_file()


BASIC = [
    person("CB1", "Nguyễn", "Văn", "An", VP, "Giám đốc"),
    person("CB2", "Trần", "Thị Thu", "Hà", SNV),
    person("CB3", "Lê", "", "Ánh", STC, "Lái xe", computer="Không"),
    person("CB4", "Phạm", "Minh", "Tuấn", PAH, status="Nghỉ hưu"),
]


def test_create_then_second_apply_changes_nothing(env):
    plan, result = apply(env, BASIC)
    assert plan.summary["create"] == 2 and result.done == {"create": 2}
    got = people(env, "(objectClass=inetOrgPerson)", "employeeNumber", "departmentNumber", "mail", "cn",
                 "mailEnabled", "mailQuotaMB", "pwdReset", "userPassword", "memberOf", "govAccountState")
    assert set(got) == {"annv", "hattt"}   # no account for the driver (no computer) nor the retiree
    an = got["annv"]
    assert an["employeeNumber"] == ["CB1"] and an["departmentNumber"] == [VP]
    assert an["mail"] == [f"annv@{DOMAIN}"] and an["mailEnabled"] == ["TRUE"] and an["govAccountState"] == ["active"]
    assert an["mailQuotaMB"] == ["4096"] and got["hattt"]["mailQuotaMB"] == ["1024"]  # quota by position
    assert an["pwdReset"] == ["TRUE"]
    # slapd 2.5's dynlist gives memberOf normalized (lower case), 2.6 as the group's DN is written
    assert [v.lower() for v in an["memberOf"]] == [f"cn=unit-{VP},ou=Groups,{BASE}".lower()]
    assert mailbox_complete(env, "annv") and mailbox_complete(env, "hattt")
    userdb = subprocess.run(["doveadm", "-c", str(env.stack.dovecot.config), "user", "annv"],
                            capture_output=True, text=True, check=True).stdout
    assert env.stack.dovecot.quota_field(4096) in userdb and f"home\t{env.stack.mail_root}/{DOMAIN}/annv" in userdb
    st = os.stat(env.stack.mail_root / DOMAIN / "annv" / "Maildir")
    assert (st.st_uid, st.st_gid) == (5000, 5000)

    again, result2 = apply(env, BASIC)
    assert again.empty and result2 is None


def test_names_are_stored_in_vietnamese_nfc(env):
    apply(env, [person("CB1", "Đặng", "Đình", "Đức", VP)])
    e = people(env, "(uid=ducdd)", "cn", "sn", "givenName", "displayName")
    # ldapsearch prints non-ASCII values base64-encoded ("cn:: ..."); read them through ldap3 instead
    c = ldap3.Connection(env.stack.slapd.url, env.stack.slapd.admin_dn, env.stack.slapd.admin_password, auto_bind=True)
    c.search(f"uid=ducdd,ou=People,{BASE}", "(objectClass=*)", search_scope=ldap3.BASE,
             attributes=["cn", "sn", "givenName", "displayName"])
    a = c.entries[0]
    assert (a.cn.value, a.sn.value, a.givenName.value, a.displayName.value) == \
        ("Đặng Đình Đức", "Đặng", "Đức", "Đặng Đình Đức")
    assert "ducdd" in e


def test_same_name_in_two_units_gets_suffix(env):
    apply(env, [person("CB1", "Nguyễn", "Văn", "An", VP), person("CB2", "Nguyễn", "Văn", "An", SNV)])
    got = people(env, "(objectClass=inetOrgPerson)", "employeeNumber")
    assert {u: v["employeeNumber"][0] for u, v in got.items()} == {"annv": "CB1", "annv2": "CB2"}


def test_mover_and_name_change_keep_dn_username_and_mail(env):
    apply(env, BASIC)
    moved = [list(r) for r in BASIC]
    moved[0][4] = STC                      # Nguyễn Văn An moves to the finance department
    moved[1][1] = "Lê"                     # Trần Thị Thu Hà changes her family name
    plan, _ = apply(env, moved, "r2.csv")
    kinds = {c.uid: (c.action, c.kinds) for c in plan.changes}
    assert kinds == {"annv": ("update", ["move"]), "hattt": ("update", ["rename"])}
    got = people(env, "(objectClass=inetOrgPerson)", "departmentNumber", "mail", "sn", "memberOf")
    assert got["annv"]["departmentNumber"] == [STC] and got["annv"]["mail"] == [f"annv@{DOMAIN}"]
    assert [v.lower() for v in got["annv"]["memberOf"]] == [f"cn=unit-{STC},ou=Groups,{BASE}".lower()]
    assert "annv" in group_members(env, STC)
    assert "hattt" in got  # username unchanged although the initials would now be "hatlt"
    c = ldap3.Connection(env.stack.slapd.url, env.stack.slapd.admin_dn, env.stack.slapd.admin_password, auto_bind=True)
    c.search(f"uid=hattt,ou=People,{BASE}", "(objectClass=*)", search_scope=ldap3.BASE, attributes=["cn", "sn"])
    assert c.entries[0].cn.value == "Lê Thị Thu Hà" and c.entries[0].sn.value == "Lê"
    # the old unit's group had only him: it keeps the placeholder member, as the directory role makes it
    assert group_members(env, VP) == set()
    assert f"member: cn=admin,{BASE}" in env.stack.slapd.search(f"ou=Groups,{BASE}", f"(cn=unit-{VP})", "member")


def test_a_new_mailbox_opens_in_dovecot_with_the_fewest_directories(env):
    """The apply makes the Maildir with its subscriptions file only; at the first login the real Dovecot
    (configured as the mail role configures it) makes INBOX and the folders itself, as the mailbox's
    owner, lists the folders subscribed, opens them and saves into them. The login itself is slapd
    verifying the first password's 1000-round hash (Dovecot binds as the official)."""
    plan, result = apply(env, BASIC[:1])
    md = env.stack.mail_root / DOMAIN / "annv" / "Maildir"
    made = sorted(str(p.relative_to(md)) for p in md.rglob("*"))
    assert made == ["subscriptions"]
    assert people(env, "(uid=annv)", "userPassword")["annv"]["userPassword"][0].startswith("{CRYPT}$6$rounds=1000$")
    imap = imap_login(env.stack.dovecot.imap_port, "annv", sheet_passwords(result.sheets)["annv"])
    try:
        names = {b.decode().rsplit(" ", 1)[-1].strip('"') for b in imap.list()[1]}
        assert {"INBOX", "Sent", "Drafts", "Trash", "Junk"} <= names
        subscribed = {b.decode().rsplit(" ", 1)[-1].strip('"') for b in imap.lsub()[1]}
        assert {"Sent", "Drafts", "Trash", "Junk"} <= subscribed
        for f in ("Sent", "Drafts", "Trash", "Junk"):
            assert imap.select(f)[0] == "OK", f
        assert imap.append("Sent", None, None, "From: annv@{0}\r\nSubject: Báo cáo\r\n\r\nXin chào.\r\n"
                           .format(DOMAIN).encode())[0] == "OK"
        imap.select("Sent")
        assert imap.search(None, "ALL")[1][0] == b"1"
    finally:
        imap.logout()
    for f in ("", ".Sent", ".Drafts", ".Trash", ".Junk"):    # INBOX and the folders
        for sub in ("cur", "new", "tmp"):
            assert (md / f / sub).is_dir() and (md / f / sub).stat().st_uid == 5000, (f, sub)
    assert len(list((md / ".Sent" / "cur").iterdir())) == 1


def test_new_account_logs_in_with_sheet_password_and_receives_mail(env):
    _, result = apply(env, BASIC)
    for f in result.sheets:  # owner-only sheets in an owner-only folder
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(f.parent).st_mode) == 0o700
    pw = sheet_passwords(result.sheets)
    assert set(pw) == {"annv", "hattt"}
    assert len(pw["annv"]) >= 12 and not set(pw["annv"]) & set("0O1lIo")
    send_mail(env.stack.postfix.smtp_port, f"annv@{DOMAIN}")
    # delivered before the official ever logs in: Dovecot's LMTP makes INBOX (the apply made none)
    inbox_new = env.stack.mail_root / DOMAIN / "annv" / "Maildir" / "new"
    for _ in range(100):  # delivery through Postfix -> LMTP is asynchronous
        if inbox_new.is_dir() and any(inbox_new.iterdir()):
            break
        time.sleep(0.1)
    assert inbox_new.is_dir() and len(list(inbox_new.iterdir())) == 1, "not delivered before the first login"
    assert inbox_new.stat().st_uid == 5000
    imap = imap_login(env.stack.dovecot.imap_port, "annv", pw["annv"])
    try:
        _, boxes = imap.list()
        names = {b.decode().rsplit(" ", 1)[-1].strip('"') for b in boxes}
        assert {"INBOX", "Sent", "Drafts", "Trash", "Junk"} <= names
        for _ in range(50):  # delivery through Postfix -> LMTP is asynchronous
            imap.select("INBOX")
            if imap.search(None, "ALL")[1][0]:
                break
            time.sleep(0.1)
        assert imap.search(None, "ALL")[1][0], "the message did not reach the new mailbox"
    finally:
        imap.logout()
    assert not imap_can_login(env.stack.dovecot.imap_port, "annv", pw["annv"] + "x")
    # slapd verifies the same hash (SHA-512-crypt) and flags the first password for change
    c = ldap3.Connection(env.stack.slapd.url, f"uid=annv,ou=People,{BASE}", pw["annv"])
    assert c.bind()
    assert people(env, "(uid=annv)", "userPassword")["annv"]["userPassword"][0].startswith("{CRYPT}$6$")


def test_leaver_cannot_log_in_and_mail_bounces_then_rejoins_with_same_username(env):
    _, result = apply(env, BASIC)
    pw = sheet_passwords(result.sheets)["hattt"]
    port = env.stack.dovecot.imap_port
    assert imap_can_login(port, "hattt", pw)
    left = [list(r) for r in BASIC]
    left[1][7] = "Nghỉ việc"
    plan, _ = apply(env, left, "left.csv")
    assert [(c.action, c.uid) for c in plan.changes] == [("disable", "hattt")]
    got = people(env, "(uid=hattt)", "mailEnabled", "govAccountState", "govDisabledAt", "pwdAccountLockedTime")
    assert got["hattt"]["mailEnabled"] == ["FALSE"] and got["hattt"]["govAccountState"] == ["disabled"]
    assert got["hattt"]["govDisabledAt"][0].endswith("Z")
    assert got["hattt"]["pwdAccountLockedTime"] == ["000001010000Z"]
    assert not imap_can_login(port, "hattt", pw)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        send_mail(env.stack.postfix.smtp_port, f"hattt@{DOMAIN}")
    assert e.value.recipients[f"hattt@{DOMAIN}"][0] == 550
    with smtplib.SMTP("127.0.0.1", env.stack.postfix.smtp_port) as s:  # SMTP AUTH refused as well
        s.ehlo()
        token = base64.b64encode(f"\0hattt\0{pw}".encode()).decode()
        assert s.docmd("AUTH", f"PLAIN {token}")[0] == 535
    c = ldap3.Connection(env.stack.slapd.url, f"uid=hattt,ou=People,{BASE}", pw)  # and LDAP itself
    assert not c.bind()
    assert "hattt" not in group_members(env, SNV)

    plan, result = apply(env, BASIC, "back.csv")
    assert [(c.action, c.uid) for c in plan.changes] == [("enable", "hattt")]
    new_pw = sheet_passwords(result.sheets)["hattt"]
    assert imap_can_login(port, "hattt", new_pw)
    got = people(env, "(uid=hattt)", "mailEnabled", "govDisabledAt", "pwdAccountLockedTime", "memberOf")
    assert got["hattt"]["mailEnabled"] == ["TRUE"] and "govDisabledAt" not in got["hattt"]
    assert "pwdAccountLockedTime" not in got["hattt"] and got["hattt"]["memberOf"]


def test_journal_has_every_change_and_no_password(env):
    _, result = apply(env, BASIC)
    secrets = set(sheet_passwords(result.sheets).values())
    journal = (env.data / env.inventory.name / "accounts" / "journal.jsonl").read_text(encoding="utf-8")
    records = [json.loads(line) for line in journal.splitlines()]
    creates = [r for r in records if r["action"] == "create"]
    assert {r["uid"] for r in creates} == {"annv", "hattt"}
    for r in records:
        assert {"time", "operator", "action", "hr_id", "uid", "unit", "changes"} <= set(r)
    assert creates[0]["changes"]["password"] == "issued"
    assert not any(s in journal for s in secrets) and "$6$" not in journal and "{CRYPT}" not in journal
    run = result.sheets[0].parent.parent
    for f in ("plan.json", "result.json"):
        text = (run / f).read_text(encoding="utf-8")
        assert not any(s in text for s in secrets) and "$6$" not in text


def test_unit_admin_can_modify_only_their_units_people(env):
    apply(env, BASIC)
    s = env.stack.slapd
    s.ldapadd(f"""dn: uid=admin-snv,ou=People,{BASE}
objectClass: inetOrgPerson
uid: admin-snv
cn: Quản trị Sở Nội vụ
sn: Quản trị
userPassword: unit-admin-pw

""")
    # cn=admins-<unit> is the directory role's (the fixture makes it as the role does): add the admin to it
    admin = ldap3.Connection(s.url, s.admin_dn, s.admin_password, auto_bind=True)
    assert admin.modify(f"cn=admins-{SNV},ou=Groups,{BASE}",
                        {"member": [(ldap3.MODIFY_ADD, [f"uid=admin-snv,ou=People,{BASE}"])]})
    c = ldap3.Connection(s.url, f"uid=admin-snv,ou=People,{BASE}", "unit-admin-pw", auto_bind=True)
    assert c.modify(f"uid=hattt,ou=People,{BASE}", {"title": [(ldap3.MODIFY_REPLACE, ["Chuyên viên chính"])]})
    assert not c.modify(f"uid=annv,ou=People,{BASE}", {"title": [(ldap3.MODIFY_REPLACE, ["Bị sửa"])]})
    assert c.result["description"] == "insufficientAccessRights"
    assert not c.modify(f"uid=annv,ou=People,{BASE}", {"userPassword": [(ldap3.MODIFY_REPLACE, ["x"])]})


def test_roster_with_20_defects_reports_all_and_writes_nothing(env):
    from test_roster import broken_rows

    path = write_roster(env.tmp / "bad.csv", broken_rows(VP, SNV))
    r = cli("accounts", "apply", str(path), "-i", str(env.inventory), "--lang", "en", env=env)
    assert r.returncode == 2
    problems = [line for line in r.stderr.splitlines() if line.startswith("  row ")]
    assert len(problems) >= 21 and "nothing was changed" in r.stderr
    assert {p.split(",")[0] for p in problems} == {f"  row {n}" for n in range(2, 24) if n != 3}
    # Vietnamese by default: the same problems, in the officials' language
    vi = cli("accounts", "apply", str(path), "-i", str(env.inventory), env=env)
    assert vi.returncode == 2 and "chưa thay đổi gì" in vi.stderr
    vi_lines = [line for line in vi.stderr.splitlines() if line.startswith("  dòng ")]
    assert len(vi_lines) == len(problems)
    assert any("trùng mã cán bộ (đã có ở dòng 3)" in line for line in vi_lines)
    assert any("bỏ trống họ" in line for line in vi_lines) and not any("duplicate" in line for line in vi_lines)
    j = cli("accounts", "plan", str(path), "-i", str(env.inventory), "--json", env=env)
    assert j.returncode == 2 and len(json.loads(j.stdout)["problems"]) == len(problems)
    assert {"code", "params", "reason", "text"} <= set(json.loads(j.stdout)["problems"][0])
    assert people(env) == {}
    assert not any(env.stack.mail_root.iterdir())
    assert not (env.data / env.inventory.name / "accounts" / "journal.jsonl").exists()
    with pytest.raises(RosterError):
        service.read(service.load(env.inventory), path)


@pytest.mark.parametrize("enc", ["utf-16", "utf-8-sig"])
def test_cli_apply_utf16_and_bom_rosters(env, enc):
    path = write_roster(env.tmp / "r.txt", BASIC, enc, "\t")
    r = cli("accounts", "apply", str(path), "-i", str(env.inventory), "--lang", "en", env=env)
    assert r.returncode == 0, r.stderr
    assert "annv" in r.stdout and "Password sheets" in r.stdout
    assert set(people(env)) == {"annv", "hattt"}
    runs = env.data / env.inventory.name / "accounts" / "runs"
    secrets = sheet_passwords(sorted(runs.glob("*/sheets/*.html")))
    assert len(secrets) == 2 and not any(pw in r.stdout + r.stderr for pw in secrets.values())
    # a password reaches the terminal neither as text nor in --json
    again = cli("accounts", "apply", str(write_roster(env.tmp / "more.txt", BASIC + [person(
        "CB9", "Võ", "Thành", "Nhân", VP)], enc, "\t")), "-i", str(env.inventory), "--json", env=env)
    assert again.returncode == 0, again.stderr
    new = sheet_passwords(sorted(runs.glob("*/sheets/*.html")))["nhanvt"]
    assert json.loads(again.stdout)["result"]["done"] == {"create": 1}
    assert new not in again.stdout + again.stderr and "$6$" not in again.stdout


def test_legacy_tcvn3_and_vni_rosters_end_up_unicode_in_the_directory(env):
    from test_roster import ASCII_HEADERS, TCVN3_ROWS, VNI_ROWS, _legacy_file

    for enc, rows in (("tcvn3", TCVN3_ROWS), ("vni", VNI_ROWS)):
        fixed = [[c if isinstance(c, bytes) else {"U01": VP, "U02": SNV}.get(c, c).encode() for c in r] for r in rows]
        _legacy_file(env.tmp / f"{enc}.csv", fixed, ASCII_HEADERS)
    ctx = service.load(env.inventory)
    service.apply(ctx, service.read(ctx, env.tmp / "tcvn3.csv"))
    c = ldap3.Connection(env.stack.slapd.url, env.stack.slapd.admin_dn, env.stack.slapd.admin_password, auto_bind=True)
    c.search(f"ou=People,{BASE}", "(objectClass=inetOrgPerson)", attributes=["uid", "cn"])
    assert {e.uid.value: e.cn.value for e in c.entries} == {"annv": "Nguyễn Văn An", "ducdd": "Đặng Đình Đức",
                                                             "hattt": "Trần Thị Thu Hà"}
    # the same officials in VNI: nothing to change
    plan = service.make_plan(ctx, service.read(ctx, env.tmp / "vni.csv"))
    assert plan.empty, plan.summary


def test_mass_change_guard(env):
    rows = [person(f"CB{i}", "Nguyễn", "Văn", g, VP) for i, g in enumerate(
        ["An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Hùng", "Khoa", "Long", "Minh"] * 6)]
    apply(env, rows)
    assert len(people(env)) == 60
    truncated = write_roster(env.tmp / "truncated.csv", rows[:10])  # 50 would be disabled; limit is 20
    r = cli("accounts", "apply", str(truncated), "-i", str(env.inventory), env=env)
    assert r.returncode == 2 and "would disable 50 of 60" in r.stderr
    assert all(v["mailEnabled"] == ["TRUE"] for v in people(env, "(uid=*)", "mailEnabled").values())
    ctx = service.load(env.inventory)
    for roster, kw in ((write_roster(env.tmp / "empty.csv", []), {}),           # an empty roster
                       (truncated, {"max_disable": "50"}),                        # raising needs --yes
                       (truncated, {"yes": True, "max_disable": "49"})):          # and enough
        with pytest.raises(BadInput):
            service.apply(ctx, service.read(ctx, roster), **kw)
    assert len([v for v in people(env, "(uid=*)", "mailEnabled").values() if v["mailEnabled"] == ["TRUE"]]) == 60
    r = cli("accounts", "apply", str(truncated), "-i", str(env.inventory), "--yes", "--max-disable", "90%", env=env)
    assert r.returncode == 0, r.stderr
    enabled = [u for u, v in people(env, "(uid=*)", "mailEnabled").items() if v["mailEnabled"] == ["TRUE"]]
    assert len(enabled) == 10


def test_slapd_killed_mid_apply_then_second_apply_converges(env):
    rows = [person(f"CB{i:05d}", f, m, g, u) for i, (f, m, g, u) in enumerate(
        (f, m, g, u) for f in ("Nguyễn", "Trần", "Lê", "Phạm", "Võ") for m in ("Văn", "Thị", "Minh", "Thu Hồng")
        for g in ("An", "Bình", "Hà", "Lan", "Tâm", "Vy", "Sơn", "Đức", "Hùng", "Ngọc", "Khoa", "Yến", "Nam", "Quý",
                  "Mai")
        for u in (VP, SNV, STC, PAH))]
    assert len(rows) == 1200
    path = write_roster(env.tmp / "big.csv", rows)
    s = env.stack.slapd
    proc = subprocess.Popen([*cli.argv("accounts", "apply", str(path), "-i", str(env.inventory))],
                            env={**os.environ, "PROVISION_DATA": str(env.data)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # wait until the apply is writing entries, then kill slapd
            if s.search(f"ou=People,{BASE}", "(objectClass=inetOrgPerson)", "1.1", scope="one").count("dn:") >= 60:
                break
            time.sleep(0.02)
        s.kill()
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
        s.start()
    assert proc.returncode == 1, (out, err)
    created = len(people(env))
    assert 60 <= created < 1200
    r = cli("accounts", "apply", str(path), "-i", str(env.inventory), env=env)
    assert r.returncode == 0, r.stderr
    got = people(env, "(objectClass=inetOrgPerson)", "employeeNumber")
    hr_ids = [v["employeeNumber"][0] for v in got.values()]
    assert len(hr_ids) == 1200 and len(set(hr_ids)) == 1200          # no duplicate, nobody missing
    assert all(mailbox_complete(env, uid) for uid in got)            # no account without a mailbox
    assert sum(len(group_members(env, u)) for u in (VP, SNV, STC, PAH)) == 1200
    assert service.make_plan(service.load(env.inventory), service.read(service.load(env.inventory), path)).empty
    # every account has its current password on some sheet: at most those whose add answer was lost
    # were re-issued
    runs = env.data / env.inventory.name / "accounts" / "runs"
    pw = sheet_passwords(sorted(runs.glob("*/sheets/*.html")))
    assert set(pw) == set(got)


def test_reset_password_and_purge_keep_the_username_reserved(env):
    apply(env, BASIC)
    r = cli("accounts", "reset-password", "annv", "-i", str(env.inventory), env=env)
    assert r.returncode == 0, r.stderr
    sheet = r.stdout.strip().splitlines()[-1].strip()
    new = sheet_passwords([__import__("pathlib").Path(sheet)])["annv"]
    assert new not in r.stdout and imap_can_login(env.stack.dovecot.imap_port, "annv", new)

    left = [list(BASIC[1])]
    apply(env, left + [person("CB1", "Nguyễn", "Văn", "An", VP, status="Nghỉ việc")], "left.csv")
    # --dry-run names who would go and touches nothing
    r = cli("accounts", "purge", "-i", str(env.inventory), "--older-than", "0", "--dry-run", env=env)
    assert r.returncode == 0, r.stderr
    assert "Sẽ xóa 1 tài khoản" in r.stdout and "annv" in r.stdout.split()
    assert "annv" in people(env) and (env.stack.mail_root / DOMAIN / "annv").exists()
    r = cli("accounts", "purge", "-i", str(env.inventory), "--older-than", "0", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["purged"] == ["annv"]
    assert "annv" not in people(env) and not (env.stack.mail_root / DOMAIN / "annv").exists()
    # a newcomer with the same name does not get the purged username...
    plan, _ = apply(env, left + [person("CB9", "Nguyễn", "Văn", "An", SNV),
                                 person("CB1", "Nguyễn", "Văn", "An", VP, status="Nghỉ việc")], "new.csv")
    assert [(c.action, c.uid) for c in plan.changes] == [("create", "annv2")]
    # ...and the official who comes back after the purge gets it again
    plan, _ = apply(env, left + [person("CB9", "Nguyễn", "Văn", "An", SNV),
                                 person("CB1", "Nguyễn", "Văn", "An", TT)], "back.csv")
    assert [(c.action, c.uid) for c in plan.changes] == [("create", "annv")]
    assert mailbox_complete(env, "annv")


def test_show_lists_entry_and_history_without_secrets(env):
    apply(env, BASIC)
    r = cli("accounts", "show", "CB1", "-i", str(env.inventory), "--json", env=env)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["entry"]["uid"] == ["annv"] and "userPassword" not in info["entry"]
    assert [h["action"] for h in info["history"]] == ["create"]
    assert cli("accounts", "show", "nobody", "-i", str(env.inventory), env=env).returncode == 2
    # a photo added by another tool is binary: --json shows it as base64 instead of failing
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    admin = ldap3.Connection(env.stack.slapd.url, env.stack.slapd.admin_dn, env.stack.slapd.admin_password,
                             auto_bind=True)
    assert admin.modify(info["entry"]["dn"], {"jpegPhoto": [(ldap3.MODIFY_REPLACE, [photo])]}), admin.result
    admin.unbind()
    r = cli("accounts", "show", "annv", "-i", str(env.inventory), "--json", env=env)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)["entry"]["jpegPhoto"]
    assert base64.b64decode((got[0] if isinstance(got, list) else got).removeprefix("base64:")) == photo
    assert cli("accounts", "show", "annv", "-i", str(env.inventory), env=env).returncode == 0


def test_groups_made_by_the_directory_role_keep_their_placeholder(env):
    # the fixture made every unit's group as the directory role does: only the placeholder member
    before = env.stack.slapd.search(f"ou=Groups,{BASE}", f"(cn=unit-{SNV})", "member")
    assert f"member: cn=admin,{BASE}" in before and group_members(env, SNV) == set()
    apply(env, BASIC)
    assert group_members(env, SNV) == {"hattt"}
    assert service.make_plan(service.load(env.inventory), service.read(service.load(env.inventory),
                                                                       env.tmp / "roster.csv")).empty
    left = [list(r) for r in BASIC]
    left[1][7] = "Nghỉ việc"
    apply(env, left, "left.csv")
    out = env.stack.slapd.search(f"ou=Groups,{BASE}", f"(cn=unit-{SNV})", "member")
    assert group_members(env, SNV) == set() and f"member: cn=admin,{BASE}" in out


def test_plan_changes_nothing_and_saves_the_plan(env):
    path = write_roster(env.tmp / "r.csv", BASIC)
    out = env.tmp / "plan-out"
    r = cli("accounts", "plan", str(path), "-i", str(env.inventory), "--out", str(out), "--lang", "en", env=env)
    assert r.returncode == 0, r.stderr
    assert "2 to create" in r.stdout and "annv" in r.stdout
    saved = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert [(c["action"], c["uid"]) for c in saved["changes"]] == [("create", "annv"), ("create", "hattt")]
    assert people(env) == {} and not any(env.stack.mail_root.iterdir())
    assert not (env.data / env.inventory.name / "accounts" / "journal.jsonl").exists()


def test_accounts_never_create_a_unit_group_the_directory_role_owns_them(env):
    """A unit whose group is missing (added to province.yml after the last deploy): its officials get their
    accounts, the group failure says what to do, nothing creates the group; once the role has made it, the
    next apply adds the members."""
    admin = ldap3.Connection(env.stack.slapd.url, env.stack.slapd.admin_dn, env.stack.slapd.admin_password,
                             auto_bind=True)
    group_dn = f"cn=unit-{SNV},ou=Groups,{BASE}"
    role_made = env.stack.slapd.search(group_dn, "(objectClass=*)", "*", scope="base")
    assert admin.delete(group_dn)
    ctx = service.load(env.inventory)
    plan, result, _ = service.apply(ctx, service.read(ctx, write_roster(env.tmp / "roster.csv", BASIC)))
    assert [g.unit for g in plan.groups if g.missing] == [SNV]
    assert not result.ok and [(f.action, f.uid) for f in result.failed] == [("group", f"unit-{SNV}")]
    assert "provision deploy --tags directory" in result.failed[0].error and result.error
    assert "hattt" in people(env) and "annv" in group_members(env, VP)
    assert not admin.search(group_dn, "(objectClass=*)", search_scope=ldap3.BASE) and admin.result["result"] == 32

    env.stack.slapd.ldapadd("\n".join(line for line in role_made.splitlines() if line) + "\n")
    plan, result = apply(env, BASIC, "again.csv")
    assert result and result.ok and [(g.unit, g.missing) for g in plan.groups] == [(SNV, False)]
    assert group_members(env, SNV) == {"hattt"}


def test_slapd_killed_during_groups_journals_only_the_groups_really_changed(env):
    """The directory dies after the first unit group was changed: the journal has that group, with
    the members really added, and no other; the next apply converges and journals the rest."""
    units = (VP, SNV, STC, PAH)
    rows = [person(f"CB{i:04d}", "Nguyễn", m, g, units[i % 4]) for i, (m, g) in enumerate(
        (m, g) for m in ("Văn", "Thị", "Minh", "Thu Hồng", "Quốc")
        for g in ("An", "Bình", "Hà", "Lan", "Tâm", "Vy", "Sơn", "Đức", "Hùng", "Ngọc", "Khoa", "Yến"))]
    ctx = service.load(env.inventory)
    roster = service.read(ctx, write_roster(env.tmp / "groups.csv", rows))
    s = env.stack.slapd
    phases = []

    def progress(step):
        phases.append(step.phase)
        if step.phase == "groups" and step.done == 1:
            s.kill()  # the first unit's group is in place, the others not yet
    try:
        plan, result, _ = service.apply(ctx, roster, progress=progress)
    finally:
        s.start()
    assert "groups" in phases and not result.ok
    assert result.done == {"create": 60} and len(plan.groups) == 4
    journal = acct_journal.read(env.inventory)
    groups = {r["unit"]: r["changes"] for r in journal if r["action"] == "group"}
    first = plan.groups[0].unit
    assert set(groups) == {first}, groups                        # nothing journaled that was not done
    assert groups[first]["member_added"] == len(group_members(env, first)) == 15
    assert {f.uid for f in result.failed} == {f"unit-{u}" for u in units if u != first}
    assert sum(len(group_members(env, u)) for u in units) == 15
    # the next apply adds the missing members and journals exactly those
    plan2, result2, _ = service.apply(ctx, roster)
    assert result2.ok and plan2.count("create") == 0
    added: dict[str, int] = {}
    for r in acct_journal.read(env.inventory):
        if r["action"] == "group":
            added[r["unit"]] = added.get(r["unit"], 0) + r["changes"]["member_added"]
    assert added == {u: len(group_members(env, u)) for u in units} == {u: 15 for u in units}
    assert service.make_plan(ctx, roster).empty
