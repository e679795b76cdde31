"""The console's settings: one small YAML file (or the `provision console serve` flags).

    inventory: /srv/provision/inventory/bentre   # the province (province.yml + hosts.yml)
    data_dir: /srv/provision/var                 # $PROVISION_DATA: journal, runs, reports (default: the project's var/)
    listen: 127.0.0.1:8080                       # nginx proxies https://console.<mail_domain>/ to it
    secure_cookies: true                         # behind TLS (nginx): cookies only over HTTPS
    trusted_proxies: [127.0.0.1]                 # X-Forwarded-For is believed only from these
    allowed_hosts: [console.bentre.gov.vn]       # default: localhost, the listen address, console.<dns zone>
    session_idle_minutes: 15                     # optional: shorter than the province's idle time (officials)
    admin_idle_minutes: 5                        # optional: the same for administrators
    upload_max_mb: 20
    login_limit: {per_address: 20, per_user: 5, window_minutes: 15}

The idle time after which a session ends is the province's policy, province.yml
`security.console_idle_minutes` (model/settings.py SecuritySettings); the two settings above may only
shorten it (the role makes administrators' sessions shorter), never lengthen it.

Everything the console keeps (sessions, second factors, uploaded rosters and their plans, the secret
key) lives in `<data dir>/<province>/console/`, owner-only: the service runs as an unprivileged user
that owns that folder and reads the inventory.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import BadInput


class LoginLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    per_address: int = Field(20, ge=1)
    per_user: int = Field(5, ge=1)
    window_minutes: int = Field(15, ge=1)


class ConsoleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inventory: Path
    data_dir: Path | None = None
    listen: str = "127.0.0.1:8080"
    secure_cookies: bool = False
    trusted_proxies: list[str] = Field(default_factory=list)
    allowed_hosts: list[str] = Field(default_factory=list)
    session_idle_minutes: int | None = Field(None, ge=1)
    admin_idle_minutes: int | None = Field(None, ge=1)
    upload_max_mb: int = Field(20, ge=1)
    login_limit: LoginLimit = Field(default_factory=LoginLimit)

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host, _, port = v.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{v!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
        return v

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


def load(path: Path) -> ConsoleConfig:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise BadInput(f"{path}: cannot read the console settings: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise BadInput(f"{path}: not valid YAML: {e}") from None
    try:
        cfg = ConsoleConfig.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        raise BadInput(f"{path}: {'.'.join(str(x) for x in err['loc'])}: {err['msg']}") from None
    base = Path(path).resolve().parent
    if not cfg.inventory.is_absolute():
        cfg.inventory = base / cfg.inventory
    if cfg.data_dir is not None and not cfg.data_dir.is_absolute():
        cfg.data_dir = base / cfg.data_dir
    return cfg
