"""The portal: HTTPS with a certificate of the provincial CA, and plain HTTP redirected to it."""
from __future__ import annotations

from ..context import CheckFn, Context, Server
from ..probes import HTTP, HTTPS


def check_https(service: str) -> CheckFn:
    def check(ctx: Context, server: Server) -> str:
        conn = HTTPS(ctx.name(service), server.address, ctx.tls, ctx.timeout)
        try:
            conn.request("GET", "/")
            resp = conn.getresponse()
            body = resp.read(200_000)
            version = conn.sock.version()
        finally:
            conn.close()
        if resp.status != 200:
            raise AssertionError(f"https://{ctx.name(service)}/ answered {resp.status}")
        if b"<html" not in body.lower():
            raise AssertionError("answer is not an HTML page")
        return f"200, certificate chains to the provincial CA ({version})"
    return check


def check_http_redirect(ctx: Context, server: Server) -> str:
    conn = HTTP(ctx.name("www"), server.address, ctx.timeout)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        location = resp.getheader("Location", "")
    finally:
        conn.close()
    if resp.status not in (301, 308) or not location.startswith(f"https://{ctx.name('www')}/"):
        raise AssertionError(f"http:// answered {resp.status} {location!r}, not a redirect to https://")
    return f"{resp.status} -> {location}"


CENTER_CHECKS = (
    ("web", "https-www", check_https("www")),
    ("web", "https-portal", check_https("portal")),
    ("web", "http-redirects-to-https", check_http_redirect),
)
