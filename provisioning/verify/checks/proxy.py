"""The unit proxy: it serves only over TLS (Squid https_port, the server's certificate, found by browsers
through the PAC file): 407 there without (or with wrong) credentials, the origin's answer for a member
of the unit's group (the probe mailbox, see checks/directory.py); the plain HTTP port refuses even
right credentials without asking for any (403), so no password is sent over it. The ports, name and
group are the ones the proxy role published on the server (role facts)."""
from __future__ import annotations

import secrets as _random

from ..context import PROBE_UID, Context, Server
from ..probes import proxy_get


def _portal_url(ctx: Context) -> str:
    return f"http://{ctx.name('www')}/"


def _port(ctx: Context, server: Server, key: str = "port") -> int:
    port = ctx.fact(server, "proxy", key)
    try:
        return int(port)
    except (TypeError, ValueError):
        raise AssertionError(f"role facts of proxy on {server.name}: {key} {port!r} is not a number") from None


def _tls(ctx: Context, server: Server):
    return ctx.tls, ctx.fact(server, "proxy", "fqdn")


def check_proxy_refuses(ctx: Context, server: Server) -> str:
    port = _port(ctx, server, "tls_port")
    status = proxy_get(server.address, port, _portal_url(ctx), ctx.timeout, tls=_tls(ctx, server))
    if status != 407:
        raise AssertionError(f"without credentials the TLS proxy answered {status}, not 407")
    status = proxy_get(server.address, port, _portal_url(ctx), ctx.timeout,
                       (PROBE_UID, "wrong-" + _random.token_hex(4)), tls=_tls(ctx, server))
    if status != 407:
        raise AssertionError(f"with a wrong password the TLS proxy answered {status}, not 407")
    return f"TLS port {port}: 407 without credentials and with a wrong password"


def check_proxy_allows(ctx: Context, server: Server) -> str:
    port, group = _port(ctx, server, "tls_port"), ctx.fact(server, "proxy", "group")
    status = proxy_get(server.address, port, _portal_url(ctx), ctx.timeout, (PROBE_UID, ctx.need_probe()),
                       tls=_tls(ctx, server))
    if status in (403, 407) or status >= 500:
        raise AssertionError(f"a member of {group} got {status} for {_portal_url(ctx)} (TLS port {port})")
    return f"member of {group}: {_portal_url(ctx)} answered {status} through the TLS proxy (port {port})"


def check_plain_refuses(ctx: Context, server: Server) -> str:
    port = _port(ctx, server)
    status = proxy_get(server.address, port, _portal_url(ctx), ctx.timeout)
    if status != 403:
        raise AssertionError(f"plain HTTP port {port} answered {status} without credentials, not 403 "
                             "(it must never ask for credentials)")
    status = proxy_get(server.address, port, _portal_url(ctx), ctx.timeout, (PROBE_UID, ctx.need_probe()))
    if status != 403:
        raise AssertionError(f"plain HTTP port {port} answered {status} to a member's basic credentials, not 403")
    return f"plain port {port}: 403, no credentials asked or accepted"


UNIT_CHECKS = (
    ("proxy", "refuses-without-credentials-407", check_proxy_refuses),
    ("proxy", "allows-unit-member", check_proxy_allows),
    ("proxy", "plain-http-refuses-basic-auth", check_plain_refuses),
)
