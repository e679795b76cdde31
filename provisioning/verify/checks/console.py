"""The web console: https://console.<zone>/ through the center's nginx, its certificate checked against
the provincial CA alone (the TLS context trusts nothing else), and a real login as the probe mailbox.

The probe's password is set by verify on every run (checks/mail.py), so the directory marks it as a
first password (pwdReset): the console then asks for a new one before anything else. The login check
changes it through the console, as an official would (Password Modify, bound as the probe), and keeps
the new one for the checks that follow."""
from __future__ import annotations

import re
import secrets as _random

from ..context import PROBE_UID, Context, Server
from ..probes import Browser

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _form(browser: Browser, path: str, field: str) -> str:
    """GET a page holding a form with `field`; its CSRF token."""
    status, _, page = browser.request("GET", path)
    if status != 200:
        raise AssertionError(f"https://{browser.ctx.name('console')}{path} answered {status}")
    token = _TOKEN.search(page)
    if f'name="{field}"' not in page or not token:
        raise AssertionError(f"no console form with {field!r} on {path}")
    return token.group(1)


def _post(browser: Browser, path: str, form: dict) -> tuple[int, str]:
    """POST a form as a browser on the console's page would (Django checks the Origin over HTTPS)."""
    origin = f"https://{browser.ctx.name('console')}"
    status, headers, _ = browser.request("POST", path, form, headers={"Origin": origin, "Referer": origin + path})
    return status, headers.get("location", "")


def check_console_page(ctx: Context, server: Server) -> str:
    browser = Browser(ctx, server, "console")
    status, _, body = browser.request("GET", "/healthz")
    if status != 200 or body.strip() != "ok":
        raise AssertionError(f"https://{ctx.name('console')}/healthz answered {status} {body[:80]!r}")
    _form(browser, "/login", "username")
    return f"https://{ctx.name('console')}/login: login form, certificate chains to the provincial CA"


def check_console_login(ctx: Context, server: Server) -> str:
    browser = Browser(ctx, server, "console")
    password = ctx.need_probe()
    token = _form(browser, "/login", "username")
    status, location = _post(browser, "/login", {"csrfmiddlewaretoken": token, "username": PROBE_UID,
                                                 "password": password})
    if status != 302 or location.startswith("/login"):
        raise AssertionError(f"login as {PROBE_UID} refused: {status} {location!r}")
    steps = [f"login as {PROBE_UID}: {status} -> {location}"]
    if location == "/password":
        new = _random.token_urlsafe(18)
        token = _form(browser, "/password", "new_password")
        status, location = _post(browser, "/password", {"csrfmiddlewaretoken": token, "old_password": password,
                                                        "new_password": new, "new_password2": new})
        if status != 302:
            raise AssertionError(f"first-password change for {PROBE_UID} refused: {status}")
        ctx.probe_password = new
        steps.append(f"first password changed -> {location}")
    status, _, page = browser.request("GET", "/me")
    if status != 200 or PROBE_UID not in page:
        raise AssertionError(f"/me after login answered {status} without {PROBE_UID}")
    token = _TOKEN.search(page)
    if token:
        _post(browser, "/logout", {"csrfmiddlewaretoken": token.group(1)})
    return "; ".join(steps + ["own account page shown"])


CENTER_CHECKS = (
    ("console", "https-login-page", check_console_page),
    ("console", "login", check_console_login),
)
