"""The audit against the lab province: real sshd on isolated Debian hosts and simulated Cisco switches.
Facts must match what each host reports about itself; a stopped host, a wrong password, a host that
accepts TCP but never speaks SSH, and an unsaved switch change must each be reported as such."""
import time

import pytest
import yaml
from netmiko import ConnectHandler

from provisioning.audit.baseline import load_baseline
from provisioning.audit.runner import run_audit
from provisioning.lab import Lab
from provisioning.model import load_province

pytestmark = pytest.mark.lab
NAME = "aud"
SILENT_PORT = 2222


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = Lab(NAME)
    lab.down()
    lab.up(units=2, workstations=2, switches=1, inventory_dir=tmp_path_factory.mktemp("inv") / NAME)
    yield lab
    lab.down()


def audit(inv, limit=None, timeout=10.0):
    p = load_province(inv)
    return run_audit(p, p.select(limit), load_baseline(), workers=20, timeout=timeout)


def linux_hosts(lab):
    return [h for h in lab.hosts() if h.kind != "switch"]


def test_facts_match_what_each_host_reports(lab):
    rep = audit(lab.inventory_dir)
    assert {h.host: h.status for h in rep.hosts} == {h.name: "audited" for h in lab.hosts()}
    by = {h.host: h.facts for h in rep.hosts}
    for h in linux_hosts(lab):
        f = by[h.name]
        own = lab.ssh(h.name, "hostname; nproc; awk '/MemTotal/{print $2}' /proc/meminfo; uname -r; "
                              ". /etc/os-release; echo \"$PRETTY_NAME\"; cat /sys/class/net/eth0/address; "
                              "df -Pk / | awk 'NR==2{print $4}'; ip -4 -o addr show eth0 | awk '{print $4}'",
                      check=True).stdout.splitlines()
        assert f["hostname"] == own[0] == h.name
        assert f["cpu_cores"] == int(own[1])
        assert f["ram_mb"] == int(own[2]) // 1024
        assert f["kernel"] == own[3]
        assert f["os_name"] == own[4]
        eth0 = next(n for n in f["nics"] if n["name"] == "eth0")
        assert eth0["mac"] == own[5] and eth0["ipv4"] == [own[7]] and own[7].startswith(h.ip + "/")
        assert abs(f["root_free_gb"] - int(own[6]) / 1024 ** 2) < 0.2
    for sw in (h for h in lab.hosts() if h.kind == "switch"):
        f = by[sw.name]
        assert f["hostname"] == sw.name and f["vendor"] == "Cisco" and f["config_saved"] is True


def test_stopped_host_is_unreachable_and_the_rest_are_audited(lab):
    victim = linux_hosts(lab)[-1].name
    lab.stop_host(victim)
    try:
        rep = audit(lab.inventory_dir, timeout=5.0)
    finally:
        lab.start_host(victim)
    by = {h.host: h for h in rep.hosts}
    assert by[victim].status == "unreachable", by[victim].reason
    assert all(h.status == "audited" for h in rep.hosts if h.host != victim)


def _inventory_copy(lab, tmp_path, edit):
    src = lab.inventory_dir
    dst = tmp_path / NAME
    dst.mkdir()
    (dst / "province.yml").write_text((src / "province.yml").read_text(encoding="utf-8"), encoding="utf-8")
    inv = yaml.safe_load((src / "hosts.yml").read_text(encoding="utf-8"))
    edit(inv)
    (dst / "hosts.yml").write_text(yaml.safe_dump(inv, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return dst


def _hosts_of(inv, group):
    def walk(node):
        if isinstance(node, dict):
            if group in node.get("children", {}):
                return node["children"][group].setdefault("hosts", {})
            for child in node.get("children", {}).values():
                found = walk(child)
                if found is not None:
                    return found
        return None
    return walk(inv["all"])


def test_wrong_password_is_auth_failed(lab, tmp_path):
    ws = next(h for h in lab.hosts() if h.kind == "workstation").name

    def edit(inv):
        hv = _hosts_of(inv, "workstations")[ws]
        hv["ansible_ssh_private_key_file"] = ""      # no key: the password alone must get in
        hv["ansible_password"] = "mat-khau-sai-123"
    inv = _inventory_copy(lab, tmp_path, edit)
    rep = audit(inv, limit=f"{ws},*-srv01")
    by = {h.host: h for h in rep.hosts}
    assert by[ws].status == "auth_failed" and "password" in by[ws].reason
    assert "mat-khau-sai-123" not in by[ws].reason
    assert all(h.status == "audited" for h in rep.hosts if h.host != ws)


def test_host_accepting_tcp_but_silent_is_timeout_within_the_limit(lab, tmp_path):
    ws = next(h for h in lab.hosts() if h.kind == "workstation")
    listener = (f"nohup python3 -c \"import socket,time; s=socket.socket(); "
                f"s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', {SILENT_PORT})); "
                f"s.listen(50); c=[s.accept() for _ in range(50)]\" >/dev/null 2>&1 & echo $!")
    pid = lab.ssh(ws.name, listener, check=True).stdout.strip()
    try:
        time.sleep(0.5)

        def edit(inv):
            _hosts_of(inv, "workstations")["hung-ws99"] = {"ansible_host": ws.ip, "ansible_port": SILENT_PORT,
                                                            "unit": ws.unit}
        inv = _inventory_copy(lab, tmp_path, edit)
        t0 = time.monotonic()
        rep = audit(inv, timeout=4.0)
        wall = time.monotonic() - t0
    finally:
        lab.ssh(ws.name, f"kill {pid}")
    by = {h.host: h for h in rep.hosts}
    assert by["hung-ws99"].status == "timeout", by["hung-ws99"].reason
    assert by["hung-ws99"].duration_s <= 4.0 + 1.0
    assert all(h.status == "audited" for h in rep.hosts if h.host != "hung-ws99")
    assert wall < 4.0 + 1.0 + 5.0   # the others ran alongside, not after


def test_unsaved_switch_change_is_flagged(lab):
    sw = next(h for h in lab.hosts() if h.kind == "switch")
    p = load_province(lab.inventory_dir)
    host = p.hosts[sw.name]
    conn = ConnectHandler(device_type="cisco_ios", host=sw.ip, username=host.user,
                          password=host.password.get_secret_value(), secret=host.vars["enable_secret"])
    conn.enable()
    conn.send_config_set(["vlan 300", "name PHONG-MOT-CUA"])
    try:
        r = audit(lab.inventory_dir, limit=sw.name).hosts[0]
        assert r.status == "audited"
        assert r.facts["config_saved"] is False and r.grade == "fail"
        assert any(v["id"] == 300 for v in r.facts["vlans"])
    finally:
        conn.send_command("write memory")
        conn.disconnect()
    assert audit(lab.inventory_dir, limit=sw.name).hosts[0].facts["config_saved"] is True


def test_host_key_not_in_known_hosts_is_refused(lab, tmp_path):
    """With StrictHostKeyChecking=yes (the lab's inventory), a host presenting another key is not trusted:
    the audit must not send it the password or run anything there."""
    ws, other = [h for h in lab.hosts() if h.kind == "workstation"][:2]
    known = tmp_path / "known_hosts"
    lines = (lab.dir / "known_hosts").read_text().splitlines()
    other_key = next(line for line in lines if line.split()[0].split(",")[0] == other.ip).split(None, 1)[1]
    known.write_text("\n".join(f"{line.split()[0]} {other_key}" if line.split()[0].split(",")[0] == ws.ip else line
                               for line in lines) + "\n")

    def edit(inv):
        _hosts_of(inv, "workstations")[ws.name]["ansible_ssh_common_args"] = (
            f"-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes")
    inv = _inventory_copy(lab, tmp_path, edit)
    rep = audit(inv, limit=f"{ws.name},{other.name}")
    by = {h.host: h for h in rep.hosts}
    assert by[ws.name].status == "auth_failed" and by[ws.name].reason_code == "host_key"
    assert by[other.name].status == "audited"


def test_mixed_vendor_lab_switches_are_audited_like_real_ones(tmp_path):
    """`lab up --switch-vendors cisco,huawei,h3c`: a unit LAN is rarely one brand. Each switch answers
    its own CLI at its own lab address; the audit reads each with its driver and flags an unsaved change
    on the Huawei one until it is saved."""
    mix = Lab("audmix")
    mix.down()
    try:
        mix.up(units=2, workstations=0, switches=1, inventory_dir=tmp_path / "audmix",
               switch_vendors=["cisco", "huawei", "h3c"])
        p = load_province(mix.inventory_dir)
        switches = {h.name: h for h in p.hosts.values() if h.is_network}
        assert sorted(h.device_type for h in switches.values()) == ["cisco_ios", "hp_comware", "huawei"]
        rep = {h.host: h for h in audit(mix.inventory_dir, limit="*-sw01").hosts}
        vendor = {"cisco_ios": "Cisco", "huawei": "Huawei", "hp_comware": "H3C"}
        for name, h in switches.items():
            r = rep[name]
            assert r.status == "audited", r.reason
            assert r.facts["vendor"] == vendor[h.device_type] and r.facts["config_saved"] is True
            assert r.facts["hostname"].lower() == name and r.facts["serial"]
        hw = next(h for h in switches.values() if h.device_type == "huawei")
        conn = ConnectHandler(device_type="huawei", host=hw.address, username=hw.user,
                              password=hw.password.get_secret_value())
        try:
            conn.send_config_set(["vlan 300"])
            r = audit(mix.inventory_dir, limit=hw.name).hosts[0]
            assert r.facts["config_saved"] is False and r.grade == "fail"
            assert 300 in [v["id"] for v in r.facts["vlans"]]
            conn.save_config()
        finally:
            conn.disconnect()
        assert audit(mix.inventory_dir, limit=hw.name).hosts[0].facts["config_saved"] is True
        # the shape includes the vendors: the same lab with other vendors is refused
        with pytest.raises(Exception, match="another shape"):
            mix.up(units=2, workstations=0, switches=1, switch_vendors=["cisco"])
    finally:
        mix.down()
