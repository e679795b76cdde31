"""verify checks what the roles really deployed: the values they publish as local facts
(/etc/ansible/facts.d/<role>.fact), read over SSH with the inventory's host-key checking. On the shared
deployed lab: an overridden share name and proxy port are followed; a missing facts file fails only the
checks that need it; a changed or unknown host key stops verify for that server only. Every change is
undone, so later modules find the province as it was."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

pytestmark = [pytest.mark.lab, pytest.mark.slow]

FACTS = "/etc/ansible/facts.d"
HOST_KEY = "SSH host key"          # the reason, whichever way the key was refused (unknown, changed)


def facts(lab, host: str, role: str) -> dict:
    return json.loads(lab.ssh(host, f"cat {FACTS}/{role}.fact", check=True).stdout)


def verify(inv, *limit: str) -> tuple[int, dict]:
    args = ["verify", "-i", str(inv), "--json"] + (["--limit", ",".join(limit)] if limit else [])
    r = run_cli(*args)
    assert r.stdout.strip().startswith("{"), r.stdout + r.stderr
    return r.returncode, {(c["host"], c["service"], c["check"]): c for c in json.loads(r.stdout)["checks"]}


def deploy(inv, host: str, tags: str) -> dict:
    r = run_cli("deploy", "-i", str(inv), "--limit", host, "--tags", tags, "--json")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    return json.loads(r.stdout)


def test_roles_publish_their_effective_values(deployed_lab):
    lab, center, unit = deployed_lab.lab, deployed_lab.center.name, deployed_lab.units[0].name
    assert facts(lab, unit, "fileshare")["share"] == "tailieu"
    assert facts(lab, unit, "fileshare")["path"] == "/srv/samba/tailieu"
    assert facts(lab, unit, "proxy")["port"] == 3128
    assert facts(lab, center, "pki")["ca_path"] == "/usr/local/share/ca-certificates/provision-ca.crt"
    assert facts(lab, unit, "pki")["cert"] == f"/etc/ssl/provision/{unit}.{deployed_lab.province.dns_zone}.crt"
    assert facts(lab, center, "backup")["command"] == "/usr/local/sbin/provision-backup"
    assert facts(lab, center, "mail")["vmail_dir"] == "/var/vmail"
    # Ansible itself reads them as ansible_local.<role>
    r = subprocess.run([str(Path(sys.executable).with_name("ansible")), unit, "-i", str(deployed_lab.inventory / "hosts.yml"),
                        "-m", "setup", "-a", "filter=ansible_local"], capture_output=True, text=True, timeout=300,
                       cwd=ROOT, env={**os.environ, "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
    assert r.returncode == 0 and "=>" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
    local = json.loads(r.stdout.split("=>", 1)[1])["ansible_facts"]["ansible_local"]
    assert local["fileshare"]["share"] == "tailieu" and local["proxy"]["port"] == 3128, local


def test_verify_follows_an_overridden_share_name_and_proxy_port(deployed_lab):
    lab, inv, center, unit = deployed_lab.lab, deployed_lab.inventory, deployed_lab.center.name, deployed_lab.units[0]
    host_vars = inv / "host_vars" / f"{unit.name}.yml"
    assert not host_vars.exists()
    host_vars.parent.mkdir(exist_ok=True)
    host_vars.write_text("fileshare_share: hoso\nproxy_port: 3129\n")
    try:
        deploy(inv, unit.name, "fileshare,proxy")
        assert facts(lab, unit.name, "fileshare")["share"] == "hoso"
        assert facts(lab, unit.name, "proxy")["port"] == 3129
        _, checks = verify(inv, center, unit.name)
        smb = checks[(unit.name, "fileshare", "smb-login-file-roundtrip")]
        assert smb["ok"] and f"//{unit.address}/hoso:" in smb["detail"], smb
        for name in ("refuses-without-credentials-407", "allows-unit-member"):
            proxy = checks[(unit.name, "proxy", name)]
            assert proxy["ok"] and "port 3129" in proxy["detail"], proxy
        # nothing answers on the default port any more: a copy of the role's default would have failed
        with pytest.raises(OSError):
            socket.create_connection((unit.address, 3128), timeout=3).close()
    finally:
        host_vars.unlink()
        deploy(inv, unit.name, "fileshare,proxy")
        lab.ssh(unit.name, "rm -rf /srv/samba/hoso", check=True)
    assert facts(lab, unit.name, "fileshare")["share"] == "tailieu"
    assert facts(lab, unit.name, "proxy")["port"] == 3128
    rc, checks = verify(inv, center, unit.name)
    assert rc == 0, [c for c in checks.values() if not c["ok"]]
    assert "/tailieu:" in checks[(unit.name, "fileshare", "smb-login-file-roundtrip")]["detail"]


def test_missing_facts_and_a_changed_host_key_fail_only_what_they_concern(deployed_lab, tmp_path):
    """One unit server without its proxy facts: its two proxy checks fail ("deploy first"), the rest of
    it passes. Another unit server answering with another host key: every check of it fails with the
    host-key reason. The center passes untouched."""
    lab, inv, center = deployed_lab.lab, deployed_lab.inventory, deployed_lab.center.name
    bare, victim = deployed_lab.units[0].name, deployed_lab.units[1].name
    known = lab.dir / "known_hosts"
    original = known.read_text()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    other_key = " ".join((tmp_path / "k.pub").read_text().split()[:2])
    lab.ssh(bare, f"mv {FACTS}/proxy.fact /root/proxy.fact", check=True)
    known.write_text("".join(line.split(" ")[0] + " " + other_key + "\n"
                             if victim in line.split(" ")[0].split(",") else line + "\n"
                             for line in original.splitlines()))
    try:
        rc, checks = verify(inv)
        # unknown (no line at all) is refused the same way
        known.write_text("".join(line + "\n" for line in original.splitlines()
                                 if victim not in line.split(" ")[0].split(",")))
        rc_unknown, unknown = verify(inv, victim)
    finally:
        known.write_text(original)
        lab.ssh(bare, f"mv /root/proxy.fact {FACTS}/proxy.fact", check=True)
    assert rc == 1
    mine = [c for (host, _, _), c in checks.items() if host == victim]
    assert mine and all(not c["ok"] and HOST_KEY in c["detail"] for c in mine), mine
    proxy = [c for (host, service, _), c in checks.items() if host == bare and service == "proxy"]
    assert len(proxy) == 2 and all(not c["ok"] and f"role facts missing on {bare}: deploy first" in c["detail"]
                                   for c in proxy), proxy
    others = [c for (host, service, _), c in checks.items() if host != victim and not (host == bare and service == "proxy")]
    assert others and all(c["ok"] for c in others), [c for c in others if not c["ok"]]
    assert {host for host, _, _ in checks} == {center, bare, victim}
    assert rc_unknown == 1 and unknown and all(not c["ok"] and HOST_KEY in c["detail"] for c in unknown.values()), unknown
    rc, checks = verify(inv, center, victim)
    assert rc == 0, [c for c in checks.values() if not c["ok"]]
