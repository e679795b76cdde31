"""TLS floors of the deployed province, checked by verify from outside: every listener passes
(TLS 1.0/1.1 refused even with every legacy suite offered, no CBC-only session, no client-initiated
renegotiation); a listener weakened by hand fails exactly its own check, and passes again once
restored. The portal and webmail do not compress
HTTPS answers (BREACH)."""
from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli

pytestmark = [pytest.mark.lab, pytest.mark.slow]

MIRROR_SITE = "/etc/nginx/sites-available/mirror"
# What a careless edit would leave: every protocol and every suite, security level 0.
WEAKEN = (f"cp -p {MIRROR_SITE} /root/mirror.site && "
          f"sed -i -e 's/^\\s*ssl_protocols .*/\\tssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;/' "
          f"-e 's/^\\s*ssl_ciphers .*/\\tssl_ciphers DEFAULT:@SECLEVEL=0;/' {MIRROR_SITE} && "
          "nginx -t -q && /etc/init.d/nginx reload")
RESTORE = f"cp -p /root/mirror.site {MIRROR_SITE} && nginx -t -q && /etc/init.d/nginx reload"


def tls_checks(inv, *limit: str) -> dict[tuple[str, str], dict]:
    r = run_cli("verify", "-i", str(inv), "--json", "--limit", ",".join(limit))
    assert r.stdout.strip().startswith("{"), r.stdout + r.stderr
    return {(c["host"], c["check"]): c for c in json.loads(r.stdout)["checks"] if c["service"] == "tls"}


def failing(checks: dict) -> set[tuple[str, str]]:
    return {key for key, c in checks.items() if not c["ok"]}


def test_every_listener_holds_the_floor_and_a_weakened_one_fails(deployed_lab):
    center = deployed_lab.center.name
    hosts = [center] + [u.name for u in deployed_lab.units]
    before = tls_checks(deployed_lab.inventory, *hosts)
    names = {check for _, check in before}
    assert {"floor-ldap-389", "floor-ldaps-636", "floor-smtp-25", "floor-submission-587", "floor-imap-143",
            "floor-imaps-993", "floor-https-443", "floor-webmail-443", "floor-mirror"} <= names
    for unit in deployed_lab.units:
        assert (unit.name, "floor-ldaps-636") in before
    assert failing(before) == set(), {k: before[k]["detail"] for k in failing(before)}
    # the portal and webmail do not compress HTTPS answers (BREACH)
    assert {"https-not-compressed-www", "https-not-compressed-webmail"} <= names

    lab = deployed_lab.lab
    lab.ssh(center, WEAKEN, check=True)
    try:
        weakened = tls_checks(deployed_lab.inventory, center)
        assert failing(weakened) == {(center, "floor-mirror")}, {k: c["detail"] for k, c in weakened.items()}
        assert "TLS 1.0 handshake accepted" in weakened[(center, "floor-mirror")]["detail"]
    finally:
        lab.ssh(center, RESTORE, check=True)
    assert failing(tls_checks(deployed_lab.inventory, center)) == set()
