"""Revocation, checked as a client that honours the provincial CA's CRL would: the CRL is fetched over
plain HTTP from the center (the URL the pki role published, `http://pki.<zone>/provision-ca.crl`), its
signature is checked against the provincial CA, and its nextUpdate watched (a warning within
WARN_DAYS, a failure within FAIL_DAYS or past it: `provision deploy` or `provision pki crl` signs a new
one). On every server, the certificate each TLS listener presents (the listeners of the tls checks)
must name that CRL (CRL Distribution Points) and must not be on it."""
from __future__ import annotations

import urllib.parse
import weakref

from ... import crl
from ...errors import OperationFailed
from ..context import Context, Server
from .tls import CENTER_LISTENERS, UNIT_LISTENERS, Listener

WARN_DAYS = 7.0     # the pki role renews the CRL 10 days before its nextUpdate (pki_crl_renew_days)
FAIL_DAYS = 2.0

_crls: "weakref.WeakKeyDictionary[Context, tuple[str, crl.Crl] | OperationFailed]" = weakref.WeakKeyDictionary()


def crl_url(ctx: Context) -> str:
    return str(ctx.fact(ctx.center, "pki", "crl_url"))


def current_crl(ctx: Context) -> tuple[str, crl.Crl]:
    """(URL, CRL) fetched once per verify run from the center, signature checked (AssertionError when
    it cannot be had)."""
    if ctx not in _crls:
        url = crl_url(ctx)
        parts = urllib.parse.urlsplit(url)
        try:
            data = crl.fetch(ctx.center.address, parts.hostname or "", parts.path or "/", ctx.timeout,
                             parts.port or 80)
            _crls[ctx] = (url, crl.parse(data, ctx.ca_pem))
        except OperationFailed as e:
            _crls[ctx] = e
    got = _crls[ctx]
    if isinstance(got, OperationFailed):
        raise AssertionError(f"CRL: {got}")
    return got


def check_crl(ctx: Context, server: Server) -> str:
    url, found = current_crl(ctx)
    if not found.signed_by_ca:
        raise AssertionError(f"{url}: not signed by the provincial CA ({found.problem})")
    left = found.days_left()
    if left is None:
        raise AssertionError(f"{url}: no nextUpdate")
    when = found.next_update.isoformat(timespec="minutes")
    if left < 0:
        raise AssertionError(f"{url}: expired at {when} (nextUpdate passed): provision pki crl")
    if left < FAIL_DAYS:
        raise AssertionError(f"{url}: nextUpdate {when}, in {left * 24:.0f} h: provision pki crl")
    note = f"warning: nextUpdate in {left:.1f} days, provision pki crl; " if left < WARN_DAYS else ""
    return (f"{note}{url}: signed by the provincial CA, CRL number {found.number}, "
            f"{len(found.revoked)} revoked, nextUpdate {when}")


def listeners(ctx: Context, server: Server) -> tuple[list[Listener], list[str]]:
    """The server's TLS listeners, and those left out because their role published no port (that role's
    own checks fail with "deploy first"; this one checks the others)."""
    fixed, role, key, service = ((CENTER_LISTENERS, "package_mirror", "port", "mirror") if server.center
                                 else (UNIT_LISTENERS, "proxy", "tls_port", "proxy"))
    try:
        return [*fixed, Listener(service, int(ctx.fact(server, role, key)))], []
    except AssertionError as e:
        return list(fixed), [f"{service} not checked ({e})"]


def check_served(ctx: Context, server: Server) -> str:
    url, found = current_crl(ctx)
    seen: dict[str, list[str]] = {}
    problems = []
    found_listeners, left_out = listeners(ctx, server)
    for item in found_listeners:
        name = ctx.name(item.service) if item.service else server.fqdn
        where = f"port {item.port}" + (f" ({item.service})" if item.service else "")
        try:
            info = crl.certificate_info(crl.served_certificate(server.address, item.port, name, item.starttls,
                                                               ctx.timeout))
        except OperationFailed as e:
            problems.append(f"{where}: {e}")
            continue
        if info.serial in found.revoked:
            problems.append(f"{where}: certificate {info.serial} is revoked (CRL {found.number})")
        elif url not in info.crl_urls:
            problems.append(f"{where}: certificate {info.serial} does not name the CRL {url}")
        seen.setdefault(info.serial, []).append(str(item.port))
    if problems:
        raise AssertionError("; ".join(problems))
    return "; ".join([f"{serial} not revoked (ports {', '.join(ports)})" for serial, ports in seen.items()]
                     + left_out)


CENTER_CHECKS = (
    ("pki", "crl-published", check_crl),
    ("pki", "certificates-not-revoked", check_served),
)
UNIT_CHECKS = (
    ("pki", "certificates-not-revoked", check_served),
)
