"""Who is asking, and may they: the logged-in official and their roles, checked on every route.

A session is "logged in" only after the password (bind as the official) and, for any role above a
plain official, the second factor. Roles are read from the directory at login and kept in the session
(a revoked role takes effect at the next login or when the session expires).
"""
from __future__ import annotations

import functools
import time

from django.core.cache import cache
from django.http import HttpResponseForbidden, HttpResponseRedirect

from ..render import i18n

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Printable sheets and the offline report page carry their own <style> (no script anywhere)
CSP_DOCUMENT = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                "form-action 'none'; frame-ancestors 'self'")


class HeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


# The clock idle sessions are measured with; tests move it (nothing reachable over HTTP changes it).
clock = time.time


class SessionMiddleware:
    """Puts the logged-in official on the request (request.official, a dict, or None); a session ends
    after the province's idle time without a request (State.idle_minutes: shorter for administrators
    when the console's settings say so)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .app import state

        s = request.session
        who = s.get("official")
        if who:
            idle = state().idle_minutes(bool(who.get("privileged")))
            now = clock()
            if now - s.get("seen", 0) > idle * 60:
                s.flush()
                who = None
            else:
                s["seen"] = int(now)
        request.official = who
        return self.get_response(request)


def lang_of(request) -> str:
    lang = request.session.get("lang") if hasattr(request, "session") else None
    return lang if lang in i18n.LANGS else i18n.DEFAULT_LANG


def context(request) -> dict:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from .app import state

    who = getattr(request, "official", None)
    now = dt.datetime.now(ZoneInfo(state().province.info.timezone))
    return {"lang": lang_of(request), "official": who, "path": request.path, "current_month": f"{now:%Y-%m}"}


def client_ip(request) -> str:
    """The client's address (waitress replaces REMOTE_ADDR with X-Forwarded-For only from a trusted proxy)."""
    return request.META.get("REMOTE_ADDR") or "?"


def forbidden(request):
    from django.template.loader import render_to_string

    return HttpResponseForbidden(render_to_string("console/error.html", {
        "lang": lang_of(request), "official": getattr(request, "official", None),
        "message": i18n.t("console.forbidden", lang_of(request))}, request=request))


def login_required(view):
    @functools.wraps(view)
    def wrapper(request, *a, **kw):
        if not getattr(request, "official", None):
            return HttpResponseRedirect("/login")
        return view(request, *a, **kw)
    return wrapper


def allowed(official: dict | None, role: str, unit: str | None = None) -> bool:
    """role: hr | office | admin (of `unit`, or of any unit when unit is None) | any."""
    if not official:
        return False
    if role == "any":
        return True
    if role == "hr":
        return official.get("hr", False)
    if role == "office":
        return official.get("office", False)
    if role == "admin":
        units = official.get("admin_units", [])
        return bool(units) if unit is None else unit in units
    return False


def need(*roles: str):
    """The view runs when the official has one of `roles` (unit checks happen in the view)."""
    def deco(view):
        @functools.wraps(view)
        def wrapper(request, *a, **kw):
            if not getattr(request, "official", None):
                return HttpResponseRedirect("/login")
            if not any(allowed(request.official, r) for r in roles):
                return forbidden(request)
            return view(request, *a, **kw)
        return wrapper
    return deco


# --- login rate limit (on top of the directory's own lockout) ---------------------------------

def _keys(ip: str, username: str) -> tuple[str, str]:
    import hashlib

    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"login-ip:{ip}", f"login-user:{user}"


def limited(ip: str, username: str) -> bool:
    from .app import state

    lim = state().cfg.login_limit
    kip, kuser = _keys(ip, username)
    return (cache.get(kip, 0) >= lim.per_address) or (bool(username) and cache.get(kuser, 0) >= lim.per_user)


def failed_attempt(ip: str, username: str) -> None:
    from .app import state

    lim = state().cfg.login_limit
    for k in _keys(ip, username):
        try:
            cache.incr(k)
        except ValueError:
            cache.set(k, 1, lim.window_minutes * 60)


def clear_attempts(username: str, ip: str) -> None:
    cache.delete(_keys(ip, username)[1])
