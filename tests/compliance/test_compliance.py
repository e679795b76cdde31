"""The compliance report from canned reads (no lab): every control's status and evidence on a center
and a unit server, values from province.yml, manual controls with their evidence folders, the outputs."""
from __future__ import annotations

import json
import shutil

import pytest
from openpyxl import load_workbook

from provisioning.compliance import MANUAL, TECHNICAL, Facts, report, write
from provisioning.errors import BadInput
from provisioning.model import load_province
from tests.conftest import EXAMPLE, run_cli

CENTER, UNIT = "tthdl-srv01", "vpubnd-srv01"

GOOD = {
    "chrony": "running\n",
    "firewall": "hook input priority filter; policy drop\n",
    "sshd": "permitrootlogin no\npasswordauthentication no\nallowtcpforwarding no\n",
    "shell_idle": "TMOUT=300\n",
    "auditd": "running\n",
    "hardening": '{"clamd_socket": "/var/run/clamav/clamd.ctl", "milter": "inet:127.0.0.1:7357", '
                 '"audit_kernel": true}\n',
    "audit_rules": "-k config\n-k identity\n-k privilege\n",
    "audit_loaded": "key=config\nkey=identity\nkey=privilege\n",
    "aide": "database\n",
    "aide_schedule": "30 4 * * * root /usr/local/sbin/provision-aide-check\ncheck-2026-12-04.log\n",
    "clamav": "running\n",
    "clamav_signatures": "daily.cvd\nmain.cvd\nprovision-local.ndb\n",
    "clamav_mail": "inet:127.0.0.1:7357 inet:127.0.0.1:8891\nmilter running\n",
    "clamav_share": "1 1\n",
    "apt_sources": "deb [signed-by=/usr/share/keyrings/provision-mirror.asc] https://10.20.0.10/debian bookworm main\n"
                   "URIs: https://10.20.0.10/debian-security\n",
    "unattended": "install ok installed",
    "log_forward": "/etc/rsyslog.d/60-forward.conf\n",
    "log_store": '{"store": "/var/log/central", "retention_days": 180, "disk_warn_percent": 80}\n',
    "log_disk": "/dev/sda3  100000000  42000000  58000000  42% /var/log\n",
    "backup": "SHELL=/bin/sh\n30 1 * * * root /usr/local/sbin/provision-backup\n",
    "ppolicy": ("dn: cn=officials,ou=Policies,dc=bentre,dc=gov,dc=vn\npwdMaxAge: 7776000\npwdInHistory: 5\n"
                "pwdMinLength: 10\npwdMaxFailure: 10\n\ndn: cn=admins,ou=Policies,dc=bentre,dc=gov,dc=vn\n"
                "pwdMaxAge: 5184000\npwdInHistory: 10\npwdMinLength: 14\npwdMaxFailure: 5\n"),
    "webmail_session": "$config['session_lifetime'] = 15;\n",
}
# what a server deployed by the baseline alone looks like: no hardening, no central logs, root by key
BARE = {**GOOD, "sshd": "permitrootlogin without-password\npasswordauthentication no\n", "auditd": "stopped\n",
        "aide": "none\n", "clamav": "stopped\n", "hardening": "", "audit_rules": "", "audit_loaded": "",
        "aide_schedule": "", "clamav_signatures": "", "clamav_mail": "", "clamav_share": "", "unattended": "", "log_forward": "", "log_store": "",
        "ppolicy": "", "webmail_session": "", "firewall": "hook input priority filter; policy accept\n"}
VERIFY_CENTER = [
    {"host": CENTER, "unit": "u", "service": s, "check": c, "ok": True, "detail": ""}
    for s, c in [("ldap", "starttls-bind-search"), ("smtp", "25-relay-refused"), ("smtp", "25-spoofed-sender-refused"),
                 ("submission", "587-dkim-signed"), ("imap", "993-login-message-delivered"), ("web", "https-www"),
                 ("ntp", "answers")]]
VERIFY_UNIT = [{"host": UNIT, "unit": "u", "service": "ntp", "check": "answers", "ok": True, "detail": ""}]


@pytest.fixture
def province(tmp_path, monkeypatch):
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    inv = tmp_path / "inventory" / "example"
    shutil.copytree(EXAMPLE, inv)
    return load_province(inv)


def statuses(r, host: str) -> dict[str, str]:
    return {f.control: f.status for f in r.findings if f.host == host}


def evidence(r, control: str, host: str) -> str:
    return next(f.evidence for f in r.findings if f.control == control and f.host == host)


def test_a_hardened_center_and_unit_pass_every_technical_control(province):
    r = report(province, [Facts(CENTER, True, GOOD, VERIFY_CENTER), Facts(UNIT, False, GOOD, VERIFY_UNIT)],
               "verify.json", "en")
    assert statuses(r, CENTER) == {c.id: "pass" for c in TECHNICAL}
    assert statuses(r, UNIT) == {**{c.id: "pass" for c in TECHNICAL}, "net-transport": "na", "app-password": "na",
                                 "app-session": "na", "app-mail": "na", "data-backup": "na"}
    assert evidence(r, "data-logs", CENTER) == "central logs kept 180 days (required 90); store 42% full (warning at 80%)"
    assert "max age 60 d, history 10, min length 14, lockout after 5" in evidence(r, "app-password", CENTER)
    assert "/etc/rsyslog.d/60-forward.conf" in evidence(r, "data-logs", UNIT)
    assert evidence(r, "host-patching", UNIT) == ("apt sources: https://10.20.0.10/debian, "
                                                  "https://10.20.0.10/debian-security; unattended-upgrades installed")
    assert evidence(r, "data-backup", CENTER).endswith("30 1 * * * root /usr/local/sbin/provision-backup")
    assert all(f.source.startswith("TCVN 14423:2026") for f in r.findings)
    assert r.ok


def test_a_baseline_server_fails_what_it_lacks_with_the_reason(province):
    failed_verify = [dict(c, ok=c["check"] != "25-relay-refused") for c in VERIFY_CENTER]
    r = report(province, [Facts(CENTER, True, BARE, failed_verify), Facts(UNIT, False, BARE, [])], "", "en")
    c, u = statuses(r, CENTER), statuses(r, UNIT)
    for control in ("net-firewall", "net-admin", "host-malware", "host-audit", "host-integrity", "host-patching",
                    "app-password", "app-session", "app-mail", "data-logs"):
        assert c[control] == "fail", control
    assert c["net-transport"] == "pass" and c["host-time"] == "pass" and c["data-backup"] == "pass"
    assert "verify failed: smtp/25-relay-refused" == evidence(r, "app-mail", CENTER)
    assert "permitrootlogin without-password" in evidence(r, "net-admin", CENTER)
    assert u["data-logs"] == "fail" and evidence(r, "data-logs", UNIT) == "rsyslog forwards nothing over TLS"
    assert u["host-time"] == "pass" and "no verify NTP result" in evidence(r, "host-time", UNIT)
    assert not r.ok


def test_an_unreadable_server_fails_every_technical_control_and_no_verify_proves_nothing(province):
    r = report(province, [Facts(CENTER, True, GOOD, []), Facts(UNIT, False, error="TimeoutError: timed out")],
               "", "en")
    assert set(statuses(r, UNIT).values()) == {"fail"}
    assert evidence(r, "host-time", UNIT) == "not read: TimeoutError: timed out"
    assert statuses(r, CENTER)["net-transport"] == "fail"
    assert "no `provision verify` result" in evidence(r, "net-transport", CENTER)


def test_values_come_from_province_yml(province):
    text = (province.inventory_dir / "province.yml").read_text()
    (province.inventory_dir / "province.yml").write_text(
        text + "\ncompliance:\n  standard: tcvn11930\n  log_retention_days: 365\n  root_login: prohibit-password\n")
    p = load_province(province.inventory_dir)
    bare_root = {**GOOD, "sshd": GOOD["sshd"].replace("permitrootlogin no", "permitrootlogin prohibit-password")}
    r = report(p, [Facts(CENTER, True, bare_root, VERIFY_CENTER)], "", "vi")
    assert statuses(r, CENTER)["data-logs"] == "fail"
    assert evidence(r, "data-logs", CENTER).startswith("central logs kept 180 days (required 365)")
    assert statuses(r, CENTER)["net-admin"] == "pass"
    assert {f.source for f in r.findings} == {"TCVN 11930:2017 / Nghị định 85/2016/NĐ-CP"}
    (province.inventory_dir / "province.yml").write_text(text + "\ncompliance:\n  root_login: 'no'\n")
    strict = report(load_province(province.inventory_dir), [Facts(CENTER, True, bare_root, VERIFY_CENTER)], "", "en")
    assert statuses(strict, CENTER)["net-admin"] == "fail"
    req = next(f.requirement for f in r.findings if f.control == "data-logs")
    assert "365 ngày" in req


def test_a_log_store_past_its_threshold_fails(province):
    full = {**GOOD, "log_disk": "/dev/sda3  100000000  91000000  9000000  91% /var/log\n"}
    r = report(province, [Facts(CENTER, True, full, VERIFY_CENTER)], "", "en")
    assert statuses(r, CENTER)["data-logs"] == "fail"
    assert evidence(r, "data-logs", CENTER).endswith("store 91% full (warning at 80%)")


def test_a_bad_compliance_value_is_refused_with_its_field(province, tmp_path):
    pf = province.inventory_dir / "province.yml"
    pf.write_text(pf.read_text() + "\ncompliance:\n  log_retention_days: -1\n")
    r = run_cli("inventory", "check", "-i", str(province.inventory_dir))
    assert r.returncode == 2 and "compliance.log_retention_days" in r.stdout + r.stderr


def test_manual_controls_list_the_files_in_their_evidence_folder(province):
    r = report(province, [Facts(CENTER, True, GOOD, VERIFY_CENTER)], "", "en")
    manual = {f.control: f for f in r.findings if f.status == "manual"}
    assert set(manual) == {c.id for c in MANUAL}
    folder = province.inventory_dir.parent.parent / "var" / "example" / "compliance" / "evidence" / "org-2fa"
    assert folder.is_dir() and "No evidence yet" in manual["org-2fa"].evidence
    (folder / "otp-rollout-minutes.pdf").write_bytes(b"%PDF-1.4\n")
    r = report(province, [Facts(CENTER, True, GOOD, VERIFY_CENTER)], "", "en")
    f = next(f for f in r.findings if f.control == "org-2fa")
    assert f.evidence.startswith("1 evidence file(s): otp-rollout-minutes.pdf")


def test_outputs_hold_one_row_per_control_and_server(province, tmp_path):
    facts = [Facts(CENTER, True, GOOD, VERIFY_CENTER), Facts(UNIT, False, BARE, VERIFY_UNIT)]
    r = write(report(province, facts, "verify.json", "vi"), province, tmp_path / "out")
    html = open(r.outputs["html"], encoding="utf-8").read()
    for c in TECHNICAL:
        for host in (CENTER, UNIT):
            assert f'data-control="{c.id}" data-host="{host}"' in html
    assert 'data-control="data-logs" data-host="vpubnd-srv01" data-status="fail"' in html
    assert "Bảo đảm an toàn mạng" in html and "KHÔNG ĐẠT" in html
    ws = load_workbook(r.outputs["xlsx"]).active
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    rows = [row for row in cells if row[4] in (CENTER, UNIT) or row[5] == "thủ công"]
    assert len(rows) == 2 * len(TECHNICAL) + len(MANUAL)
    doc = json.loads(open(r.outputs["json"], encoding="utf-8").read())
    assert len(doc["findings"]) == len(rows)
    if "pdf" in r.outputs:
        assert open(r.outputs["pdf"], "rb").read(5) == b"%PDF-"
    assert str(tmp_path / "out") in r.outputs["html"]


def test_cli_refuses_bad_input_before_reading_anything(province, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    r = run_cli("compliance", "-i", str(province.inventory_dir), "--out", str(f))
    assert r.returncode == 2 and "--out" in r.stdout + r.stderr
    r = run_cli("compliance", "-i", str(province.inventory_dir), "--limit", "nosuchhost")
    assert r.returncode == 2 and "nosuchhost" in r.stdout + r.stderr
    r = run_cli("compliance", "-i", str(province.inventory_dir), "--lang", "fr")
    assert r.returncode == 2


def test_bad_out_is_a_bad_input(province, tmp_path):
    from provisioning.compliance import compliance
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(BadInput, match="--out"):
        compliance(province.inventory_dir, out=f)


def test_the_hardening_evidence_is_read_where_a_control_asks_for_it(province):
    """auditd, AIDE, ClamAV and sshd are judged on what the role hardening set up, not on a process alone."""
    def one(probes: dict, center: bool = True):
        host = CENTER if center else UNIT
        r = report(province, [Facts(host, center, probes, VERIFY_CENTER if center else VERIFY_UNIT)], "", "en")
        return statuses(r, host), (lambda control: evidence(r, control, host))

    st, ev = one(GOOD)
    assert ev("host-audit") == "auditd running; rules loaded: config, identity, privilege; " \
                               "rules on disk: config, identity, privilege"
    assert ev("host-malware") == ("clamd: running; signatures: daily.cvd, main.cvd, provision-local.ndb; mail scanned "
                                  "by clamav-milter (inet:127.0.0.1:7357); file shares scanned (Samba virusfilter)")
    assert ev("host-integrity").endswith("daily check: 30 4 * * *; latest report /var/log/aide/check-2026-12-04.log")
    assert ev("net-admin").endswith("allowtcpforwarding no; idle shells end after 300 s (TMOUT)")
    # auditd running without the rules loaded
    assert one({**GOOD, "audit_loaded": "key=identity\n"})[0]["host-audit"] == "fail"
    # a host that shares its kernel (container, lab): auditd cannot run; configured rules make it "na"
    shared = {**GOOD, "auditd": "stopped\n", "hardening": GOOD["hardening"].replace("true", "false")}
    st, ev = one(shared)
    assert st["host-audit"] == "na" and "the kernel refuses audit control" in ev("host-audit")
    assert one({**shared, "audit_rules": "-k identity\n"})[0]["host-audit"] == "fail"
    # clamd runs but the center's Postfix does not hand mail to the milter / a share is not scanned
    st, ev = one({**GOOD, "clamav_mail": "inet:127.0.0.1:8891\nmilter running\n"})
    assert st["host-malware"] == "fail" and "mail not scanned by ClamAV" in ev("host-malware")
    st, ev = one({**GOOD, "clamav_share": "2 1\n"}, center=False)
    assert st["host-malware"] == "fail" and ev("host-malware").endswith("file shares not scanned (1 of 2 scanned)")
    assert one({**GOOD, "clamav_signatures": ""})[0]["host-malware"] == "fail"
    # an AIDE database nobody checks
    st, ev = one({**GOOD, "aide_schedule": ""})
    assert st["host-integrity"] == "fail" and "daily check: not scheduled" in ev("host-integrity")
    # sshd that forwards TCP, shells that never end an idle session or end it too late
    assert one({**GOOD, "sshd": GOOD["sshd"].replace("allowtcpforwarding no", "allowtcpforwarding yes")}
               )[0]["net-admin"] == "fail"
    st, ev = one({**GOOD, "shell_idle": ""})
    assert st["net-admin"] == "fail" and ev("net-admin").endswith("idle shells never end (no TMOUT)")
    assert one({**GOOD, "shell_idle": "TMOUT=900\n"})[0]["net-admin"] == "fail"


def test_a_local_repository_counts_as_an_apt_source(province):
    local = {**GOOD, "apt_sources": "deb [trusted=yes] file:/srv/provision-repo-trixie ./\n"}
    r = report(province, [Facts(CENTER, True, local, VERIFY_CENTER)], "", "en")
    assert statuses(r, CENTER)["host-patching"] == "pass"
    assert "file:/srv/provision-repo-trixie" in evidence(r, "host-patching", CENTER)
    commented = {**GOOD, "apt_sources": "# deb http://deb.debian.org/debian trixie main\n"}
    r = report(province, [Facts(CENTER, True, commented, VERIFY_CENTER)], "", "en")
    assert statuses(r, CENTER)["host-patching"] == "fail"
    assert evidence(r, "host-patching", CENTER).startswith("apt sources: none")
