"""Network vendors besides Cisco, common in provincial networks: Huawei VRP (netmiko `huawei`) and H3C/HPE
Comware (`hp_comware`), against the lab's simulators (provisioning/lab/displaysim.py) on loopback. The audit must read the same
facts as for a Cisco switch, flag an unsaved change until it is saved, and parse with ntc-templates where
a template exists while its own parsers agree with them."""
from __future__ import annotations

import json

import pytest
from netmiko import ConnectHandler

from audit_fakes import write_inventory
from provisioning.audit import network
from provisioning.audit.baseline import load_baseline
from provisioning.audit.deadline import Deadline
from provisioning.audit.runner import run_audit
from provisioning.model import load_province
from tests.conftest import run_cli
from provisioning.lab.displaysim import DisplaySwitches, h3c_profile, huawei_profile


USER, PASSWORD = "quantri", "Hw-Pass-7720"


@pytest.fixture(scope="module")
def vrp():
    with DisplaySwitches([huawei_profile(f"SW-HW{i:02d}", i) for i in range(2)], USER, PASSWORD) as s:
        s.profiles[1].ask_password_change = True     # VRP asks at login; the collector must say no and go on
        yield s


def inventory(tmp_path, vrp, device_type="huawei"):
    extra = {f"hw{i}": {"group": "switches", "ansible_host": "127.0.0.1", "ansible_port": port,
                        "device_type": device_type, "ansible_user": USER, "ansible_password": PASSWORD}
             for i, port in enumerate(vrp.ports)}
    extra["srv-none"] = {"group": "center_servers", "ansible_host": "127.0.0.1", "ansible_port": 3}
    return write_inventory(tmp_path / "inv", {}, extra=extra, switch_pub=vrp.host_pub)


def audit(inv, limit="hw*"):
    p = load_province(inv)
    return run_audit(p, p.select(limit), load_baseline(), workers=4, timeout=20)


def connect(vrp, i=0):
    return ConnectHandler(device_type="huawei", host="127.0.0.1", port=vrp.ports[i], username=USER,
                          password=PASSWORD, allow_agent=False, use_keys=False)


def test_huawei_switch_facts_and_grade(vrp, tmp_path):
    vrp.profiles[0].saved = vrp.profiles[0].running()
    vrp.profiles[1].saved = vrp.profiles[1].running()
    hosts = {h.host: h for h in audit(inventory(tmp_path, vrp, "huawei_vrp")).hosts}
    for name, profile in (("hw0", vrp.profiles[0]), ("hw1", vrp.profiles[1])):
        h = hosts[name]
        assert h.status == "audited", h.reason
        f = h.facts
        assert (f["vendor"], f["hostname"], f["model"]) == ("Huawei", profile.sysname, "S5720-28X-SI-AC")
        assert f["serial"] == profile.esn and f["os_version"] == "V200R011C10SPC600"
        assert f["uptime_s"] == ((12 * 7 + 3) * 24 + 2) * 3600 + 15 * 60
        # eight GE ports, two up; NULL0 and Vlanif1 are not ports
        assert (f["interfaces_up"], f["interfaces_down"]) == (2, 6)
        assert [v["id"] for v in f["vlans"]] == [1, 10, 20] and f["vlan_count"] == 3
        assert {"id": 10, "name": "KeToan", "status": "enable"} in f["vlans"]
        assert f["config_saved"] is True and f["config_unsaved_lines"] == 0
        assert h.grade == "pass", [c for c in h.checks if not c.passed]


def test_unsaved_change_on_a_huawei_switch_is_flagged_until_save(vrp, tmp_path):
    vrp.profiles[0].saved = None                       # never saved: everything running is unsaved
    inv = inventory(tmp_path, vrp)
    never = audit(inv, limit="hw0").hosts[0]
    assert never.facts["config_saved"] is False and never.grade == "fail"

    vrp.profiles[0].saved = vrp.profiles[0].running()
    conn = connect(vrp)
    try:
        before = audit(inv, limit="hw0").hosts[0]
        assert before.facts["config_saved"] is True
        conn.send_config_set(["vlan 30"])               # system-view, vlan 30, return
        after = audit(inv, limit="hw0").hosts[0]
        assert after.facts["config_saved"] is False and after.facts["config_unsaved_lines"] >= 2
        assert after.grade == "fail" and 30 in [v["id"] for v in after.facts["vlans"]]
        assert after.facts["running_config_sha256"] != before.facts["running_config_sha256"]
        conn.save_config()                               # save, answer Y
    finally:
        conn.disconnect()
    saved = audit(inv, limit="hw0").hosts[0]
    assert saved.facts["config_saved"] is True
    assert saved.facts["running_config_sha256"] == after.facts["running_config_sha256"]


def test_huawei_output_parses_with_textfsm_and_the_fallback_agrees(vrp):
    vrp.profiles[0].saved = vrp.profiles[0].running()
    conn = connect(vrp)
    try:
        drv = network.HuaweiVRP(conn, Deadline(20))
        facts = drv.collect()
        assert {drv.parsed_by[c] for c in ("display version", "display interface brief", "display vlan")} \
            == {"textfsm"}
        for command, fallback, key, tkey in (
                ("display interface brief", network._vrp_interfaces_fallback, "interface", "interface"),
                ("display vlan", network._vrp_vlan_fallback, "vlan_id", "vlan_id")):
            raw = conn.send_command(command)
            from ntc_templates.parse import parse_output
            assert [r[key] for r in fallback(raw)] == [r[tkey] for r in parse_output(
                platform="huawei_vrp", command=command, data=raw)], command
        v = network._vrp_version_fallback(conn.send_command("display version"))[0]
        assert v["model"].startswith("S5720-28X-SI-AC") and v["product_version"].endswith("V200R011C10SPC600")
        assert facts["config_saved"] is True
    finally:
        conn.disconnect()


def test_audit_cli_lists_a_huawei_switch_like_any_other(vrp, tmp_path):
    vrp.profiles[0].saved = vrp.profiles[0].running()
    inv = inventory(tmp_path, vrp)
    r = run_cli("audit", "-i", str(inv), "--limit", "hw0", "--out", str(tmp_path / "out"), "--json")
    assert r.returncode == 0, r.stderr
    host = json.loads(r.stdout)["hosts"][0]
    assert (host["host"], host["role"], host["status"], host["facts"]["vendor"]) == ("hw0", "switch", "audited",
                                                                                     "Huawei")
    # the device's secrets never reach the results
    assert PASSWORD not in (tmp_path / "out" / "audit.json").read_text(encoding="utf-8")
    assert "irreversible-cipher" not in (tmp_path / "out" / "audit.json").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------- Comware

@pytest.fixture(scope="module")
def h3c():
    with DisplaySwitches([h3c_profile("SW-H3C00")], USER, PASSWORD) as s:
        yield s


def test_h3c_switch_facts_unsaved_change_and_save(h3c, tmp_path):
    p = h3c.profiles[0]
    extra = {"h3c0": {"group": "switches", "ansible_host": "127.0.0.1", "ansible_port": h3c.ports[0],
                      "device_type": "hp_comware", "ansible_user": USER, "ansible_password": PASSWORD},
             "srv-none": {"group": "center_servers", "ansible_host": "127.0.0.1", "ansible_port": 3}}
    inv = write_inventory(tmp_path / "inv", {}, extra=extra, switch_pub=h3c.host_pub)
    never = audit(inv, "h3c0").hosts[0]
    assert never.status == "audited", never.reason
    f = never.facts
    assert (f["vendor"], f["hostname"], f["model"], f["serial"]) == ("H3C", p.sysname, "S5130S-28S-EI", p.esn)
    assert f["os_version"] == "7.1.070 Release 6328P03" and f["uptime_s"] == ((5 * 24) + 3) * 3600 + 12 * 60
    # eight bridge-mode ports, three up; InLoop0, MGE0/0/0, NULL0 and Vlan1 (route mode) are not ports
    assert (f["interfaces_up"], f["interfaces_down"]) == (3, 5) and f["interfaces"][0]["name"] == "GE1/0/1"
    assert [v["id"] for v in f["vlans"]] == [1, 10, 20]
    assert f["config_saved"] is False and never.grade == "fail"        # never saved

    conn = ConnectHandler(device_type="hp_comware", host="127.0.0.1", port=h3c.ports[0], username=USER,
                          password=PASSWORD, allow_agent=False, use_keys=False)
    try:
        conn.save_config()                                             # save force
        saved = audit(inv, "h3c0").hosts[0]
        assert saved.facts["config_saved"] is True and saved.grade == "pass", saved.checks
        conn.send_config_set(["vlan 30"])
        changed = audit(inv, "h3c0").hosts[0]
        assert changed.facts["config_saved"] is False and changed.facts["config_unsaved_lines"] >= 2
        assert 30 in [v["id"] for v in changed.facts["vlans"]]
        # netmiko returns rows for the commands ntc-templates knows; our parsers find the same ones
        for command, fallback, key in (("display interface brief", network._comware_interfaces_fallback, "interface"),
                                       ("display vlan brief", network._comware_vlan_fallback, "vlan_id"),
                                       ("display device manuinfo", network._comware_manuinfo_fallback,
                                        "device_serial_number")):
            raw = conn.send_command(command)
            rows = conn.send_command(command, use_textfsm=True)
            if command == "display interface brief":
                rows = [r for r in rows if r["type"]]
            assert [r[key] for r in fallback(raw)] == [r[key] for r in rows], command
        assert changed.facts["parsed_by"]["display version"] == "fallback"   # no template for it
    finally:
        conn.disconnect()
