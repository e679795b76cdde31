"""The report's parts on their own: log parsing and origins, the administrator rule, forms, roster."""
from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import json
import os

import openpyxl
import pytest

from provisioning.errors import BadInput
from provisioning.model import load_province
from provisioning.report import admins, maillog
from provisioning.report.forms import read_forms, write_xlsx
from provisioning.report.maillog import LogFile, Origins
from provisioning.report.period import Month
from provisioning.report.roster import read_roster

from reportdata import A, B, C, D, run_cli, write_province

NOV30 = dt.datetime(2026, 11, 30, 23, 0)


def _events(text: str, mtime=NOV30, gz=False):
    data = gzip.compress(text.encode()) if gz else text.encode()
    warnings: list[str] = []
    return maillog.events([LogFile("x", data, mtime)], "bentre.gov.vn", warnings), warnings


def test_syslog_dates_take_the_year_of_the_file():
    # a log rotated on 2 January holds late-December lines of the previous year
    evs, _ = _events("Dec 31 23:59:00 imap-login: Info: Login: user=<an>, rip=10.0.0.1, lip=x\n"
                     "Jan  1 00:01:00 imap-login: Info: Login: user=<AN@BenTre.gov.vn>, rip=10.0.0.1, lip=x\n",
                     mtime=dt.datetime(2027, 1, 2, 6, 0))
    assert [(e.when, e.user) for e in evs] == [(dt.datetime(2026, 12, 31, 23, 59), "an"),
                                              (dt.datetime(2027, 1, 1, 0, 1), "an")]


def test_iso_timestamps_ipv6_and_pop3_are_understood():
    evs, _ = _events("2026-11-03 08:00:00 pop3-login: Info: Login: user=<b>, method=PLAIN, rip=::ffff:10.31.1.9, "
                     "lip=::1\n2026-11-03T09:00:00.123+07:00 c postfix/smtps/smtpd[9]: AB12: "
                     "client=x[2001:db8::5], sasl_method=PLAIN, sasl_username=c@bentre.gov.vn\n")
    assert [(e.kind, e.user, e.address) for e in evs] == [("login", "b", "::ffff:10.31.1.9"),
                                                         ("sent", "c", "2001:db8::5")]
    o = Origins({A: [ipaddress.IPv4Network("10.31.1.0/24")]}, ["10.31.0.10", "srv.example"])
    assert [o.origin(e.address) for e in evs] == ["wan", "internet"]
    assert o.origin("127.0.0.1") == o.origin("::1") == o.origin("10.31.0.10") == "webmail"
    assert o.origin("not-an-ip") == "internet"


def test_dovecot_24_logins_count_and_its_aborted_logins_do_not():
    # Dovecot 2.4 (Debian 13) says "Logged in:" where 2.3 said "Login:"; an aborted login is no use
    evs, _ = _events("Nov 20 08:00:00 imap-login: Info: Logged in: user=<annv>, method=PLAIN, rip=10.31.1.9, "
                     "lip=10.31.0.10, mpid=8414, secured, session=<cQRxo9lhsud/AAAB>\n"
                     "Nov 20 08:01:00 imap-login: Info: Login aborted: Connection closed (auth failed, 1 attempts "
                     "in 2 secs) (auth_failed): user=<binhtt>, method=PLAIN, rip=10.31.1.9, lip=10.31.0.10\n"
                     "Nov 20 08:02:00 pop3-login: Info: Logged in: user=<giangvt@bentre.gov.vn>, method=PLAIN, "
                     "rip=10.31.1.7, lip=10.31.0.10\n")
    assert [(e.kind, e.user, e.address) for e in evs] == [("login", "annv", "10.31.1.9"),
                                                         ("login", "giangvt", "10.31.1.7")]


def test_damaged_gzip_keeps_the_lines_before_the_damage():
    lines = "".join(f"Nov {d:2d} 08:00:00 imap-login: Info: Login: user=<u{d}>, rip=10.0.0.1, lip=x\n"
                    for d in range(1, 29))
    data = gzip.compress(lines.encode())
    warnings: list[str] = []
    evs = maillog.events([LogFile("dovecot.log.2.gz", data[: len(data) - 30], NOV30)], "bentre.gov.vn", warnings)
    assert 0 < len(evs) <= 28 and "damaged gzip" in warnings[0] and "dovecot.log.2.gz" in warnings[0]


@pytest.mark.parametrize("qualification, reason", [
    ("Cao đẳng Tin học (chính quy)", "ok"),
    ("Cử nhân Công nghệ thông tin", "ok"),
    ("Kỹ sư CNTT, hệ vừa làm vừa học", "ok"),          # above college: any mode
    ("Thạc sĩ Khoa học máy tính", "ok"),
    ("Bachelor of Information Technology", "ok"),
    ("Cao đẳng Tin học (tại chức)", "not_regular"),
    ("Trung cấp Tin học", "below_college"),
    ("Kỹ sư Điện tử - Viễn thông", "not_it"),
    ("Chứng chỉ A tin học", "below_college"),
    ("Có kinh nghiệm", "level_unknown"),
    (None, "no_qualification"),
])
def test_administrator_qualification_rule(qualification, reason):
    from provisioning.model import Admin, Unit, UnitKind
    unit = Unit(code="X1", name="Sở X", kind=UnitKind.department,
                admin=Admin(name="Đặng Đình Đức", qualification=qualification))
    assert admins.assess(unit).reason == reason
    assert admins.assess(unit).qualified is (reason == "ok")
    assert admins.assess(Unit(code="X2", name="Sở Y", kind=UnitKind.department)).reason == "none_named"


def test_report_form_cli_writes_one_form_per_unit_that_reads_back(tmp_path):
    inv = tmp_path / "rep"
    write_province(inv)
    out = tmp_path / "blank"
    r = run_cli("report", "form", "--month", "2026-11", "-i", str(inv), "--out", str(out),
                env={"PROVISION_DATA": str(tmp_path / "v")})
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{c}.xlsx" for c in (A, B, C, D))
    ws = openpyxl.load_workbook(out / f"{B}.xlsx").active
    assert ws.protection.sheet and ws.column_dimensions["A"].hidden
    assert "trước ngày 25/11/2026" in ws["B2"].value
    rows = {row[0].value: row for row in ws.iter_rows(min_row=5)}
    assert rows["unit_name"][2].value == "Ủy ban nhân dân xã Phú Túc"
    assert rows["trainees"][2].protection.locked is False and rows["unit_code"][2].protection.locked is True
    # an untouched form reads back as the unit's, with nothing reported yet
    forms = read_forms(out, load_province(inv), Month.parse("2026-11"))
    assert set(forms) == {A, B, C, D} and forms[B].values["drafting_signing"] is None
    y = run_cli("report", "form", "--month", "2026-11", "-i", str(inv), "--format", "yaml", "--limit", A,
                "--out", str(tmp_path / "y"), "--lang", "en", env={"PROVISION_DATA": str(tmp_path / "v")})
    assert y.returncode == 0 and [p.name for p in (tmp_path / "y").iterdir()] == [f"{A}.yml"]
    assert "Number of trainees" in (tmp_path / "y" / f"{A}.yml").read_text()


def test_bad_forms_are_refused_naming_file_row_and_field(tmp_path):
    inv = tmp_path / "rep"
    write_province(inv)
    p = load_province(inv)
    forms = tmp_path / "forms"
    path = write_xlsx(forms / "b.xlsx", p, p.units[B], Month.parse("2026-11"), "vi")
    wb = openpyxl.load_workbook(path)
    for row in wb.active.iter_rows(min_row=5):
        if row[0].value == "trainees":
            row[2].value = "mười"
        if row[0].value == "drafting_signing":
            row[2].value = "có lẽ"
    wb.save(path)
    (forms / "a.yml").write_text(f"unit_code: '{A}'\nmonth: '2026-10'\n")
    (forms / "z.yml").write_text("unit_code: '000.00.00.H00'\n")
    with pytest.raises(BadInput) as e:
        read_forms(forms, p, Month.parse("2026-11"))
    msg = str(e.value)
    assert "a.yml: month: the form is for 2026-10" in msg
    assert "b.xlsx: row 11: trainees: 'mười' is not a valid int" in msg
    assert "drafting_signing: 'có lẽ'" in msg
    assert "z.yml: unit_code: unknown unit code '000.00.00.H00'" in msg


def test_a_second_form_for_a_unit_is_refused(tmp_path):
    inv = tmp_path / "rep"
    write_province(inv)
    forms = tmp_path / "forms"
    forms.mkdir()
    for name in ("a1.yml", "a2.yml"):
        (forms / name).write_text(f"unit_code: '{A}'\nsubmitted: 2026-11-24\n")
    with pytest.raises(BadInput, match="a second form for unit"):
        read_forms(forms, load_province(inv), Month.parse("2026-11"))


def test_form_on_the_25th_is_on_time_and_mtime_uses_the_province_timezone(tmp_path):
    inv = tmp_path / "rep"
    write_province(inv)
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "a.yml").write_text(f"unit_code: '{A}'\nsubmitted: 25/11/2026\n")
    (forms / "b.yml").write_text(f"unit_code: '{B}'\n")
    # 25 Nov 18:30 UTC is already 26 Nov 01:30 in Asia/Ho_Chi_Minh: late
    late = dt.datetime(2026, 11, 25, 18, 30, tzinfo=dt.timezone.utc).timestamp()
    os.utime(forms / "b.yml", (late, late))
    got = read_forms(forms, load_province(inv), Month.parse("2026-11"))
    assert (got[A].late, got[A].arrived) == (False, dt.date(2026, 11, 25))
    assert (got[B].late, got[B].arrived, got[B].arrived_from) == (True, dt.date(2026, 11, 26), "mtime")


def test_roster_problems_are_listed_together(tmp_path):
    inv = tmp_path / "rep"
    write_province(inv)
    f = tmp_path / "r.csv"
    f.write_text("Mã cán bộ,Họ,Tên,Mã đơn vị,Dùng máy tính,Trạng thái\n"
                 f"X1,Lê,An,{A},có,Đang công tác\nX1,Lê,Bình,{A},có,Đang công tác\n"
                 "X3,Lê,Cường,000.00.00.H00,maybe,Đang công tác\n", encoding="utf-8")
    with pytest.raises(BadInput) as e:
        read_roster(f, load_province(inv))
    msg = str(e.value)
    assert "row 3, column 'Mã cán bộ': 'X1' duplicate hr_id (also on row 2)" in msg
    assert "row 4, column 'Mã đơn vị': '000.00.00.H00' unknown unit code" in msg
    assert "row 4, column 'Dùng máy tính': 'maybe'" in msg


def test_report_json_of_a_run_is_valid_json_with_vietnamese_text(tmp_path):
    inv = tmp_path / "rep"
    write_province(inv)
    r = run_cli("report", "monthly", "--month", "2026-11", "-i", str(inv), "--offline", "--json",
                env={"PROVISION_DATA": str(tmp_path / "v")})
    data = json.loads(r.stdout)
    assert data["units"][2]["name"] == "Ủy ban nhân dân xã Phú Túc" and data["lang"] == "vi"


def test_bad_report_settings_name_the_key(tmp_path):
    import yaml
    inv = tmp_path / "rep"
    write_province(inv)
    data = yaml.safe_load((inv / "province.yml").read_text())
    data["report"] = {"webmail_hosts": ["10.31.0.999"], "mail_logs": ["var/log/x"], "mail_hosts": ["nope"]}
    (inv / "province.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    r = run_cli("report", "monthly", "--month", "2026-11", "-i", str(inv), "--offline",
                env={"PROVISION_DATA": str(tmp_path / "v")})
    assert r.returncode == 2
    assert "report.webmail_hosts" in r.stderr and "10.31.0.999" in r.stderr and "report.mail_logs" in r.stderr
    data["report"] = {"mail_hosts": ["nope"]}
    (inv / "province.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    r = run_cli("report", "monthly", "--month", "2026-11", "-i", str(inv), "--offline",
                env={"PROVISION_DATA": str(tmp_path / "v")})
    assert r.returncode == 2 and "report.mail_hosts: unknown host(s) nope" in r.stderr


def test_roundcube_login_lines_give_the_officials_own_place(tmp_path):
    from provisioning.report import figures
    from provisioning.report.directory import PersonStatus

    evs, _ = _events(
        "[20-Nov-2026 10:00:00 +0700]: <a1b2c3> Successful login for annv (ID: 3) from 10.31.1.7 in session a1b2c3\n"
        "[21-Nov-2026 10:00:00 +0700]: <d4e5f6> Failed login for binhtt from 203.0.113.9 in session d4e5f6\n"
        "Nov 21 10:00:01 imap-login: Info: Login: user=<binhtt>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1\n")
    assert [(e.kind, e.user, e.address) for e in evs] == [("webmail", "annv", "10.31.1.7"),
                                                         ("login", "binhtt", "127.0.0.1")]
    inv = tmp_path / "rep"
    write_province(inv)
    people = [PersonStatus("annv", A, "A1", True, True), PersonStatus("binhtt", A, "A2", True, True)]
    r = figures.compute(load_province(inv), Month.parse("2026-11"), figures.Inputs(people=people, mail_events=evs), "en")
    a = next(u for u in r.units if u.code == A)
    # annv: webmail, from A's WAN; binhtt: webmail seen only by Dovecot, place unknown
    assert (a.mail_users, a.mail_users_wan, a.mail_users_internet, a.mail_users_webmail) == (2, 1, 0, 2)
