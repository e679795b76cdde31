"""The `accounts:` section of province.yml, validated here with errors that name the key.

    accounts:
      headers: {hr_id: ["Số hiệu"]}          # extra header names per field (added to the defaults)
      username_pattern: "{given}{f}{m}"      # see naming.PLACEHOLDERS
      quota_mb: {default: 1024, positions: {"Giám đốc": 4096}}
      retention_days: 365                    # purge deletes accounts disabled longer than this
      mail_store: {host: tthdl-srv01, root: /var/vmail}   # host: an inventory host, or "local"
      ldap: {url: ldap://..., starttls: true, ca_file: ..., bind_dn: ..., password_file: ...}
"""
from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import BadInput
from ..model import Province
from .naming import DEFAULT_PATTERN, check_pattern
from .roster import FIELDS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Quota(_Strict):
    default: int = Field(1024, ge=1)
    positions: dict[str, int] = Field(default_factory=dict)

    @field_validator("positions")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        for k, mb in v.items():
            if mb < 1:
                raise ValueError(f"quota for {k!r} must be at least 1 MB")
        return {unicodedata.normalize("NFC", k).strip().casefold(): mb for k, mb in v.items()}


class MailStoreCfg(_Strict):
    host: str | None = None          # None: the integration center's first server; "local": this machine
    root: str = "/var/vmail"
    uid: int = 5000
    gid: int = 5000


class LdapCfg(_Strict):
    url: str | None = None           # default ldap://<center server address>
    starttls: bool = True
    ca_file: Path | None = None      # default: the provincial CA read from the center (var/<inventory>/ca.crt)
    bind_dn: str | None = None       # default cn=provisioner,ou=Services,<base_dn>
    password_file: Path | None = None  # default: load_secrets()["ldap_provisioner"]


class AccountsSettings(_Strict):
    headers: dict[str, list[str]] = Field(default_factory=dict)
    username_pattern: str = DEFAULT_PATTERN
    quota_mb: Quota = Field(default_factory=Quota)
    retention_days: int = Field(365, ge=0)
    mail_store: MailStoreCfg = Field(default_factory=MailStoreCfg)
    ldap: LdapCfg = Field(default_factory=LdapCfg)
    sheets: Literal["html"] = "html"

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, v):
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
        return self.quota_mb.positions.get(unicodedata.normalize("NFC", position).strip().casefold(),
                                           self.quota_mb.default)


def load_settings(province: Province) -> AccountsSettings:
    raw = province.settings.get("accounts") or {}
    try:
        s = AccountsSettings.model_validate(raw)
    except ValidationError as e:
        lines = [f"{province.inventory_dir / 'province.yml'}: accounts: {len(e.errors())} problem(s)"]
        for err in e.errors():
            key = ".".join(["accounts", *(str(x) for x in err["loc"])])
            lines.append(f"  {key}: {err['msg']}")
        raise BadInput("\n".join(lines)) from None
    inv = province.inventory_dir
    for attr in ("ca_file", "password_file"):
        p = getattr(s.ldap, attr)
        if p is not None and not p.is_absolute():
            setattr(s.ldap, attr, (inv / p).resolve())
    if s.mail_store.host not in (None, "local") and s.mail_store.host not in province.hosts:
        raise BadInput(f"{inv / 'province.yml'}: accounts.mail_store.host: {s.mail_store.host!r} is not a "
                       "host of the inventory (or 'local')")
    return s
