"""Time: every server answers SNTP, synchronised."""
from __future__ import annotations

from ..context import Context, Server
from ..probes import ntp_query


def check_ntp(ctx: Context, server: Server) -> str:
    stratum, offset = ntp_query(server.address, ctx.timeout)
    return f"stratum {stratum}, offset {offset * 1000:+.0f} ms"


CHECKS = (
    ("ntp", "answers", check_ntp),
)
