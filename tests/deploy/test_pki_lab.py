"""Revocation on the deployed province: every certificate names the CRL the center publishes over plain
HTTP; `provision pki revoke` of a unit server's certificate puts its serial on that CRL at once and makes
verify fail on exactly that server's revocation check; the next deploy gives the server a new key and
certificate, verify passes again and a further deploy changes nothing. An unknown server is refused
(exit 2) with nothing written on the CA host."""
from __future__ import annotations

import json

import pytest

from provisioning import crl
from provisioning.deploy.runner import deploy
from tests.conftest import run_cli

pytestmark = [pytest.mark.lab, pytest.mark.slow]

CA_STATE = ("cat /etc/ssl/provision-ca/index.txt /etc/ssl/provision-ca/crlnumber; "
            "sha256sum /etc/ssl/provision-ca/crl.pem /var/www/pki/provision-ca.crl")


def verify_failures(inv, *hosts: str) -> dict[tuple[str, str], str]:
    r = run_cli("verify", "-i", str(inv), "--json", "--limit", ",".join(hosts))
    assert r.stdout.strip().startswith("{"), r.stdout + r.stderr
    checks = json.loads(r.stdout)["checks"]
    assert {(c["host"], c["check"]) for c in checks if c["service"] == "pki"} >= {(h, "certificates-not-revoked")
                                                                                  for h in hosts}
    return {(c["host"], c["check"]): c["detail"] for c in checks if not c["ok"]}


def pki_status(inv) -> dict:
    r = run_cli("pki", "status", "-i", str(inv), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def current(status: dict, host: str) -> dict:
    [cert] = [c for c in status["certificates"] if c["host"] == host and c["current"]]
    return cert


def published_crl(deployed_lab, ca_pem: str) -> crl.Crl:
    data = crl.fetch(deployed_lab.center.address, f"pki.{deployed_lab.province.dns_zone}", "/provision-ca.crl")
    return crl.parse(data, ca_pem)


def test_every_server_certificate_names_the_published_crl(deployed_lab, ca_pem):
    status = pki_status(deployed_lab.inventory)
    assert status["crl"]["state"] == "ok" and status["ok"]
    found = published_crl(deployed_lab, ca_pem)
    assert found.signed_by_ca and found.days_left() > 20
    url = f"http://pki.{deployed_lab.province.dns_zone}/provision-ca.crl"
    for host in (deployed_lab.center, *deployed_lab.units):
        pem = deployed_lab.lab.ssh(host.name, f"cat /etc/ssl/provision/{deployed_lab.province.fqdn(host)}.crt",
                                   check=True).stdout
        info = crl.certificate_info(pem)
        assert info.crl_urls == (url,), host.name
        assert current(status, host.name)["serial"] == info.serial and info.serial not in found.revoked
    # the CRL is also fetched by the servers themselves, by name (DNS of the province)
    unit = deployed_lab.units[0]
    r = deployed_lab.lab.ssh(unit.name, f"python3 -c 'import urllib.request; "
                                        f"print(len(urllib.request.urlopen(\"{url}\", timeout=10).read()))'")
    assert r.returncode == 0 and int(r.stdout) > 100, r.stdout + r.stderr


def test_unknown_server_is_refused_and_nothing_is_written(deployed_lab):
    before = deployed_lab.lab.ssh(deployed_lab.center.name, CA_STATE, check=True).stdout
    r = run_cli("pki", "revoke", "no-such-srv", "-i", str(deployed_lab.inventory))
    assert r.returncode == 2 and "no-such-srv" in r.stderr, r.stdout + r.stderr
    r = run_cli("pki", "revoke", deployed_lab.units[0].name, "--reason", "stolen", "-i", str(deployed_lab.inventory))
    assert r.returncode == 2 and "--reason" in r.stderr, r.stdout + r.stderr
    assert deployed_lab.lab.ssh(deployed_lab.center.name, CA_STATE, check=True).stdout == before


def test_revoked_unit_certificate_fails_verify_until_the_next_deploy(deployed_lab, ca_pem):
    lab, inv = deployed_lab.lab, deployed_lab.inventory
    center, unit = deployed_lab.center.name, deployed_lab.units[0].name
    key = f"/etc/ssl/provision/{deployed_lab.province.fqdn(deployed_lab.units[0])}.key"
    assert verify_failures(inv, center, unit) == {}
    old = current(pki_status(inv), unit)
    old_key = lab.ssh(unit, f"sha256sum {key}", check=True).stdout

    r = run_cli("pki", "revoke", unit, "--reason", "keyCompromise", "-i", str(inv), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    done = json.loads(r.stdout)
    assert old["serial"] in done["revoked"] and done["changed"]
    try:
        # the CRL over HTTP names the revoked serial at once, signed by the provincial CA
        found = published_crl(deployed_lab, ca_pem)
        assert found.signed_by_ca and old["serial"] in found.revoked
        status = pki_status(inv)
        assert {c["serial"]: c["state"] for c in status["certificates"]}[old["serial"]] == "revoked"
        # exactly one check fails: the unit server's revocation check, naming the serial
        failures = verify_failures(inv, center, unit)
        assert set(failures) == {(unit, "certificates-not-revoked")}, failures
        assert old["serial"] in failures[(unit, "certificates-not-revoked")]
        # revoking again finds nothing valid: nothing changes
        again = json.loads(run_cli("pki", "revoke", unit, "-i", str(inv), "--json").stdout)
        assert again["revoked"] == [] and not again["changed"]
    finally:
        reissued = deploy(inv, limit=unit)
    assert reissued.ok, [(h.host, h.error) for h in reissued.hosts]
    new = current(pki_status(inv), unit)
    assert new["serial"] != old["serial"] and new["state"] == "valid"
    assert lab.ssh(unit, f"sha256sum {key}", check=True).stdout != old_key     # a new key, too
    assert verify_failures(inv, center, unit) == {}
    quiet = deploy(inv, limit=unit)
    assert quiet.ok and quiet.changed == 0, [(h.host, h.tasks_changed) for h in quiet.hosts]
