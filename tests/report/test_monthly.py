"""The monthly report's figures against numbers counted by hand from the fixture (reportdata.py).

Hand count, November 2026 (units C = center, A = Sở Tư pháp, B = xã Phú Túc, D = Sở Giáo dục):
- roster: A 5 active officials / 4 eligible (A5 does not use a computer; A6 retired: not on the
  roster), B 3 / 2 (B3 "không"), D 2 / 2, C 1 / 1 -> 11 / 9.
- directory: A has a1, a2, a5 with mailboxes, a3 active without mailbox, a9 a leaver -> accounts 4,
  mailboxes 3, eligible with a mailbox 2 (A1, A2; A3 has none, A4 no account, A5 not eligible);
  B 2/2/2, D 1/1/1, C 1/1/1 -> accounts 8, mailboxes 7, eligible with mailbox 6/9 = 0.6667.
- mail use (logs over SSH): a1 IMAP from A's WAN + sent from 203.0.113.7 (wan, internet); a2 IMAP from
  B's WAN, in the rotated .gz (wan); b1 from 127.0.0.1 (webmail); d1@domain from 198.51.100.9
  (internet) and sent from the webmail host 10.31.0.10 (webmail). Not counted: a5 (auth failed), b2
  (October), a9 (leaver, no mailbox), postmaster (unknown user: 1), a line without timestamp, a file
  whose name is not a log's. A 2/3 = 0.6667 (wan 2, internet 1), B 1/2 = 0.5 (webmail 1),
  D 1/1 (internet 1, webmail 1), C 0/1 -> 4/7 = 0.5714, wan 2, internet 2, webmail 2.
- audit: latest of November is the 20th: A 2 of 3 meet (pass, warn; October: 1 of 3 -> +0.3333), B 1 of
  2 (one unreachable counts as not meeting), C 1/1, a unit no longer in the province ignored
  -> 4/6 = 0.6667 (October 2/4 -> +0.1667).
- verify: C ldap ok, mail failing (imap) -> 1/2; A 2/2; B dns ok, web failing -> 1/2; -> 4/6.
- forms: A (YAML, submitted 20/11) on time, drafting yes, 2 sessions/15 trainees; B (XLSX, no date,
  file dated 27/11) late, 1/4; C, D missing -> drafting 1/4 = 0.25, training 3/19.
- administrators: C master's in computer science, A "Cao đẳng Tin học (chính quy)" qualified; B none;
  D "Trung cấp" below college -> 2/4 = 0.5.
"""
from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from xml.etree import ElementTree

import openpyxl
import pytest

from provisioning.logstore import StoreUse
from provisioning.model import load_province
from provisioning.report import figures, monthly, outputs
from provisioning.report.directory import PersonStatus as Person
from provisioning.report.period import Month

from reportdata import (A, B, C, D, MONTH, NAMES, ROSTER, run_cli, sshd, write_forms, write_logs,  # noqa: F401
                        write_province, write_runs)

PEOPLE = [Person("a1", A, "A1", True, True), Person("a2", A, "A2", True, True), Person("a3", A, "A3", True, False),
          Person("a5", A, "A5", True, True), Person("a9", A, "A9", False, False), Person("b1", B, "B1", True, True),
          Person("b2", B, "B2", True, True), Person("d1", D, "D1", True, True), Person("c1", C, "C1", True, True)]


@pytest.fixture
def built(tmp_path, monkeypatch, sshd):  # noqa: F811  (the sshd fixture, imported above)
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    logs, inv = tmp_path / "remote-logs", tmp_path / "rep"
    write_logs(logs)
    write_province(inv, sshd, logs)
    data = tmp_path / "var" / "rep"
    write_runs(data)
    province = load_province(inv)
    write_forms(data / "report" / MONTH / "forms", province)
    (tmp_path / "roster.csv").write_text(ROSTER.format(A=A, B=B, C=C, D=D), encoding="utf-8")
    for month, value in (("2026-09", None), ("2026-10", 0.5), ("2026-12", 0.9)):
        d = data / "report" / month
        d.mkdir(parents=True, exist_ok=True)
        (d / "report.json").write_text("{" if value is None else json.dumps(
            {"month": month, "summary": {"mailbox_ratio": value, "mail_use_ratio": 0.25}}))
    when = Month.parse(MONTH)
    inputs = monthly.gather(province, when, roster=tmp_path / "roster.csv")   # mail logs over real SSH
    assert not inputs.failed
    inputs.people = PEOPLE          # the directory as LDAP would return it (read_people: test_directory.py)
    report = figures.compute(province, when, inputs, "vi")
    files = outputs.write(report, monthly.report_dir(province, when))
    return report, files, inputs


def test_figures_match_the_hand_count(built):
    _, files, inputs = built
    assert all(name.startswith("c-srv01:") for name in inputs.sources["mail_logs"])
    assert len(inputs.sources["mail_logs"]) == 4            # dovecot.log, .1, .2.gz, mail.log
    r = json.loads(files["report.json"].read_text(encoding="utf-8"))
    units = {u["code"]: u for u in r["units"]}
    pick = lambda code, *keys: tuple(units[code][k] for k in keys)  # noqa: E731
    people = ("on_roster", "eligible", "accounts", "mailboxes", "eligible_with_mailbox", "mailbox_ratio")
    assert pick(A, *people) == (5, 4, 4, 3, 2, 0.5)
    assert pick(B, *people) == (3, 2, 2, 2, 2, 1.0)
    assert pick(D, *people) == (2, 2, 1, 1, 1, 0.5)
    assert pick(C, *people) == (1, 1, 1, 1, 1, 1.0)
    mail = ("mail_users", "mail_users_wan", "mail_users_internet", "mail_users_webmail", "mail_use_ratio")
    assert pick(A, *mail) == (2, 2, 1, 0, 0.6667)
    assert pick(B, *mail) == (1, 0, 0, 1, 0.5)
    assert pick(D, *mail) == (1, 0, 1, 1, 1.0)
    assert pick(C, *mail) == (0, 0, 0, 0, 0.0)
    hw = ("hosts", "hosts_audited", "hosts_meeting", "hardware_ratio", "hardware_ratio_prev", "hardware_change")
    assert pick(A, *hw) == (3, 3, 2, 0.6667, 0.3333, 0.3333)
    assert pick(B, *hw) == (2, 1, 1, 0.5, None, None)
    assert pick(C, *hw) == (1, 1, 1, 1.0, 1.0, 0.0)
    assert pick(D, *hw) == (0, 0, 0, None, None, None)
    assert pick(C, "services_deployed", "services_passing", "services_ratio", "failing_checks") == (
        ["ldap", "mail"], ["ldap"], 0.5, ["c-srv01: mail/imap"])
    assert pick(A, "services_ratio")[0] == 1.0 and pick(B, "services_ratio")[0] == 0.5
    assert pick(D, "services_deployed", "services_ratio") == ([], None)
    assert pick(A, "form_status", "form_arrived", "form_arrived_from", "drafting_signing", "software",
                "software_other", "training_sessions", "trainees") == (
        "on_time", "2026-11-20", "submitted", True, ["sw_legal_docs", "sw_documents"], "Phần mềm một cửa", 2, 15)
    assert pick(B, "form_status", "form_arrived", "form_arrived_from", "drafting_signing", "software") == (
        "late", "2026-11-27", "mtime", False, ["sw_documents"])
    assert pick(C, "form_status")[0] == pick(D, "form_status")[0] == "missing"
    assert [units[c]["admin_reason"] for c in (C, A, B, D)] == ["ok", "ok", "none_named", "below_college"]

    s = r["summary"]
    assert (s["on_roster"], s["eligible"], s["accounts"], s["mailboxes"], s["eligible_with_mailbox"],
            s["mailbox_ratio"]) == (11, 9, 8, 7, 6, 0.6667)
    assert (s["mail_users"], s["mail_users_wan"], s["mail_users_internet"], s["mail_users_webmail"],
            s["mail_users_unknown"], s["mail_use_ratio"]) == (4, 2, 2, 2, 1, 0.5714)
    assert (s["hosts"], s["hosts_audited"], s["hosts_meeting"], s["hardware_ratio"], s["hardware_ratio_prev"],
            s["hardware_change"]) == (6, 5, 4, 0.6667, 0.5, 0.1667)
    assert (s["services_deployed"], s["services_passing"], s["services_ratio"]) == (6, 4, 0.6667)
    assert (s["forms_on_time"], s["forms_late"], s["forms_missing"], s["drafting_units"], s["drafting_ratio"],
            s["training_sessions"], s["trainees"]) == (1, 1, 2, 1, 0.25, 3, 19)
    assert (s["admin_named"], s["admin_qualified"], s["admin_ratio"]) == (3, 2, 0.5)
    assert {t["key"]: (t["value"], t["target"], t["met"]) for t in r["targets"]} == {
        "mailbox_ratio": (0.6667, 1.0, False), "mail_use_ratio": (0.5714, 0.5, True),
        "drafting_ratio": (0.25, 0.3, False), "admin_ratio": (0.5, 1.0, False)}
    # trend: October's report (September's is damaged, December's is later), then this month
    assert [(p["month"], p["mailbox_ratio"]) for p in r["trend"]] == [("2026-10", 0.5), ("2026-11", 0.6667)]
    assert r["has_data"] is True


def test_pdf_shows_vietnamese_unit_names(built):
    _, files, _ = built
    text = subprocess.run(["pdftotext", "-layout", str(files["report.pdf"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    text = unicodedata.normalize("NFC", text)
    for name in NAMES.values():
        assert name in text, name
    for s in ("BÁO CÁO TIẾN ĐỘ TRIỂN KHAI", "Trễ hạn", "NGƯỜI LẬP BÁO CÁO", "THỦ TRƯỞNG ĐƠN VỊ",
              "57,1%", "Bến Tre, ngày"):
        assert s in text, s
    fonts = subprocess.run(["pdffonts", str(files["report.pdf"])], capture_output=True, text=True).stdout
    assert "DejaVu" in fonts and "Helvetica" not in fonts


def test_xlsx_holds_the_same_numbers(built):
    report, files, _ = built
    wb = openpyxl.load_workbook(files["report.xlsx"])
    assert len(wb.sheetnames) == 8

    def table(ws):
        header = [c.value for c in ws[3]]
        return header, {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=4, values_only=True) if r[0]}

    _, accounts = table(wb.worksheets[1])
    a = accounts[NAMES[A]]
    assert (a["Trong danh sách"], a["Đủ điều kiện"], a["Tài khoản"], a["Hộp thư"], a["Đủ ĐK có hộp thư"],
            a["Tỷ lệ có hộp thư"]) == (5, 4, 4, 3, 2, 0.5)
    assert accounts["Tổng cộng"]["Tỷ lệ có hộp thư"] == 0.6667
    header, mail = table(wb.worksheets[2])
    assert (mail[NAMES[A]]["Có sử dụng thư"], mail[NAMES[A]]["Tỷ lệ sử dụng"]) == (2, 0.6667)
    total = mail["Tổng cộng"]
    assert (total["Hộp thư"], total["Có sử dụng thư"], total["Mạng diện rộng"], total["Internet"], total["Webmail"],
            total["Tỷ lệ sử dụng"]) == (7, 4, 2, 2, 2, 0.5714)
    assert wb.worksheets[2].cell(row=4, column=header.index("Tỷ lệ sử dụng") + 1).number_format == "0.0%"
    summary = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(min_row=4, values_only=True) if r[0]}
    assert summary["Đơn vị soạn thảo, trình ký văn bản trên mạng"] == 0.25
    assert wb.worksheets[0].page_setup.fitToWidth == 1


def test_html_has_charts_and_tables(built):
    _, files, _ = built
    html = files["report.html"].read_text(encoding="utf-8")
    assert html.count("<svg") == 3 and "<script" not in html
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):     # every chart is well-formed XML
        root = ElementTree.fromstring(svg)
        assert root.tag.endswith("svg") and len(root) > 3
    assert NAMES[B] in html and "66,7%" in html and "Trễ hạn" in html


def test_month_without_data_is_a_clear_statement(tmp_path):
    inv = tmp_path / "rep"
    write_province(inv)
    env = {"PROVISION_DATA": str(tmp_path / "var")}
    r = run_cli("report", "monthly", "--month", "2026-03", "-i", str(inv), "--offline", env=env)
    assert r.returncode == 0, r.stderr
    assert "Chưa có dữ liệu nào cho tháng 03/2026" in r.stdout
    out = tmp_path / "var" / "rep" / "report" / "2026-03"
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["has_data"] is False and data["summary"]["mailbox_ratio"] is None
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.pdf", "report.xlsx"]
    en = run_cli("report", "monthly", "--month", "2026-03", "-i", str(inv), "--offline", "--lang", "en",
                 "--out", str(tmp_path / "en"), env=env)
    assert en.returncode == 0 and "No data at all for March 2026" in en.stdout
    assert "PROGRESS REPORT" in (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    pdf = subprocess.run(["pdftotext", str(tmp_path / "en" / "report.pdf"), "-"], capture_output=True, text=True)
    assert "PEOPLE'S COMMITTEE OF BẾN TRE PROVINCE" in " ".join(unicodedata.normalize("NFC", pdf.stdout).split())


@pytest.mark.parametrize("args, message", [
    (["--month", "2026-13"], "expected YYYY-MM"),
    (["--month", "2026-11", "--lang", "fr"], "unsupported language"),
    (["--month", "2026-11", "--roster", "missing.csv"], "missing.csv: 1 problem(s), nothing was changed"),
    (["--month", "2026-11", "--logs", "no-such-dir"], "--logs no-such-dir: no such directory"),
    (["--month", "2026-11", "--forms", "no-such-dir"], "--forms no-such-dir: no such directory"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, args, message):
    inv = tmp_path / "rep"
    write_province(inv)
    r = run_cli("report", "monthly", "-i", str(inv), "--offline", *args, env={"PROVISION_DATA": str(tmp_path / "v")})
    assert r.returncode == 2 and message in r.stderr
    assert not list((tmp_path / "v").rglob("report.*"))


def test_unreachable_mail_server_still_writes_the_report_and_exits_1(tmp_path):
    inv = tmp_path / "rep"
    write_province(inv)    # the center server at 127.0.0.1:22 with no key given
    (inv / "hosts.yml").write_text((inv / "hosts.yml").read_text().replace(
        "ansible_host: 127.0.0.1", "ansible_host: 127.0.0.1\n          ansible_port: 1"))
    r = run_cli("report", "monthly", "--month", "2026-11", "-i", str(inv), env={"PROVISION_DATA": str(tmp_path / "v")})
    assert r.returncode == 1 and "not collected" in r.stderr and "c-srv01" in r.stderr
    data = json.loads((tmp_path / "v" / "rep" / "report" / "2026-11" / "report.json").read_text())
    assert any("c-srv01" in n for n in data["notices"])


def test_english_report_goes_beside_the_vietnamese_one_not_over_it(tmp_path):
    inv = tmp_path / "rep"
    write_province(inv)
    env = {"PROVISION_DATA": str(tmp_path / "v")}
    month_dir = tmp_path / "v" / "rep" / "report" / "2026-11"
    r = run_cli("report", "monthly", "--month", "2026-11", "-i", str(inv), "--offline", env=env)
    assert r.returncode == 0, r.stderr
    vi = (month_dir / "report.json").read_bytes()
    r = run_cli("report", "monthly", "--month", "2026-11", "-i", str(inv), "--offline", "--lang", "en", env=env)
    assert r.returncode == 0, r.stderr
    assert (month_dir / "report.json").read_bytes() == vi
    assert json.loads(vi)["lang"] == "vi"
    assert json.loads((month_dir / "en" / "report.json").read_text(encoding="utf-8"))["lang"] == "en"
    assert "Báo cáo" in (month_dir / "report.html").read_text(encoding="utf-8")


def test_forms_submitted_on_the_console_are_copied_from_the_center(tmp_path, monkeypatch, sshd):  # noqa: F811
    """The console keeps a submitted form in its own data folder on the center; `report monthly` on the
    control machine copies it over SSH (real sshd, where the console's published fact says) and counts
    it; the next run copies nothing; a form submitted again replaces the copy."""
    import datetime as dt

    from provisioning.report import console_forms, forms as report_forms

    inv, logs = tmp_path / "rep", tmp_path / "no-logs"
    logs.mkdir()
    write_province(inv, sshd, logs)
    province = load_province(inv)
    month = Month.parse(MONTH)
    center, control = tmp_path / "center-data", tmp_path / "var"

    def submit_on_center(sessions: int) -> None:
        monkeypatch.setenv("PROVISION_DATA", str(center))     # the console's data folder on the center
        form, problems = report_forms.submit(province, month, province.units[D], {
            "reporter": "Huỳnh Thị Mỹ Linh", "training_sessions": str(sessions), "trainees": "12",
            "drafting_signing": "Có"}, today=dt.date(2026, 11, 21))
        assert form and not problems
        monkeypatch.setenv("PROVISION_DATA", str(control))

    def gather():
        inputs = monthly.gather(province, month)
        assert not inputs.failed, inputs.failed
        return inputs

    submit_on_center(3)
    # the center without the console: nothing to copy, and not a failure
    monkeypatch.setattr(console_forms, "FACT", str(tmp_path / "absent.fact"))
    inputs = gather()
    assert D not in inputs.forms and "console_forms" not in inputs.sources
    fact = tmp_path / "console.fact"
    fact.write_text(json.dumps({"url": "https://console.bentre.gov.vn/", "report_dir": str(center / "rep" / "report")}))
    monkeypatch.setattr(console_forms, "FACT", str(fact))
    inputs = gather()
    assert inputs.sources["console_forms"] == ["c-srv01: 1 copied, 0 unchanged"]
    local = control / "rep" / "report" / MONTH / "forms" / f"{D}.yml"
    assert local.is_file()
    assert inputs.forms[D].values["training_sessions"] == 3 and not inputs.forms[D].late
    report = figures.compute(province, month, inputs, "vi")
    assert report.summary.forms_on_time == 1 and report.summary.forms_missing == 3
    assert gather().sources["console_forms"] == ["c-srv01: 0 copied, 1 unchanged"]       # idempotent
    submit_on_center(5)
    inputs = gather()
    assert inputs.sources["console_forms"] == ["c-srv01: 1 copied, 0 unchanged"]
    assert inputs.forms[D].values["training_sessions"] == 5
    # a fact from before the console published where its forms are: said, not guessed
    fact.write_text(json.dumps({"url": "https://console.bentre.gov.vn/"}))
    inputs = monthly.gather(province, month)
    assert len(inputs.failed) == 1 and "report_dir" in inputs.failed[0] and "--tags console" in inputs.failed[0]


def test_a_central_log_store_past_its_threshold_is_a_notice(tmp_path):
    inv = tmp_path / "rep"
    write_province(inv)
    province, when = load_province(inv), Month.parse(MONTH)
    full = figures.Inputs(log_store=StoreUse("c-srv01", "/var/log/central", 91, 80, 180))
    notices = figures.compute(province, when, full, "vi").notices
    assert ("Cảnh báo: kho nhật ký tập trung /var/log/central trên c-srv01 đã dùng 91% dung lượng đĩa "
            "(ngưỡng cảnh báo 80%). Cần giải phóng dung lượng hoặc mở rộng đĩa.") in notices
    en = figures.compute(province, when, full, "en").notices
    assert any("central log store /var/log/central on c-srv01 is 91% full (warning at 80%)" in n for n in en)
    below = figures.Inputs(log_store=StoreUse("c-srv01", "/var/log/central", 79, 80, 180))
    assert not any("log store" in n or "kho nhật ký" in n for n in
                   figures.compute(province, when, below, "en").notices + figures.compute(province, when, below, "vi").notices)
