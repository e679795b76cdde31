"""A small province with hand-countable inputs for the monthly report (data for test_monthly.py), and
a real OpenSSH server on loopback serving its mail server's logs (fixture `sshd`).

Units (codes *.H99): the integration center C, Sở Tư pháp (A), UBND xã Phú Túc (B), Sở Giáo dục (D).
Every figure the tests expect is derived in the comments of test_monthly.py from the data here."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

C, A, B, D = "000.01.01.H99", "000.00.05.H99", "000.20.02.H99", "000.00.06.H99"
NAMES = {C: "Trung tâm Tích hợp dữ liệu tỉnh", A: "Sở Tư pháp", B: "Ủy ban nhân dân xã Phú Túc",
         D: "Sở Giáo dục và Đào tạo"}
MONTH = "2026-11"


def _ts(y, mo, d, h=9) -> float:
    return dt.datetime(y, mo, d, h, 0).timestamp()


def write_logs(logs: Path) -> None:
    """Dovecot and Postfix logs with known uses (see test_monthly.py for the expected counts)."""
    logs.mkdir(parents=True, exist_ok=True)
    dovecot = [
        "Nov 20 08:01:02 imap-login: Info: Login: user=<a1>, method=PLAIN, rip=10.31.1.20, lip=10.31.0.10, "
        "mpid=101, TLS, session=<abc>",
        "Nov 20 08:05:00 imap-login: Info: Disconnected (auth failed, 1 attempts in 2 secs): user=<a5>, "
        "method=PLAIN, rip=10.31.1.21, lip=10.31.0.10, TLS",
        "Nov 21 10:00:00 imap(a1)<101><abc>: Info: Disconnected: Logged out in=10 out=500",
        "Nov 22 11:00:00 imap-login: Info: Login: user=<postmaster>, method=PLAIN, rip=127.0.0.1, "
        "lip=127.0.0.1, mpid=7",
        "Nov 23 12:00:00 imap-login: Info: Login: user=<d1@bentre.gov.vn>, method=PLAIN, rip=198.51.100.9, "
        "lip=10.31.0.10, mpid=9, TLS",
        "no timestamp here imap-login: Info: Login: user=<zz>, method=PLAIN, rip=203.0.113.50, lip=x",
    ]
    dovecot1 = [
        "Nov 10 09:00:00 imap-login: Info: Login: user=<b1>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=5",
        "Nov 10 09:30:00 imap-login: Info: Login: user=<a9>, method=PLAIN, rip=10.31.1.30, lip=10.31.0.10, mpid=6",
    ]
    dovecot2 = [  # rotated and compressed: spans the month boundary
        "Oct 30 14:00:00 imap-login: Info: Login: user=<b2>, method=PLAIN, rip=10.31.2.40, lip=10.31.0.10, mpid=3",
        "Nov  2 07:45:00 imap-login: Info: Login: user=<a2>, method=PLAIN, rip=10.31.2.41, lip=10.31.0.10, mpid=4",
    ]
    mail = [
        "Nov 20 09:00:00 c-srv01 postfix/submission/smtpd[2001]: 3F2A1C0: client=unknown[203.0.113.7], "
        "sasl_method=PLAIN, sasl_username=a1",
        "Nov 20 09:00:01 c-srv01 postfix/cleanup[2002]: 3F2A1C0: message-id=<x@bentre.gov.vn>",
        "Nov 24 16:00:00 c-srv01 postfix/submission/smtpd[2003]: 4A1B2C3: client=c-srv01[10.31.0.10], "
        "sasl_method=LOGIN, sasl_username=d1",
        "Nov 24 16:00:05 c-srv01 postfix/smtpd[2004]: 5B2C3D4: client=mx.example[192.0.2.1]",
    ]
    (logs / "dovecot.log").write_text("\n".join(dovecot) + "\n")
    (logs / "dovecot.log.1").write_text("\n".join(dovecot1) + "\n")
    (logs / "dovecot.log.2.gz").write_bytes(gzip.compress(("\n".join(dovecot2) + "\n").encode()))
    (logs / "mail.log").write_text("\n".join(mail) + "\n")
    (logs / "mail.log.old-notes.txt").write_text("Nov 20 09:00:00 x postfix/submission/smtpd[1]: Q: "
                                                 "client=a[203.0.113.99], sasl_username=c1\n")  # not a log name
    for name, when in (("dovecot.log", _ts(2026, 11, 30)), ("dovecot.log.1", _ts(2026, 11, 15)),
                       ("dovecot.log.2.gz", _ts(2026, 11, 3)), ("mail.log", _ts(2026, 11, 30))):
        os.utime(logs / name, (when, when))


ROSTER = """Mã cán bộ,Họ,Tên đệm,Tên,Mã đơn vị,Chức vụ,Dùng máy tính,Trạng thái
A1,Nguyễn,Văn,An,{A},Chuyên viên,Có,Đang công tác
A2,Trần,Thị,Bình,{A},Chuyên viên,có,Đang công tác
A3,Lê,Văn,Cường,{A},Chuyên viên,Có,Đang công tác
A4,Phạm,Thị,Dung,{A},Chuyên viên,Có,Đang công tác
A5,Hoàng,Văn,Em,{A},Tài xế,Không,Đang công tác
A6,Vũ,Văn,Phúc,{A},Chuyên viên,Có,Nghỉ hưu
B1,Đặng,Đình,Đức,{B},Chủ tịch,x,Đang công tác
B2,Võ,Thị,Giang,{B},Công chức,yes,active
B3,Bùi,Văn,Hải,{B},Bảo vệ,không,Đang công tác
D1,Ngô,Thị Hồng,Nhung,{D},Chuyên viên,1,Đang công tác
D2,Huỳnh,Văn,Khoa,{D},Chuyên viên,true,Đang công tác
C1,Nguyễn,Văn,Hùng,{C},Kỹ sư,Có,Đang công tác
"""


def write_province(inv: Path, ssh=None, logs: Path | None = None) -> None:
    inv.mkdir(parents=True, exist_ok=True)
    report = {"webmail_hosts": ["10.31.0.10"]}
    if logs:
        report["mail_logs"] = [str(logs / "dovecot.log*"), str(logs / "mail.log*")]
    province = {
        "province": {"name": "Tỉnh Bến Tre", "mail_domain": "bentre.gov.vn", "base_dn": "dc=bentre,dc=gov,dc=vn"},
        "units": [
            {"code": C, "name": NAMES[C], "kind": "integration_center", "wan": ["10.31.0.0/24"],
             "admin": {"name": "Nguyễn Văn Hùng", "qualification": "Thạc sĩ Khoa học máy tính"}},
            {"code": A, "name": NAMES[A], "kind": "department", "wan": ["10.31.1.0/24"],
             "admin": {"name": "Trần Minh Đức", "qualification": "Cao đẳng Tin học (chính quy)"}},
            {"code": B, "name": NAMES[B], "kind": "commune", "wan": ["10.31.2.0/24"]},
            {"code": D, "name": NAMES[D], "kind": "department", "wan": ["10.31.3.0/24"],
             "admin": {"name": "Huỳnh Thị Mỹ Linh", "qualification": "Trung cấp Tin học"}},
        ],
        "report": report,
    }
    center = {"ansible_host": "127.0.0.1", "unit": C}
    if ssh:
        center.update({"ansible_port": ssh.port, "ansible_ssh_private_key_file": str(ssh.client_key),
                       "ansible_ssh_common_args": f"-o UserKnownHostsFile={ssh.known_hosts} "
                                                  "-o StrictHostKeyChecking=yes"})
    hosts = {"all": {"children": {"center_servers": {"hosts": {"c-srv01": center}}}}}
    import yaml
    (inv / "province.yml").write_text(yaml.safe_dump(province, allow_unicode=True, sort_keys=False))
    (inv / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))


def write_runs(data: Path) -> None:
    """Audit runs (an older and the latest of November, one of October) and a verify run."""
    def audit(name: str, hosts: list[tuple[str, str, str, str]]) -> None:
        d = data / "audit" / name
        d.mkdir(parents=True)
        (d / "audit.json").write_text(json.dumps({"run": {"started": name}, "hosts": [
            {"host": h, "unit": u, "role": "workstation", "status": st, "grade": g} for h, u, st, g in hosts]}))

    audit("2026-10-15T10-00-00", [("a-ws1", A, "audited", "pass"), ("a-ws2", A, "audited", "fail"),
                                  ("a-ws3", A, "audited", "fail"), ("c-srv01", C, "audited", "pass")])
    audit("2026-11-05T10-00-00", [("a-ws1", A, "audited", "fail")])
    audit("2026-11-20T10-00-00", [("a-ws1", A, "audited", "pass"), ("a-ws2", A, "audited", "warn"),
                                  ("a-ws3", A, "audited", "fail"), ("b-ws1", B, "audited", "pass"),
                                  ("b-ws2", B, "unreachable", None), ("c-srv01", C, "audited", "pass"),
                                  ("gone-ws1", "000.99.99.H99", "audited", "pass")])
    audit("2026-12-01T10-00-00", [("a-ws1", A, "audited", "pass")])
    (data / "verify").mkdir(parents=True)
    checks = [("c-srv01", C, "ldap", "bind", True), ("c-srv01", C, "mail", "smtp", True),
              ("c-srv01", C, "mail", "imap", False), ("a-srv01", A, "dns", "resolve", True),
              ("a-srv01", A, "web", "http", True), ("b-srv01", B, "dns", "resolve", True),
              ("b-srv01", B, "web", "http", True), ("b-srv01", B, "web", "https", False)]
    (data / "verify" / "2026-11-21T09-00-00.json").write_text(json.dumps({
        "run": {"started": "2026-11-21T09:00:00", "finished": "2026-11-21T09:00:30", "inventory": "rep"},
        "checks": [{"host": h, "unit": u, "service": s, "check": c, "ok": ok, "detail": ""}
                   for h, u, s, c, ok in checks]}))
    (data / "verify" / "2026-10-02T09-00-00.json").write_text(json.dumps({"run": {}, "checks": [
        {"host": "a-srv01", "unit": A, "service": "dns", "check": "x", "ok": False}]}))


def write_forms(forms: Path, province) -> None:
    """Two filled forms: A's YAML sent on the 20th (on time); B's XLSX with no date, file dated the 27th
    (late by its modification time)."""
    import openpyxl

    from provisioning.report.forms import write_xlsx
    from provisioning.report.period import Month

    forms.mkdir(parents=True, exist_ok=True)
    (forms / "tu-phap.yml").write_text(
        f"unit_code: '{A}'\nmonth: '{MONTH}'\nsubmitted: 20/11/2026\nreporter: Trần Minh Đức\n"
        "training_sessions: 2\ntrainees: 15\nsw_legal_docs: Có\nsw_documents: có\nsw_socioeconomic: Không\n"
        "sw_portal: \nsw_other: Phần mềm một cửa\ndrafting_signing: Có\n", encoding="utf-8")
    path = write_xlsx(forms / "phu-tuc.xlsx", province, province.units[B], Month.parse(MONTH), "vi")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    values = {"training_sessions": 1, "trainees": 4, "sw_documents": "Có", "drafting_signing": "Không"}
    for row in ws.iter_rows(min_row=1):
        if row[0].value in values:
            row[2].value = values[row[0].value]
    wb.save(path)
    late = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))).timestamp()
    os.utime(path, (late, late))


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real `provision` command, as an operator runs it."""
    exe = Path(sys.executable).with_name("provision")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=300)


@dataclass
class Sshd:
    port: int
    client_key: Path
    known_hosts: Path
    proc: subprocess.Popen


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A real OpenSSH server on 127.0.0.1 (root login by key only), for log collection over SSH."""
    from fixtures.sshd import start_sshd

    d = tmp_path_factory.mktemp("sshd")
    s = start_sshd(d, ["127.0.0.1"])
    (d / "known_hosts").write_text(s.known_line("127.0.0.1"))
    yield Sshd(s.port, s.client_key, d / "known_hosts", s.proc)
    s.stop()
    shutil.rmtree(d, ignore_errors=True)
