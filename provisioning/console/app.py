"""Build the console's WSGI application: Django configured in code (no project folder, no admin, no
database: sessions are files, state is files in the province's data folder).

    app = build(ConsoleConfig(inventory=Path("inventory/lab")))   # a WSGI callable
    serve(cfg)                                                     # waitress on cfg.listen
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..errors import BadInput
from .config import ConsoleConfig

HERE = Path(__file__).resolve().parent
_STATE = None


def state():
    """The running console's State (set once by build())."""
    if _STATE is None:
        raise RuntimeError("the console is not configured")
    return _STATE


def _secret_key(d: Path) -> str:
    """A random key made on first start, kept owner-only: it signs CSRF tokens and cookies."""
    p = d / "secret.key"
    if not p.exists():
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return p.read_text().strip()


def django_settings(cfg: ConsoleConfig, d: Path, dns_zone: str, idle_minutes: int = 15) -> dict:
    """`idle_minutes`: the longest idle time of a session (officials'), for the session files' expiry."""
    hosts = cfg.allowed_hosts or ["localhost", "127.0.0.1", cfg.host, f"console.{dns_zone}"]
    (d / "sessions").mkdir(mode=0o700, exist_ok=True)
    (d / "cache").mkdir(mode=0o700, exist_ok=True)
    return dict(
        DEBUG=False,
        SECRET_KEY=_secret_key(d),
        ALLOWED_HOSTS=hosts,
        ROOT_URLCONF="provisioning.console.urls",
        INSTALLED_APPS=["django.contrib.sessions", "django.contrib.staticfiles"],
        MIDDLEWARE=[
            "provisioning.console.security.HeadersMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "provisioning.console.security.SessionMiddleware",
        ],
        TEMPLATES=[{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [str(HERE / "templates")],
            "APP_DIRS": False,
            "OPTIONS": {"builtins": ["provisioning.console.tags"],
                        "context_processors": ["provisioning.console.security.context"]},
        }],
        DATABASES={},
        SESSION_ENGINE="django.contrib.sessions.backends.file",
        SESSION_FILE_PATH=str(d / "sessions"),
        SESSION_COOKIE_NAME="console_session",
        SESSION_COOKIE_AGE=idle_minutes * 60,
        SESSION_SAVE_EVERY_REQUEST=True,          # idle expiry: every request moves it on
        SESSION_EXPIRE_AT_BROWSER_CLOSE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=cfg.secure_cookies,
        SESSION_COOKIE_SAMESITE="Strict",
        CSRF_COOKIE_HTTPONLY=True,
        CSRF_COOKIE_SECURE=cfg.secure_cookies,
        CSRF_COOKIE_SAMESITE="Strict",
        CSRF_FAILURE_VIEW="provisioning.console.views.csrf_failure",
        CSRF_TRUSTED_ORIGINS=[f"https://console.{dns_zone}"],
        SECURE_CONTENT_TYPE_NOSNIFF=True,
        SECURE_REFERRER_POLICY="same-origin",
        SECURE_CROSS_ORIGIN_OPENER_POLICY="same-origin",
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https") if cfg.trusted_proxies else None,
        X_FRAME_OPTIONS="DENY",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                            "LOCATION": str(d / "cache")}},
        STATIC_URL="/static/",
        STATICFILES_DIRS=[str(HERE / "static")],
        USE_I18N=False,
        USE_TZ=True,
        TIME_ZONE="Asia/Ho_Chi_Minh",
        FILE_UPLOAD_MAX_MEMORY_SIZE=2 * 1024 * 1024,
        FILE_UPLOAD_PERMISSIONS=0o600,
        FILE_UPLOAD_TEMP_DIR=str(d),
        DATA_UPLOAD_MAX_MEMORY_SIZE=1024 * 1024,
        DATA_UPLOAD_MAX_NUMBER_FIELDS=200,
        DEFAULT_CHARSET="utf-8",
        LOGGING={"version": 1, "disable_existing_loggers": False,
                 "handlers": {"stderr": {"class": "logging.StreamHandler"}},
                 # request paths and status only (Django never logs bodies, cookies or headers)
                 "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING"}}},
    )


def build(cfg: ConsoleConfig):
    """Configure Django for this province and return the WSGI application (once per process)."""
    global _STATE
    if cfg.data_dir is not None:
        os.environ["PROVISION_DATA"] = str(cfg.data_dir)
    if not (Path(cfg.inventory) / "province.yml").is_file():
        raise BadInput(f"{cfg.inventory}: no province.yml (the console serves one province inventory)")
    from .state import State

    st = State.load(cfg)
    import django
    from django.conf import settings

    if not settings.configured:   # Django's settings are per process: one province per process
        settings.configure(**django_settings(cfg, st.dir, st.province.dns_zone,
                                             max(st.idle_minutes(False), st.idle_minutes(True))))
        django.setup()
    _STATE = st
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def serve(cfg: ConsoleConfig) -> None:
    from waitress import serve as waitress_serve

    app = build(cfg)
    waitress_serve(app, host=cfg.host, port=cfg.port, threads=8, ident="console",
                   max_request_body_size=(cfg.upload_max_mb + 1) * 1024 * 1024,
                   trusted_proxy=cfg.trusted_proxies[0] if cfg.trusted_proxies else None,
                   trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"} if cfg.trusted_proxies else set(),
                   clear_untrusted_proxy_headers=True)
