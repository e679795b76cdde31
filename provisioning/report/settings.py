"""The `report:` section of province.yml, validated with errors that name the key.

    report:
      mail_hosts: [tthdl-srv01]              # inventory hosts whose mail logs are read (default: center servers)
      mail_logs: [/var/log/dovecot.log*, /var/log/mail.log*, /var/log/roundcube/userlogins.log*]
                                             # absolute paths; '*' = rotated copies
      webmail_hosts: [10.20.0.15]            # addresses the webmail logs in from (besides loopback and
                                             # the center servers' own addresses)
      ldap_url: ldap://10.20.0.10            # default ldap://<center server address>
      ldap_starttls: true                    # default; false only for a test directory on loopback
      ldap_ca_file: ca.crt                   # provincial CA (relative to the inventory); default: see directory.py
"""
from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import BadInput
from ..model import Province
from .collect import DEFAULT_PATTERNS


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mail_hosts: list[str] = Field(default_factory=list)
    mail_logs: list[str] = Field(default_factory=lambda: list(DEFAULT_PATTERNS))
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


def load(province: Province) -> ReportSettings:
    where = f"{province.inventory_dir / 'province.yml'}: report"
    try:
        s = ReportSettings.model_validate(province.settings.get("report") or {})
    except ValidationError as e:
        raise BadInput("\n".join(f"{where}.{'.'.join(str(x) for x in err['loc'])}: "
                                 f"{err['msg'].removeprefix('Value error, ')}" for err in e.errors())) from None
    unknown = [h for h in s.mail_hosts if h not in province.hosts]
    if unknown:
        raise BadInput(f"{where}.mail_hosts: unknown host(s) {', '.join(unknown)}")
    if s.ldap_ca_file and not s.ldap_ca_file.is_absolute():
        s.ldap_ca_file = province.inventory_dir / s.ldap_ca_file
    return s
