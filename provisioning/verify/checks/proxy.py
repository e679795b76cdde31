"""The unit proxy: plain HTTP through it, 407 without (or with wrong) credentials, the origin's answer
for a member of the unit's group (the probe mailbox, see checks/directory.py). The port and the group
are the ones the proxy role published on the server (role facts)."""
from __future__ import annotations

import secrets as _random

from ..context import PROBE_UID, Context, Server
from ..probes import proxy_get

def _portal_url(ctx: Context) -> str:
    return f"http://{ctx.name('www')}/"


def _port(ctx: Context, server: Server) -> int:
    port = ctx.fact(server, "proxy", "port")
    try:
        return int(port)
    except (TypeError, ValueError):
        raise AssertionError(f"role facts of proxy on {server.name}: port {port!r} is not a number") from None


def check_proxy_refuses(ctx: Context, server: Server) -> str:
    port = _port(ctx, server)
    status = proxy_get(server.address, port, _portal_url(ctx), ctx.timeout)
    if status != 407:
        raise AssertionError(f"without credentials the proxy answered {status}, not 407")
    status = proxy_get(server.address, port, _portal_url(ctx), ctx.timeout,
                       (PROBE_UID, "wrong-" + _random.token_hex(4)))
    if status != 407:
        raise AssertionError(f"with a wrong password the proxy answered {status}, not 407")
    return f"port {port}: 407 without credentials and with a wrong password"


def check_proxy_allows(ctx: Context, server: Server) -> str:
    port, group = _port(ctx, server), ctx.fact(server, "proxy", "group")
    status = proxy_get(server.address, port, _portal_url(ctx), ctx.timeout, (PROBE_UID, ctx.need_probe()))
    if status in (403, 407) or status >= 500:
        raise AssertionError(f"a member of {group} got {status} for {_portal_url(ctx)} (port {port})")
    return f"member of {group}: {_portal_url(ctx)} answered {status} through the proxy (port {port})"


UNIT_CHECKS = (
    ("proxy", "refuses-without-credentials-407", check_proxy_refuses),
    ("proxy", "allows-unit-member", check_proxy_allows),
)
