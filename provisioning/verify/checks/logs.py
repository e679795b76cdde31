"""Central logs (role logging): a marker line logged on a unit server (`logger -t provision-verify
<nonce>`, over SSH) arrives in the center's store (`<store>/<name>/`, the names the role published on
each server) within MARKER_WAIT seconds; the store's file system on the center is below the warning
threshold the role published (disk use read as `provision compliance` reads it: provisioning.logstore)."""
from __future__ import annotations

import secrets
import shlex
import time

from ... import logstore
from ..context import Context, Server

MARKER_TAG = "provision-verify"
MARKER_WAIT = 60.0      # seconds: the unit's queue sends at once; the margin covers a reconnect
POLL = 1.0


def check_marker(ctx: Context, server: Server) -> str:
    store = ctx.fact(ctx.center, "logging", "store")
    name = ctx.fact(server, "logging", "name")
    nonce = f"{MARKER_TAG}-{secrets.token_hex(8)}"
    ctx.ssh(server, ["logger", "-t", MARKER_TAG, nonce])
    started = time.monotonic()
    folder = f"{store.rstrip('/')}/{name}"
    # grep exits 1 when the line is not (yet) there: `|| true` keeps that from failing the SSH call
    command = ["sh", "-c", f"grep -lF -- {nonce} {shlex.quote(folder)}/*.log 2>/dev/null || true"]
    while True:
        found = ctx.ssh(ctx.center, command).split()
        waited = time.monotonic() - started
        if found:
            return f"marker {nonce} arrived at {ctx.center.name}:{found[-1]} in {waited:.0f} s"
        if waited > MARKER_WAIT:
            raise AssertionError(f"marker {nonce} logged on {server.name} not in {ctx.center.name}:{folder}/ "
                                 f"after {MARKER_WAIT:.0f} s")
        time.sleep(POLL)


def check_store_disk(ctx: Context, server: Server) -> str:
    store = ctx.fact(server, "logging", "store")
    warn = int(ctx.fact(server, "logging", "disk_warn_percent"))
    used = logstore.used_percent(ctx.ssh(server, ["sh", "-c", logstore.disk_command(store)]))
    if used is None:
        raise AssertionError(f"cannot read the disk use of {store} on {server.name} (df)")
    if used >= warn:
        raise AssertionError(f"{store}: file system {used}% full (warning at {warn}%): free space or "
                             "shorten logging_retention_days")
    return f"{store}: file system {used}% full (warning at {warn}%)"


CENTER_CHECKS = (
    ("logs", "store-disk-use", check_store_disk),
)
UNIT_CHECKS = (
    ("logs", "marker-reaches-center", check_marker),
)
