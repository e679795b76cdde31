"""Typed settings: the `accounts:`, `audit:`, `report:`, `services:` and `security:` sections of province.yml.

They are validated with the rest of the province (`provision inventory check` reports a wrong value
with the file, the section and the field) and the jobs read them from `Province.settings`, already
checked and with relative paths resolved against the inventory directory.

    accounts:
      headers: {hr_id: ["Số hiệu"]}          # extra header names per roster field (added to the defaults)
      username_pattern: "{given}{f}{m}"      # see PLACEHOLDERS
      quota_mb: {default: 1024, positions: {"Giám đốc": 4096}}
      retention_days: 365                    # purge deletes accounts disabled longer than this
      inactive_days: 45                      # `accounts inactive` lists accounts not signed in for this long
      mail_store: {host: tthdl-srv01, root: /var/vmail}   # host: an inventory host, or "local"
                                             # (+ command: [sudo, -n, -u, vmail, HELPER, ...])
      ldap: {url: ldap://..., starttls: true, ca_file: ..., bind_dn: ..., password_file: ...}
    audit:
      baseline: baseline.yml                 # relative to the inventory; default: the shipped baseline
      workers: 50                            # hosts audited at the same time
      timeout: 60                            # hard limit per host, seconds
    report:
      mail_hosts: [tthdl-srv01]              # inventory hosts whose mail logs are read (default: center servers)
      mail_logs: [/var/log/dovecot.log*, /var/log/mail.log*, /var/log/roundcube/userlogins.log*]
                                             # absolute paths; '*' = rotated copies
      webmail_hosts: [10.20.0.15]            # addresses the webmail logs in from (besides loopback and
                                             # the center servers' own addresses)
      ldap_url: ldap://10.20.0.10            # default ldap://<center server address>
      ldap_starttls: true                    # default; false only for a test directory on loopback
      ldap_ca_file: ca.crt                   # provincial CA (relative to the inventory)
    services: {}                             # reserved: no key is defined yet, so any key is refused
    security:                                # password and session policy (the level's controls)
      officials: {min_length: 10, history: 5, max_age_days: 180, max_failures: 5, lockout_minutes: 15}
      administrators: {min_length: 14, history: 12, max_age_days: 60, max_failures: 3, lockout_minutes: 30}
      webmail_idle_minutes: 15               # a webmail session ends after this long without activity
      console_idle_minutes: 15               # the same for the web console
    compliance:                              # the level's technical values (`provision compliance`)
      standard: tcvn14423                    # tcvn14423 (Decree 331/2026) or tcvn11930 (Decree 85/2016)
      log_retention_days: 90                 # minimum the level asks for; see ComplianceSettings

Defaults follow the level-3 controls of TCVN 11930:2017 (password length and complexity, periodic change,
no reuse, lockout after repeated failures, session end after inactivity); administrators (unit admins, HR,
province roles) get the stricter policy.
"""
from __future__ import annotations

import ipaddress
import re
import string
import unicodedata
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..roster import FIELDS


class _StrictSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- accounts ------------------------------------------------------------------------------------

DEFAULT_PATTERN = "{given}{f}{m}"
PLACEHOLDERS = {
    "given": "given name, all syllables (Thu Hà -> thuha)",
    "family": "family name (Nguyễn -> nguyen)",
    "middle": "middle names (Văn -> van)",
    "f": "initials of the family name",
    "m": "initials of the middle names",
    "g": "initials of the given name",
}


def check_pattern(pattern: str) -> str | None:
    """None if the username pattern is usable, else the reason (for a clear province.yml error)."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    except ValueError as e:
        return f"not a valid pattern: {e}"
    unknown = [n for n in names if n not in PLACEHOLDERS]
    if unknown:
        return f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; known: " + \
            ", ".join("{" + k + "}" for k in PLACEHOLDERS)
    if "given" not in names and "g" not in names:
        return "the pattern must use {given} or {g}"
    literal = re.sub(r"\{[^}]*\}", "", pattern)
    if not re.fullmatch(r"[a-z0-9._-]*", literal):
        return "literal text may only use a-z, 0-9, '.', '_' and '-'"
    return None


def _position_key(position: str) -> str:
    return unicodedata.normalize("NFC", position).strip().casefold()


class Quota(_StrictSettings):
    default: int = Field(1024, ge=1)
    positions: dict[str, int] = Field(default_factory=dict)

    @field_validator("positions")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        for k, mb in v.items():
            if mb < 1:
                raise ValueError(f"quota for {k!r} must be at least 1 MB")
        return {_position_key(k): mb for k, mb in v.items()}


class MailStoreCfg(_StrictSettings):
    host: str | None = None          # None: the integration center's first server; "local": this machine
    root: str = "/var/vmail"
    uid: int = 5000
    gid: int = 5000
    # "local" only: reach the store through this command (maildir_ops's JSON on stdin and stdout)
    # instead of in-process, e.g. `sudo -n -u vmail HELPER --only-under DIR`: the console's service
    # user works on mailboxes as the store's owner through one sudo rule (roles/console)
    command: list[str] = Field(default_factory=list)


class LdapCfg(_StrictSettings):
    url: str | None = None           # default ldap://<center server address>
    starttls: bool = True
    ca_file: Path | None = None      # default: the provincial CA read from the center (var/<inventory>/ca.crt)
    bind_dn: str | None = None       # default cn=provisioner,ou=Services,<base_dn>
    password_file: Path | None = None  # default: load_secrets()["ldap_provisioner"]


class AccountsSettings(_StrictSettings):
    headers: dict[str, list[str]] = Field(default_factory=dict)
    username_pattern: str = DEFAULT_PATTERN
    quota_mb: Quota = Field(default_factory=Quota)
    retention_days: int = Field(365, ge=0)
    inactive_days: int = Field(45, ge=1, le=3650)
    mail_store: MailStoreCfg = Field(default_factory=MailStoreCfg)
    ldap: LdapCfg = Field(default_factory=LdapCfg)
    sheets: Literal["html"] = "html"

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            raise ValueError("must map a field name to a header or a list of headers")
        out = {}
        for k, names in v.items():
            if k not in FIELDS:
                raise ValueError(f"unknown field {k!r}; fields: {', '.join(FIELDS)}")
            out[k] = [names] if isinstance(names, str) else names
        return out

    @field_validator("username_pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        if reason := check_pattern(v):
            raise ValueError(reason)
        return v

    def quota_for(self, position: str) -> int:
        return self.quota_mb.positions.get(_position_key(position), self.quota_mb.default)


# --- audit ---------------------------------------------------------------------------------------

def _positive_number(v: Any) -> Any:
    # YAML `true` would pass as 1 and a string as a number: a setting is a number as written or nothing
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{v!r} is not a positive number")
    return v


class AuditSettings(_StrictSettings):
    baseline: Path | None = None     # relative to the inventory; None: the shipped baseline
    workers: int | None = Field(None, le=500)
    timeout: float | None = None

    @field_validator("workers", "timeout", mode="before")
    @classmethod
    def _positive(cls, v: Any) -> Any:
        return v if v is None else _positive_number(v)


# --- report --------------------------------------------------------------------------------------

DEFAULT_MAIL_LOGS = ("/var/log/dovecot.log*", "/var/log/mail.log*", "/var/log/roundcube/userlogins.log*")


class ReportSettings(_StrictSettings):
    mail_hosts: list[str] = Field(default_factory=list)
    mail_logs: list[str] = Field(default_factory=lambda: list(DEFAULT_MAIL_LOGS))
    webmail_hosts: list[str] = Field(default_factory=list)
    ldap_url: str | None = None
    ldap_starttls: bool = True
    ldap_ca_file: Path | None = None

    @field_validator("mail_logs")
    @classmethod
    def _absolute(cls, v: list[str]) -> list[str]:
        for p in v:
            if not p.startswith("/"):
                raise ValueError(f"{p!r} is not an absolute path")
        return v

    @field_validator("webmail_hosts")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for a in v:
            ipaddress.ip_address(a)  # ValueError names the bad address
        return v

    @field_validator("ldap_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v and not v.startswith(("ldap://", "ldaps://")):
            raise ValueError(f"{v!r} is not an ldap:// or ldaps:// URL")
        return v


# --- services ------------------------------------------------------------------------------------

class ServicesSettings(_StrictSettings):
    """Reserved for per-province service settings; the roles' defaults are overridden in group_vars.
    Typed (and so far empty) so that a key written here is refused rather than silently ignored."""


# --- security ------------------------------------------------------------------------------------

class PasswordPolicy(_StrictSettings):
    """One directory password policy (ppolicy), in the operator's terms."""
    min_length: int = Field(10, ge=8, le=128)
    history: int = Field(5, ge=0, le=24)          # previous passwords that may not be reused
    max_age_days: int = Field(180, ge=0, le=3650)  # 0: never expires
    max_failures: int = Field(5, ge=1, le=100)     # wrong passwords in a row before the lockout
    lockout_minutes: int = Field(15, ge=1, le=10080)

    def ppolicy(self) -> dict[str, Any]:
        """The ppolicy attributes of roles/directory (pwdPolicy object class)."""
        return {"pwdMinLength": self.min_length, "pwdInHistory": self.history,
                "pwdMaxAge": self.max_age_days * 86400, "pwdMaxFailure": self.max_failures,
                "pwdLockoutDuration": self.lockout_minutes * 60,
                "pwdFailureCountInterval": self.lockout_minutes * 60}


class AdminPasswordPolicy(PasswordPolicy):
    """Unit admins, HR and province roles: the same fields, stricter defaults."""
    min_length: int = Field(14, ge=8, le=128)
    history: int = Field(12, ge=0, le=24)
    max_age_days: int = Field(60, ge=0, le=3650)   # the level: administrators change every 2 months
    max_failures: int = Field(3, ge=1, le=100)
    lockout_minutes: int = Field(30, ge=1, le=10080)


class SecuritySettings(_StrictSettings):
    officials: PasswordPolicy = Field(default_factory=PasswordPolicy)
    administrators: AdminPasswordPolicy = Field(default_factory=AdminPasswordPolicy)
    webmail_idle_minutes: int = Field(15, ge=5, le=1440)   # the level's 15 minutes for applications
    console_idle_minutes: int = Field(15, ge=5, le=1440)
# --- compliance ----------------------------------------------------------------------------------

STANDARDS = {
    "tcvn14423": "TCVN 14423:2026 / Nghị định 331/2026/NĐ-CP",
    "tcvn11930": "TCVN 11930:2017 / Nghị định 85/2016/NĐ-CP",
}


class ComplianceSettings(_StrictSettings):
    """The values of the level-3 technical controls the compliance report holds the servers to.

    Defaults are the level-3 values of TCVN 14423:2026 as summarised in secondary sources (medium-low
    confidence): a province whose assessor reads the standard differently sets them here, and the report
    names the value and its source on every row."""
    standard: Literal["tcvn14423", "tcvn11930"] = "tcvn14423"
    log_retention_days: int = Field(90, ge=1)          # central logs kept at least this long
    admin_password_max_age_days: int = Field(60, ge=1)  # changed every 2 months
    admin_password_history: int = Field(10, ge=0)       # last 10 not reused
    admin_password_min_length: int = Field(14, ge=8)    # 14+ with four classes (8+ only with 2FA)
    lockout_failures: int = Field(5, ge=1)              # locked after 5 failures
    admin_idle_minutes: int = Field(5, ge=1)            # session idle timeout for administrators
    app_idle_minutes: int = Field(15, ge=1)             # session idle timeout for applications (webmail)
    inactive_account_days: int = Field(45, ge=1)        # inactive accounts disabled after
    tls_min_version: Literal["1.2", "1.3"] = "1.2"
    # sshd PermitRootLogin the level accepts: root by key only (no password) is how the project's own
    # deploys reach the servers; "no" for a province that manages its servers through a named account
    root_login: Literal["no", "prohibit-password"] = "prohibit-password"

    @property
    def source(self) -> str:
        return STANDARDS[self.standard]


# --- all of them ---------------------------------------------------------------------------------

class Settings(_StrictSettings):
    accounts: AccountsSettings = Field(default_factory=AccountsSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    services: ServicesSettings = Field(default_factory=ServicesSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    compliance: ComplianceSettings = Field(default_factory=ComplianceSettings)

    @field_validator("accounts", "audit", "report", "services", "security", "compliance", mode="before")
    @classmethod
    def _empty_section(cls, v: Any) -> Any:
        return {} if v is None else v  # `audit:` with nothing under it

    def resolved(self, inventory_dir: Path) -> "Settings":
        """A copy with the relative paths made relative to the inventory directory."""
        s = self.model_copy(deep=True)
        for attr in ("ca_file", "password_file"):
            p = getattr(s.accounts.ldap, attr)
            if p is not None and not p.is_absolute():
                setattr(s.accounts.ldap, attr, (inventory_dir / p).resolve())
        if s.audit.baseline is not None and not s.audit.baseline.is_absolute():
            s.audit.baseline = inventory_dir / s.audit.baseline
        if s.report.ldap_ca_file and not s.report.ldap_ca_file.is_absolute():
            s.report.ldap_ca_file = inventory_dir / s.report.ldap_ca_file
        return s

    def written(self) -> dict[str, dict]:
        """The sections as province.yml had them (what was set), for writing another province.yml."""
        return {k: v for k, v in self.model_dump(mode="json", exclude_unset=True).items() if v}
