"""Central logs (role logging): a marker line logged on a unit server (`logger -t provision-verify
<nonce>`, over SSH) arrives in the center's store (`<store>/<name>/`, the names the role published on
each server) within MARKER_WAIT seconds; the store's file system on the center is below the warning
threshold the role published (disk use read as `provision compliance` reads it: provisioning.logstore);
the center's listener holds its TLS floor, probed from each unit server with that server's own province
certificate (the listener drops a sender without one, so the floor cannot be probed from here):
a TLS 1.2 handshake verified against the provincial CA and the center's name works, TLS 1.0 and 1.1
handshakes fail even with every legacy suite offered."""
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


LEGACY = "DEFAULT:@SECLEVEL=0"    # as tls.py: the client's own floor must not hide a server that accepts them


def check_center_floor(ctx: Context, server: Server) -> str:
    port = int(ctx.fact(ctx.center, "logging", "port"))
    cert, key, ca = (ctx.fact(server, "pki", k) for k in ("cert", "key", "ca_path"))
    base = ["openssl", "s_client", "-connect", f"{ctx.center.address}:{port}", "-servername", ctx.center.fqdn,
            "-verify_hostname", ctx.center.fqdn, "-CAfile", ca, "-verify_return_error", "-cert", cert, "-key", key]
    seen = {}
    for flag in ("-tls1_2", "-tls1_1", "-tls1"):
        argv = base + [flag] + ([] if flag == "-tls1_2" else ["-cipher", LEGACY])
        # exit status and the session line; `|| true`: a refused handshake is an answer, not an SSH failure
        out = ctx.ssh(server, ["sh", "-c", f'f=$(mktemp) && {{ {shlex.join(argv)} </dev/null >"$f" 2>&1; '
                                           'echo rc=$?; grep -m1 "^New, " "$f"; rm -f "$f"; }'])
        seen[flag] = out.startswith("rc=0") and "Cipher is (NONE)" not in out and "New, TLS" in out, out.strip()
    ok12, out12 = seen["-tls1_2"]
    if not ok12:
        raise AssertionError(f"{ctx.center.name}:{port} from {server.name}: no verified TLS 1.2 handshake ({out12})")
    for flag, version in (("-tls1", "TLS 1.0"), ("-tls1_1", "TLS 1.1")):
        if seen[flag][0]:
            raise AssertionError(f"{ctx.center.name}:{port} from {server.name}: {version} handshake accepted")
    return f"{ctx.center.name}:{port} from {server.name}: TLS 1.2 with this server's certificate, TLS 1.0/1.1 refused"


CENTER_CHECKS = (
    ("logs", "store-disk-use", check_store_disk),
)
UNIT_CHECKS = (
    ("logs", "marker-reaches-center", check_marker),
    ("logs", "center-listener-tls-floor", check_center_floor),
)
