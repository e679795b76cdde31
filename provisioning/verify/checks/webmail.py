"""The webmail: Roundcube's login page over HTTPS, and a real login as the probe mailbox."""
from __future__ import annotations

import re

from ..context import PROBE_UID, Context, Server
from ..probes import Browser


def _login_form(browser: Browser) -> str:
    status, _, page = browser.request("GET", "/")
    if status != 200:
        raise AssertionError(f"https://{browser.ctx.name('mail')}/ answered {status}")
    token = re.search(r'name="_token" value="([^"]+)"', page)
    if 'name="_user"' not in page or not token:
        raise AssertionError("no Roundcube login form on the page")
    return token.group(1)


def check_webmail_page(ctx: Context, server: Server) -> str:
    _login_form(Browser(ctx, server))
    return f"https://{ctx.name('mail')}/: Roundcube login form, certificate chains to the provincial CA"


def check_webmail_login(ctx: Context, server: Server) -> str:
    """A real login: the form's token, the session cookie, the probe's directory password."""
    browser = Browser(ctx, server)
    token = _login_form(browser)
    form = {"_token": token, "_task": "login", "_action": "login", "_timezone": "Asia/Ho_Chi_Minh",
            "_url": "", "_user": PROBE_UID, "_pass": ctx.need_probe()}
    status, headers, _ = browser.request("POST", "/?_task=login", form)
    location = headers.get("location", "")
    if status != 302 or "_task=login" in location or not location:
        raise AssertionError(f"login refused: {status} {location!r}")
    return f"logged in as {PROBE_UID}: {status} -> {location}"


CENTER_CHECKS = (
    ("webmail", "https-login-page", check_webmail_page),
    ("webmail", "login", check_webmail_login),
)
