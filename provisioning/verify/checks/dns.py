"""DNS: the province's records as every server answers them, and the unit secondaries in step."""
from __future__ import annotations

from ..context import Context, Server
from ..probes import dig, txt_records


def check_dns_records(ctx: Context, server: Server) -> str:
    """The province's A and MX records as answered by this server (primary or unit resolver)."""
    want = {(ctx.name(s), "A"): [ctx.center.address] for s in ("www", "portal", "mail", "ldap", "ns1")}
    want.update({(s.fqdn, "A"): [s.address] for s in ctx.servers})
    want[(ctx.domain, "MX")] = [f"10 {ctx.name('mail')}."]
    # the mail policy receivers look up: SPF, DMARC and the DKIM key (values are the roles' to choose)
    policy = {ctx.domain: "v=spf1 ", f"_dmarc.{ctx.domain}": "v=DMARC1;",
              f"{ctx.province.info.dkim_selector}._domainkey.{ctx.domain}": "v=DKIM1;"}
    wrong = []
    for (name, rtype), expected in want.items():
        got = dig(server.address, name, rtype, ctx.timeout)
        if got != expected:
            wrong.append(f"{name} {rtype}: {got or 'no answer'} (want {expected})")
    for name, prefix in policy.items():
        got = txt_records(server.address, name, ctx.timeout)
        if not any(t.startswith(prefix) for t in got):
            wrong.append(f"{name} TXT: {[t[:40] for t in got] or 'no answer'} (want {prefix.strip()}...)")
    if wrong:
        raise AssertionError("; ".join(wrong))
    return f"{len(want) + len(policy)} records (A of servers and services, MX, SPF, DMARC, DKIM) as expected"


def check_dns_serial(ctx: Context, server: Server) -> str:
    """A unit server's secondary copy of the zone is as recent as the center's."""
    center = dig(ctx.center.address, ctx.zone, "SOA", ctx.timeout)
    mine = dig(server.address, ctx.zone, "SOA", ctx.timeout)
    serial = lambda soa: soa[0].split()[2] if soa else "none"  # noqa: E731
    if serial(center) != serial(mine):
        raise AssertionError(f"zone serial {serial(mine)} differs from the center's {serial(center)}")
    return f"secondary zone serial {serial(mine)} = center"


CENTER_CHECKS = (
    ("dns", "records", check_dns_records),
)
UNIT_CHECKS = (
    ("dns", "records", check_dns_records),
    ("dns", "secondary-serial", check_dns_serial),
)
