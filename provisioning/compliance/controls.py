"""The level's controls and the check that proves each one, as pure functions of what was read.

A technical control is evaluated per server from two sources read beforehand (collect.py): the live
probes (`Facts.probes`: command name -> output, read over SSH) and the latest `provision verify` run's
checks on that server (`Facts.verify`). Nothing here touches the network, so every status can be
tested from canned facts. Organisational controls (`MANUAL`) cannot be checked by the project: the
report lists them with the evidence files an operator put in their folder.

Groups follow the standard's technical requirements: network, host, application, data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from .. import logstore
from ..model import ComplianceSettings

GROUPS = ("network", "host", "application", "data")
PASS, FAIL, NA, MANUAL = "pass", "fail", "na", "manual"

# Live reads on every server (one SSH session, one command each; output only, exit status ignored).
PROBES: dict[str, str] = {
    "chrony": "pgrep -x chronyd >/dev/null && echo running || echo stopped",
    "firewall": "nft list ruleset 2>/dev/null | grep -Eo 'hook input priority [^;]+; policy [a-z]+' | head -1",
    "sshd": "sshd -T 2>/dev/null | grep -Ei '^(permitrootlogin|passwordauthentication|allowtcpforwarding) '",
    # the idle timeout of login shells (sshd's keep-alives never end an idle session: the client answers)
    "shell_idle": "grep -hsE '^[[:space:]]*(readonly[[:space:]]+|export[[:space:]]+)?TMOUT=[0-9]+' /etc/profile "
                  "/etc/profile.d/*.sh /etc/bash.bashrc | head -1",
    "auditd": "pgrep -x auditd >/dev/null && echo running || echo stopped",
    # the role hardening's evidence: its published state, the audit rules on disk and in the kernel,
    # AIDE's schedule and latest report, ClamAV's signatures and what hands files and mail to clamd
    "hardening": "cat /etc/ansible/facts.d/hardening.fact 2>/dev/null",
    "audit_rules": "grep -hoE -- '-k (identity|privilege|config)\\b' /etc/audit/rules.d/*.rules 2>/dev/null "
                   "| sort -u",
    "audit_loaded": "auditctl -l 2>/dev/null | grep -oE 'key=(identity|privilege|config)\\b' | sort -u",
    "aide": "test -s /var/lib/aide/aide.db && echo database || echo none",
    "aide_schedule": "grep -h provision-aide-check /etc/cron.d/provision-aide 2>/dev/null; "
                     "ls -t /var/log/aide/ 2>/dev/null | head -1",
    "clamav": "pgrep -x clamd >/dev/null && echo running || echo stopped",
    "clamav_signatures": "ls /var/lib/clamav/ 2>/dev/null | grep -E '[.](cvd|cld|ndb|hdb)$'",
    "clamav_mail": "postconf -xh smtpd_milters 2>/dev/null; pgrep -x clamav-milter >/dev/null && echo milter running",
    # "<shares> <shares scanned by virusfilter>" on a file server
    "clamav_share": "test -f /etc/samba/smb.conf && awk '/^\\[/ && !/^\\[global\\]/ {n++} "
                    "/^[ \\t]*vfs objects.*virusfilter/ {v++} END {print n+0, v+0}' /etc/samba/smb.conf",
    "apt_sources": "cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources "
                   "2>/dev/null | grep -E '^(deb |URIs:)'",
    "unattended": "dpkg-query -W -f='${Status}' unattended-upgrades 2>/dev/null",
    "log_forward": "grep -lsE 'StreamDriver|omrelp' /etc/rsyslog.conf /etc/rsyslog.d/*.conf",
    "log_store": f"cat {logstore.SETTINGS} 2>/dev/null",
    "log_disk": logstore.DISK_COMMAND,
    "backup": "test -x /usr/local/sbin/provision-backup && grep -hv '^#' /etc/cron.d/provision-backup 2>/dev/null",
    "ppolicy": "ldapsearch -LLL -o ldif-wrap=no -Y EXTERNAL -H ldapi:/// -b '{base_dn}' '(objectClass=pwdPolicy)' "
               "pwdMaxAge pwdInHistory pwdMinLength pwdMaxFailure 2>/dev/null",
    "webmail_session": "grep -hs \"session_lifetime\" /etc/roundcube/config.inc.php",
}

TLS_SERVICES = ("ldap", "smtp", "submission", "imap", "web")
MAIL_CHECKS = ("25-relay-refused", "25-spoofed-sender-refused", "587-dkim-signed",
               # sender authentication (verify/checks/mailauth.py)
               "587-from-bound-to-login", "587-null-sender-after-login-refused", "25-forged-domain-sender-refused",
               "25-forged-from-refused", "25-authentication-results")


@dataclass
class Facts:
    """What was read about one server."""
    host: str
    center: bool                                   # an integration center server (directory, mail, web)
    probes: dict[str, str] = field(default_factory=dict)
    verify: list[dict] = field(default_factory=list)   # this server's checks of the latest verify run
    error: str = ""                                # could not be read (unreachable, host key refused...)


@dataclass
class Outcome:
    status: str
    evidence: str


@dataclass
class Control:
    id: str
    group: str
    title: dict[str, str]                # vi, en
    requirement: dict[str, str]          # vi, en; {placeholders} filled from ComplianceSettings
    check: Callable[[Facts, ComplianceSettings], Outcome] | None = None   # None: manual

    def requirement_text(self, lang: str, s: ComplianceSettings) -> str:
        return self.requirement[lang].format(**s.model_dump())


def _verify(f: Facts, services: tuple[str, ...] = (), names: tuple[str, ...] = ()) -> list[dict]:
    return [c for c in f.verify if c.get("service") in services or c.get("check") in names]


def _verify_outcome(checks: list[dict], what: str) -> Outcome:
    if not checks:
        return Outcome(FAIL, f"no `provision verify` result for {what}: run it, then this report")
    bad = [c for c in checks if not c.get("ok")]
    shown = ", ".join(f"{c['service']}/{c['check']}" for c in (bad or checks))
    return Outcome(FAIL, f"verify failed: {shown}") if bad else Outcome(PASS, f"verify passed: {shown}")


def transport(f: Facts, s: ComplianceSettings) -> Outcome:
    # relay and sender checks speak SMTP but prove mail rules, not the channel (app-mail holds them)
    checks = [c for c in _verify(f, TLS_SERVICES) if c.get("check") not in MAIL_CHECKS]
    if not checks and not f.center:
        return Outcome(NA, "no TLS service of the center on this server")
    return _verify_outcome(checks, "the TLS services")


def firewall(f: Facts, s: ComplianceSettings) -> Outcome:
    line = f.probes.get("firewall", "").strip()
    if line.endswith("policy drop"):
        return Outcome(PASS, f"nftables input chain: {line}")
    return Outcome(FAIL, f"nftables input chain does not drop by default: {line or 'no input chain'}")


def admin_access(f: Facts, s: ComplianceSettings) -> Outcome:
    opts = dict(line.lower().split(None, 1) for line in f.probes.get("sshd", "").splitlines() if " " in line)
    root, password = opts.get("permitrootlogin", "?"), opts.get("passwordauthentication", "?")
    allowed = {"no"} if s.root_login == "no" else {"no", "prohibit-password", "without-password"}
    evidence = f"sshd -T: permitrootlogin {root}, passwordauthentication {password}"
    ok = root in allowed and password == "no"
    forwarding = opts.get("allowtcpforwarding", "?").strip()
    evidence += f", allowtcpforwarding {forwarding}"
    m = re.search(r"TMOUT=(\d+)", f.probes.get("shell_idle", ""))
    idle = int(m.group(1)) if m else 0
    evidence += f"; idle shells end after {idle} s (TMOUT)" if idle else "; idle shells never end (no TMOUT)"
    ok = ok and forwarding == "no" and 0 < idle <= s.admin_idle_minutes * 60
    return Outcome(PASS if ok else FAIL, evidence)


def time_sync(f: Facts, s: ComplianceSettings) -> Outcome:
    running = f.probes.get("chrony", "").strip() == "running"
    ntp = _verify(f, ("ntp",))
    answered = bool(ntp) and all(c.get("ok") for c in ntp)
    evidence = f"chronyd {'running' if running else 'not running'}; " + \
        (f"verify ntp/answers {'passed' if answered else 'failed'}" if ntp else "no verify NTP result")
    return Outcome(PASS if running and (answered or not ntp) else FAIL, evidence)


def _hardening_fact(f: Facts, key: str) -> str:
    """A value of the role hardening's published state (/etc/ansible/facts.d/hardening.fact), "" if absent."""
    m = re.search(rf'"{key}"\s*:\s*("([^"]*)"|true|false)', f.probes.get("hardening", ""))
    return "" if not m else (m.group(2) if m.group(2) is not None else m.group(1))


AUDIT_KEYS = ("config", "identity", "privilege")


def audit(f: Facts, s: ComplianceSettings) -> Outcome:
    running = f.probes.get("auditd", "").strip() == "running"
    on_disk = sorted(set(re.findall(r"-k (\w+)", f.probes.get("audit_rules", ""))) & set(AUDIT_KEYS))
    loaded = sorted(set(re.findall(r"key=(\w+)", f.probes.get("audit_loaded", ""))) & set(AUDIT_KEYS))
    rules = f"rules on disk: {', '.join(on_disk) or 'none'}"
    if running:
        ok = loaded == list(AUDIT_KEYS)
        return Outcome(PASS if ok else FAIL, f"auditd running; rules loaded: {', '.join(loaded) or 'none'}; {rules}")
    if _hardening_fact(f, "audit_kernel") == "false" and on_disk == list(AUDIT_KEYS):
        # a container or lab host: the kernel answers audit requests only from its initial PID namespace;
        # the host that owns the kernel audits it
        return Outcome(NA, f"auditd configured, not started: the kernel refuses audit control here "
                           f"(shared kernel; its owner audits it); {rules}")
    return Outcome(FAIL, f"auditd: {f.probes.get('auditd', '').strip() or 'not found'}; {rules}")


def file_integrity(f: Facts, s: ComplianceSettings) -> Outcome:
    ok = f.probes.get("aide", "").strip() == "database"
    evidence = "AIDE database /var/lib/aide/aide.db " + ("present" if ok else "missing")
    lines = f.probes.get("aide_schedule", "").splitlines()
    cron = next((line.strip() for line in lines if "provision-aide-check" in line), "")
    report = next((line.strip() for line in lines if line.strip().startswith("check-")), "")
    if "aide_schedule" in f.probes:
        # the database alone proves nothing: the check must run (daily) and leave its report
        evidence += f"; daily check: {cron.split(' root ')[0] if cron else 'not scheduled'}"
        evidence += f"; latest report /var/log/aide/{report}" if report else "; no report yet"
        ok = ok and bool(cron)
    return Outcome(PASS if ok else FAIL, evidence)


def malware(f: Facts, s: ComplianceSettings) -> Outcome:
    running = f.probes.get("clamav", "").strip() == "running"
    evidence = f"clamd: {f.probes.get('clamav', '').strip() or 'not found'}"
    ok = running
    if "clamav_signatures" in f.probes:
        sigs = f.probes["clamav_signatures"].split()
        evidence += f"; signatures: {', '.join(sigs) or 'none'}"
        ok = ok and bool(sigs)
    mail = f.probes.get("clamav_mail", "")
    if f.center and "clamav_mail" in f.probes:
        milter = _hardening_fact(f, "milter")
        wired = bool(milter) and milter in mail and "milter running" in mail
        evidence += f"; mail scanned by clamav-milter ({milter})" if wired else "; mail not scanned by ClamAV"
        ok = ok and wired
    share = f.probes.get("clamav_share", "").split()
    if len(share) == 2 and share[0] != "0":    # a file server: every share's vfs objects include virusfilter
        every = share[0] == share[1]
        evidence += ("; file shares scanned (Samba virusfilter)" if every
                     else f"; file shares not scanned ({share[1]} of {share[0]} scanned)")
        ok = ok and every
    return Outcome(PASS if ok else FAIL, evidence)


def patching(f: Facts, s: ComplianceSettings) -> Outcome:
    # `deb [signed-by=...] URL suite...` or deb822 `URIs: URL...`: the URLs are what matter
    # (a local repository is `file:/path`, one slash, as apt writes it)
    text = "\n".join(line for line in f.probes.get("apt_sources", "").splitlines()
                     if not line.lstrip().startswith("#"))     # a commented-out source is no source
    sources = re.findall(r"\b(?:(?:https?|ftp)://|file:/)\S+", text)
    unattended = f.probes.get("unattended", "").strip().endswith("installed")
    evidence = f"apt sources: {', '.join(sorted(set(sources))) or 'none'}; unattended-upgrades " + \
        ("installed" if unattended else "not installed")
    return Outcome(PASS if sources and unattended else FAIL, evidence)


def central_logs(f: Facts, s: ComplianceSettings) -> Outcome:
    if f.center:
        store = f.probes.get("log_store", "")
        m = re.search(r'"retention_days"\s*:\s*(\d+)', store)
        if not m:
            return Outcome(FAIL, "the center keeps no central logs (/etc/provision/logging.json missing)")
        days = int(m.group(1))
        evidence = f"central logs kept {days} days (required {s.log_retention_days})"
        warn = (logstore.parse_settings(store) or {}).get("disk_warn_percent")
        used = logstore.used_percent(f.probes.get("log_disk", ""))
        full = warn is not None and used is not None and used >= int(warn)
        if used is not None:
            evidence += f"; store {used}% full" + (f" (warning at {warn}%)" if warn is not None else "")
        return Outcome(PASS if days >= s.log_retention_days and not full else FAIL, evidence)
    files = f.probes.get("log_forward", "").split()
    return Outcome(PASS if files else FAIL,
                   f"rsyslog forwards over TLS: {', '.join(files)}" if files else "rsyslog forwards nothing over TLS")


def backups(f: Facts, s: ComplianceSettings) -> Outcome:
    if not f.center:
        return Outcome(NA, "backups run on the integration center")
    cron = [line for line in f.probes.get("backup", "").splitlines() if "provision-backup" in line]
    return Outcome(PASS if cron else FAIL,
                   f"scheduled in /etc/cron.d/provision-backup: {cron[0].strip()}" if cron
                   else "no scheduled provision-backup")


def _ldap_values(text: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for line in text.splitlines():
        m = re.match(r"(pwdMaxAge|pwdInHistory|pwdMinLength|pwdMaxFailure): (\d+)$", line.strip())
        if m:
            out.setdefault(m.group(1), []).append(int(m.group(2)))
    return out


def password_policy(f: Facts, s: ComplianceSettings) -> Outcome:
    if not f.center:
        return Outcome(NA, "the directory's password policy lives on the center")
    v = _ldap_values(f.probes.get("ppolicy", ""))
    if not v:
        return Outcome(FAIL, "no pwdPolicy entry in the directory")
    # the strictest policy the directory holds (the administrators' one, when there are two)
    age = min((a for a in v.get("pwdMaxAge", []) if a > 0), default=0) // 86400
    hist, length = (max(v.get(k, [0])) for k in ("pwdInHistory", "pwdMinLength"))
    fails = min((x for x in v.get("pwdMaxFailure", []) if x > 0), default=0)
    ok = (0 < age <= s.admin_password_max_age_days and hist >= s.admin_password_history
          and length >= s.admin_password_min_length and 0 < fails <= s.lockout_failures)
    return Outcome(PASS if ok else FAIL,
                   f"pwdPolicy: max age {age} d, history {hist}, min length {length}, lockout after {fails or 'never'}")


def sessions(f: Facts, s: ComplianceSettings) -> Outcome:
    if not f.center:
        return Outcome(NA, "webmail runs on the center")
    line = f.probes.get("webmail_session", "").strip()
    m = re.search(r"session_lifetime'\]\s*=\s*(\d+)", line)
    if not m:
        return Outcome(FAIL, "webmail session_lifetime not set (Roundcube default: 10 min, not from the level)")
    minutes = int(m.group(1))
    return Outcome(PASS if minutes <= s.app_idle_minutes else FAIL,
                   f"webmail session_lifetime {minutes} min (required ≤ {s.app_idle_minutes})")


def mail_security(f: Facts, s: ComplianceSettings) -> Outcome:
    if not f.center:
        return Outcome(NA, "mail is delivered on the center")
    return _verify_outcome(_verify(f, names=MAIL_CHECKS), "mail relay, sender authentication, DKIM and SPF/DKIM/DMARC of incoming mail")


def _t(vi: str, en: str) -> dict[str, str]:
    return {"vi": vi, "en": en}


CONTROLS: list[Control] = [
    Control("net-transport", "network", _t("Mã hóa đường truyền", "Encrypted transport"),
            _t("TLS {tls_min_version} trở lên trên mọi dịch vụ", "TLS {tls_min_version}+ on every service"), transport),
    Control("net-firewall", "network", _t("Kiểm soát truy cập vào", "Inbound access control"),
            _t("Tường lửa chặn mặc định chiều vào", "Firewall drops inbound traffic by default"), firewall),
    Control("net-admin", "network", _t("Quản trị từ xa an toàn", "Secure remote administration"),
            _t("SSH không dùng mật khẩu, không chuyển tiếp TCP, phiên rỗi kết thúc sau {admin_idle_minutes} phút; "
               "root: {root_login}",
               "SSH without passwords, no TCP forwarding, idle sessions end after {admin_idle_minutes} min; "
               "root login: {root_login}"),
            admin_access),
    Control("host-time", "host", _t("Đồng bộ thời gian", "Time synchronisation"),
            _t("NTP trên mọi thành phần", "NTP on every component"), time_sync),
    Control("host-malware", "host", _t("Phòng chống mã độc", "Malware protection"),
            _t("Bảo vệ thời gian thực (ClamAV): thư và tệp chia sẻ được quét",
               "Real-time protection (ClamAV): mail and file shares scanned"), malware),
    Control("host-audit", "host", _t("Ghi nhật ký kiểm toán", "Audit logging"),
            _t("auditd ghi thay đổi định danh, đặc quyền, cấu hình",
               "auditd records identity, privilege and configuration changes"), audit),
    Control("host-integrity", "host", _t("Toàn vẹn tệp", "File integrity"),
            _t("Kiểm tra tổng kiểm (AIDE) hằng ngày", "Checksums of important files (AIDE), checked daily"),
            file_integrity),
    Control("host-patching", "host", _t("Cập nhật bản vá", "Patching"),
            _t("Nguồn bản vá tập trung, cập nhật tự động", "Central patch source, automatic updates"), patching),
    Control("app-password", "application", _t("Chính sách mật khẩu quản trị", "Administrator password policy"),
            _t("Đổi sau {admin_password_max_age_days} ngày, không dùng lại {admin_password_history} mật khẩu, "
               "tối thiểu {admin_password_min_length} ký tự, khóa sau {lockout_failures} lần sai",
               "changed every {admin_password_max_age_days} days, last {admin_password_history} not reused, "
               "{admin_password_min_length}+ characters, locked after {lockout_failures} failures"),
            password_policy),
    Control("app-session", "application", _t("Thời gian phiên", "Session timeouts"),
            _t("Ứng dụng: {app_idle_minutes} phút, quản trị: {admin_idle_minutes} phút",
               "applications {app_idle_minutes} min idle, administrators {admin_idle_minutes} min"), sessions),
    Control("app-mail", "application", _t("An toàn thư điện tử", "Mail security"),
            _t("Không chuyển tiếp mở, không giả mạo người gửi, ký DKIM; thư từ bên ngoài được kiểm tra SPF, DKIM, DMARC",
               "No open relay, no forged senders, DKIM signatures; SPF, DKIM and DMARC checked on mail from outside"),
            mail_security),
    Control("data-logs", "data", _t("Nhật ký tập trung", "Central logging"),
            _t("Gửi nhật ký về trung tâm qua TLS, lưu tối thiểu {log_retention_days} ngày",
               "Logs forwarded to the center over TLS, kept at least {log_retention_days} days"), central_logs),
    Control("data-backup", "data", _t("Sao lưu", "Backups"),
            _t("Sao lưu tự động, tập trung", "Automatic central backups"), backups),
    # organisational: the project cannot check them; evidence is attached by hand
    Control("org-2fa", "network", _t("Xác thực hai yếu tố cho quản trị", "Two-factor login for administrators"),
            _t("Quản trị viên đăng nhập hai yếu tố", "Administrators log in with two factors")),
    Control("org-management-network", "network", _t("Vùng mạng quản trị", "Management network"),
            _t("Cổng quản trị chỉ trên mạng quản trị; vùng DMZ", "Admin ports on a management network only; DMZ")),
    Control("org-account-review", "application", _t("Rà soát tài khoản", "Account review"),
            _t("Vô hiệu tài khoản không dùng sau {inactive_account_days} ngày; rà soát 6 tháng/lần",
               "Inactive accounts disabled after {inactive_account_days} days; list reviewed every 6 months")),
    Control("org-vulnerability-scan", "host", _t("Đánh giá lỗ hổng", "Vulnerability scanning"),
            _t("Quét lỗ hổng 6 tháng/lần", "Vulnerability scan every 6 months")),
    Control("org-restore-test", "data", _t("Thử khôi phục", "Restore tests"),
            _t("Thử khôi phục bản sao lưu định kỳ", "Backups restored periodically as a test")),
]

TECHNICAL = [c for c in CONTROLS if c.check is not None]
MANUAL = [c for c in CONTROLS if c.check is None]


def evaluate(control: Control, facts: Facts, settings: ComplianceSettings) -> Outcome:
    assert control.check is not None
    if facts.error:
        return Outcome(FAIL, f"not read: {facts.error}")
    return control.check(facts, settings)
