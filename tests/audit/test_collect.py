"""The audit end to end on loopback, without root: fake Linux hosts (asyncssh), the lab's switch simulator
in a subprocess, a silent TCP listener, closed ports, a Windows host. Each host must end with the right
status while the others are audited."""
import time

import pytest
from netmiko import ConnectHandler

from audit_fakes import (PASSWORD, SW_ENABLE, SW_PASSWORD, SW_USER, FakeFleet, SilentListener, Switches,
                         free_ports, write_inventory)
from provisioning.audit import network
from provisioning.lab.hostkey import make_host_key
from provisioning.audit.baseline import load_baseline
from provisioning.audit.deadline import Deadline, Watchdog
from provisioning.audit.runner import run_audit
from provisioning.model import load_province


@pytest.fixture(scope="module")
def fleet():
    with FakeFleet(6) as f:
        yield f


@pytest.fixture(scope="module")
def switches(tmp_path_factory):
    with Switches(3, tmp_path_factory.mktemp("sw")) as s:
        yield s


def audit(inv, timeout=10.0, workers=8, limit=None):
    p = load_province(inv)
    return run_audit(p, p.select(limit), load_baseline(), workers=workers, timeout=timeout)


def test_fleet_facts_are_the_hosts_hardware(fleet, tmp_path):
    inv = write_inventory(tmp_path / "inv", {p["hostname"]: port for p, port in zip(fleet.profiles, fleet.ports)},
                          host_pub=fleet.host_pub)
    rep = audit(inv)
    assert [h.status for h in rep.hosts] == ["audited"] * 6
    for h, p in zip(rep.hosts, fleet.profiles):
        f = h.facts
        assert (f["hostname"], f["ram_mb"], f["cpu_cores"], f["cpu_model"]) == (
            p["hostname"], p["ram_mb"], p["cpu_cores"], p["cpu_model"])
        assert (f["os_name"], f["serial"], f["root_free_gb"]) == (p["os_name"], p["serial"], p["root_free_gb"])
        assert h.grade in ("pass", "warn", "fail") and h.checks
        ram = next(c for c in h.checks if c.name == "ram_mb")
        assert ram.passed is (p["ram_mb"] >= 3500)


def test_each_bad_host_gets_its_own_status_and_the_others_finish(fleet, switches, tmp_path):
    closed = free_ports(1)[0]
    with SilentListener() as silent:
        linux = {p["hostname"]: port for p, port in zip(fleet.profiles[:3], fleet.ports[:3])}
        inv = write_inventory(tmp_path / "inv", linux, {"sw000": switches.ports[0]}, extra={
            "pc-silent": {"group": "workstations", "ansible_host": "127.0.0.1", "ansible_port": silent.port},
            "pc-off": {"group": "workstations", "ansible_host": "127.0.0.1", "ansible_port": closed},
            "pc-wrongpw": {"group": "workstations", "ansible_host": "127.0.0.1", "ansible_port": fleet.ports[3],
                           "ansible_password": "not-the-password"},
            "pc-templated": {"group": "workstations", "ansible_host": "127.0.0.1", "ansible_port": fleet.ports[4],
                             "ansible_password": "{{ vault_unit_pc_password }}"},
            "pc-hangs": {"group": "workstations", "ansible_host": "127.0.0.1", "ansible_port": fleet.ports[5]},
            "pc-windows": {"group": "workstations", "ansible_host": "127.0.0.1", "ansible_port": 1,
                           "os_family": "windows"},
            "sw-junos": {"group": "switches", "ansible_host": "127.0.0.1", "ansible_port": 2,
                         "device_type": "juniper_junos"},
            "sw-wrongpw": {"group": "switches", "ansible_host": "127.0.0.1", "ansible_port": switches.ports[1],
                           "ansible_password": "wrong-switch-pw"},
            "sw-wrongenable": {"group": "switches", "ansible_host": "127.0.0.1", "ansible_port": switches.ports[2],
                               "enable_secret": "wrong-enable"},
        }, host_pub=fleet.host_pub, switch_pub=switches.host_pub)
        fleet.profiles[5]["hang"] = True
        t0 = time.monotonic()
        try:
            rep = audit(inv, timeout=3.0, workers=10)
        finally:
            fleet.profiles[5].pop("hang")
        wall = time.monotonic() - t0
    by = {h.host: h for h in rep.hosts}
    assert {n: by[n].status for n in linux} == {n: "audited" for n in linux}
    assert by["sw000"].status == "audited"
    assert by["pc-silent"].status == "timeout" and "3 s" in by["pc-silent"].reason
    assert by["pc-silent"].duration_s <= 3.0 + 1.0   # the hard limit holds (a margin for thread scheduling)
    assert by["pc-templated"].status == "auth_failed" and by["pc-templated"].reason_code == "templated_secret"
    assert by["pc-hangs"].status == "timeout" and by["pc-hangs"].duration_s <= 3.0 + 1.0
    assert by["pc-off"].status == "unreachable" and str(closed) in by["pc-off"].reason
    assert by["pc-wrongpw"].status == "auth_failed" and "auditor" in by["pc-wrongpw"].reason
    assert by["sw-wrongpw"].status == "auth_failed"
    assert by["sw-wrongenable"].status == "auth_failed" and "enable" in by["sw-wrongenable"].reason
    assert by["pc-windows"].status == "unsupported" and "Windows" in by["pc-windows"].reason
    assert by["sw-junos"].status == "unsupported" and "juniper_junos" in by["sw-junos"].reason
    assert all(h.grade is None and not h.checks for h in rep.hosts if h.status != "audited")
    # hosts run in parallel: the silent host's wait overlaps the others' audits
    assert wall < 3.0 + 1.0 + 3.0
    # hosts that could not be audited are never counted as compliant
    assert rep.totals["compliant"] == sum(1 for h in rep.hosts if h.grade in ("pass", "warn"))
    for secret in (PASSWORD, SW_PASSWORD, SW_ENABLE, "not-the-password", "wrong-switch-pw", "wrong-enable"):
        assert all(secret not in (h.reason or "") for h in rep.hosts)


def test_unknown_and_changed_host_keys_stop_only_their_host(fleet, tmp_path):
    """Known hosts are checked for the audit as for every command: a host whose key is unknown or changed
    gets auth_failed before its password is sent; the others are audited. A unit that opts out for a first
    contact (province.yml ssh_first_contact: accept-new) has its unknown key accepted, recorded and shown
    in the results; a changed key is refused even there."""
    import yaml

    from provisioning.audit.results import report_data
    names = [p["hostname"] for p in fleet.profiles]
    inv = write_inventory(tmp_path / "inv", dict(zip(names, fleet.ports)), host_pub=fleet.host_pub)
    known = inv / "known_hosts"
    lines = known.read_text().splitlines()
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq0jRTxjc7Eho2vM3fNyCq6wB4RiQDSwKzFP0gU6bhd"
    unknown_port, changed_port = fleet.ports[1], fleet.ports[2]
    known.write_text("\n".join(f"[127.0.0.1]:{changed_port} {other}" if line.startswith(f"[127.0.0.1]:{changed_port} ")
                               else line for line in lines if not line.startswith(f"[127.0.0.1]:{unknown_port} "))
                     + "\n")
    rep = audit(inv)
    by = {h.host: h for h in rep.hosts}
    assert (by[names[1]].status, by[names[1]].reason_code) == ("auth_failed", "host_key_unknown")
    assert (by[names[2]].status, by[names[2]].reason_code) == ("auth_failed", "host_key")
    assert not by[names[1]].facts and not by[names[2]].facts
    assert all(by[n].status == "audited" and by[n].host_key == "known" for n in names if n not in names[1:3])
    assert f"{unknown_port}" not in known.read_text()           # nothing recorded without the opt-out

    # the units of both hosts opt out for first contact
    prov = yaml.safe_load((inv / "province.yml").read_text(encoding="utf-8"))
    units = {load_province(inv).hosts[n].unit for n in names[1:3]}
    for u in prov["units"]:
        if u["code"] in units:
            u["ssh_first_contact"] = "accept-new"
    (inv / "province.yml").write_text(yaml.safe_dump(prov, allow_unicode=True, sort_keys=False), encoding="utf-8")
    rep = audit(inv)
    by = {h.host: h for h in rep.hosts}
    assert by[names[1]].status == "audited" and by[names[1]].host_key == "accepted_new"
    assert f"[127.0.0.1]:{unknown_port} {fleet.host_pub}" in known.read_text()
    assert (by[names[2]].status, by[names[2]].reason_code) == ("auth_failed", "host_key")
    assert {h["host"]: h["host_key"] for h in report_data(rep)["hosts"]}[names[1]] == "accepted_new"
    assert audit(inv, limit=names[1]).hosts[0].host_key == "known"     # recorded: checked from now on


def test_unsaved_switch_change_is_flagged_and_cleared_by_write_memory(switches, tmp_path):
    inv = write_inventory(tmp_path / "inv", {}, {"sw001": switches.ports[1]}, extra={
        "srv-none": {"group": "center_servers", "ansible_host": "127.0.0.1", "ansible_port": 3}},
        switch_pub=switches.host_pub)
    before = audit(inv, limit="sw001").hosts[0]
    assert before.status == "audited", before.reason
    assert before.facts["config_saved"] is True and before.grade in ("pass", "warn")
    conn = ConnectHandler(device_type="cisco_ios", host="127.0.0.1", port=switches.ports[1], username=SW_USER,
                          password=SW_PASSWORD, secret=SW_ENABLE)
    conn.enable()
    conn.send_config_set(["vlan 120", "name KE-TOAN"])
    try:
        after = audit(inv, limit="sw001").hosts[0]
        assert after.facts["config_saved"] is False and after.facts["config_unsaved_lines"] >= 2
        assert after.grade == "fail"
        assert next(c for c in after.checks if c.name == "config_saved").actual is False
        assert after.facts["running_config_sha256"] != before.facts["running_config_sha256"]
        assert {"id": 120, "name": "KE-TOAN", "status": "active"} in after.facts["vlans"]
    finally:
        conn.send_command("write memory")
        conn.disconnect()
    saved = audit(inv, limit="sw001").hosts[0]
    assert saved.facts["config_saved"] is True
    assert saved.facts["running_config_sha256"] == after.facts["running_config_sha256"]


def test_switch_facts_parse_with_textfsm_and_the_fallback_agrees(switches):
    conn = ConnectHandler(device_type="cisco_ios", host="127.0.0.1", port=switches.ports[0], username=SW_USER,
                          password=SW_PASSWORD, secret=SW_ENABLE)
    conn.enable()
    try:
        drv = network.CiscoIOS(conn, Deadline(20))
        facts = drv.collect()
        assert facts["hostname"] == "sw000" and facts["vendor"] == "Cisco"
        assert facts["model"] == "WS-C2960-24TT-L" and facts["serial"].startswith("FOC")
        assert facts["os_version"] == "12.2(58)SE2" and facts["uptime_s"] > 0
        assert facts["interfaces_up"] + facts["interfaces_down"] == len(facts["interfaces"]) > 0
        assert set(facts["parsed_by"].values()) == {"textfsm"}
        # our own parsers, fed the same raw output, find the same rows as TextFSM
        for command, fallback, key in (("show vlan brief", network._ios_vlan_fallback, "vlan_id"),
                                       ("show interfaces status", network._ios_interfaces_fallback, "port"),
                                       ("show inventory", network._ios_inventory_fallback, "sn")):
            raw = conn.send_command(command)
            tfsm = conn.send_command(command, use_textfsm=True)
            assert [r[key] for r in fallback(raw)] == [r[key] for r in tfsm], command
        v = network._ios_version_fallback(conn.send_command("show version"))[0]
        assert (v["hostname"], v["version"]) == ("sw000", "12.2(58)SE2")
        # a command without a template: netmiko returns a plain string, the driver notices and falls back
        rows = drv.structured("show etherchannel summary", lambda text: [{"raw": text}])
        assert drv.parsed_by["show etherchannel summary"] == "fallback" and "channel-groups" in rows[0]["raw"]
    finally:
        conn.disconnect()


def test_watchdog_cuts_a_blocked_read_at_the_deadline():
    import socket as s
    with SilentListener() as silent:
        sock = s.create_connection(("127.0.0.1", silent.port))
        w = Watchdog()
        t0 = time.monotonic()
        with w.guard(sock, Deadline(0.5)):
            assert sock.recv(10) == b""   # blocked until the watchdog shut the socket down
        assert 0.4 < time.monotonic() - t0 < 2.0
        w.stop()


def test_hosts_are_audited_round_robin_over_units():
    from types import SimpleNamespace as H
    from provisioning.audit.runner import interleave_units
    hosts = [H(name=f"{u}{i}", unit=u) for u, n in (("a", 3), ("b", 1), ("c", 2)) for i in range(n)]
    assert [h.name for h in interleave_units(hosts)] == ["a0", "b0", "c0", "a1", "c1", "a2"]
    assert interleave_units([]) == []


def test_switch_host_key_is_checked_before_the_password_is_sent(switches, tmp_path, fleet):
    """Switches are held to the same host-key policy as servers: unknown -> refused, changed -> refused,
    recorded -> audited (netmiko's own client would accept any key)."""
    extra = {"srv-none": {"group": "center_servers", "ansible_host": "127.0.0.1", "ansible_port": 3}}
    unknown = write_inventory(tmp_path / "unknown", {}, {"sw002": switches.ports[2]}, extra=extra,
                              host_pub=fleet.host_pub)          # a known_hosts file without the switch
    h = audit(unknown, limit="sw002").hosts[0]
    assert (h.status, h.reason_code) == ("auth_failed", "host_key_unknown"), h.reason
    assert h.facts == {} or not h.facts
    changed = write_inventory(tmp_path / "changed", {}, {"sw002": switches.ports[2]}, extra=extra,
                              switch_pub=make_host_key(tmp_path / "other_key"))   # another RSA key recorded
    h = audit(changed, limit="sw002").hosts[0]
    assert (h.status, h.reason_code) == ("auth_failed", "host_key"), h.reason
    known = write_inventory(tmp_path / "known", {}, {"sw002": switches.ports[2]}, extra=extra,
                            switch_pub=switches.host_pub)
    h = audit(known, limit="sw002").hosts[0]
    assert (h.status, h.host_key) == ("audited", "known"), h.reason
