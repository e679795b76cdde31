"""The lab province: real isolated hosts with their own sshd, simulated switches reachable by netmiko,
and a clean teardown."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from netmiko import ConnectHandler

from provisioning.lab import Lab
from provisioning.lab import image
from provisioning.model import load_province
from tests.conftest import run_cli

pytestmark = pytest.mark.lab
NAME = "tlab"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    inv = tmp_path_factory.mktemp("inv") / NAME
    lab = Lab(NAME)
    lab.down()
    lab.up(units=2, workstations=1, switches=1, inventory_dir=inv, debian="mixed")
    yield lab
    lab.down()


def linux_hosts(lab):
    return [h for h in lab.hosts() if h.kind != "switch"]


def test_every_host_answers_ssh_with_its_own_name(lab):
    st = lab.status()
    assert st.healthy, st
    assert {h.kind for h in st.hosts} == {"server", "workstation", "switch"}
    for h in linux_hosts(lab):
        r = lab.ssh(h.name, "hostname; ip -4 -o addr show eth0")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split()[0] == h.name
        assert f"inet {h.ip}/" in r.stdout


def test_names_and_addresses_are_distinct(lab):
    hosts = lab.hosts()
    assert len({h.name for h in hosts}) == len(hosts)
    assert len({h.ip for h in hosts}) == len(hosts)


def test_hosts_do_not_share_files_or_processes(lab):
    a, b = linux_hosts(lab)[:2]
    marker = "/root/only-on-" + a.name
    assert lab.ssh(a.name, f"echo x > {marker}; sleep 300 </dev/null >/dev/null 2>&1 &").returncode == 0
    assert lab.ssh(a.name, f"test -f {marker}").returncode == 0
    assert lab.ssh(b.name, f"test -f {marker}").returncode == 1
    assert not Path(marker).exists()
    # process trees are separate: the sleep runs on a only, and each host's PID 1 is its own init
    assert "sleep 300" in lab.ssh(a.name, "ps -eo args").stdout
    assert "sleep 300" not in lab.ssh(b.name, "ps -eo args").stdout
    assert lab.ssh(b.name, "cat /proc/1/comm").stdout.strip() == "init"


def test_packages_install_offline_from_the_lab_repository(lab):
    h = linux_hosts(lab)[0].name
    r = lab.ssh(h, "apt-get install -y -qq rsync >/dev/null && rsync --version | head -1; cat /etc/apt/sources.list.d/*")
    assert r.returncode == 0, r.stderr
    assert "rsync" in r.stdout and "file:/srv/provision-repo" in r.stdout
    other = linux_hosts(lab)[1].name
    assert lab.ssh(other, "command -v rsync").returncode != 0  # installed on one host only


def test_inventory_is_a_valid_province(lab):
    p = load_province(lab.inventory_dir)
    assert len([u for u in p.units.values()]) == 3
    assert p.center.hosts and any(h.name.endswith("-srv01") for h in p.center.hosts)
    assert {h.name for h in p.hosts.values()} == {h.name for h in lab.hosts()}
    r = run_cli("inventory", "check", "-i", str(lab.inventory_dir))
    assert r.returncode == 0, r.stderr
    assert "Trung tâm Tích hợp dữ liệu" in r.stdout


def test_ansible_sees_sysvinit(lab):
    inv = lab.inventory_dir / "hosts.yml"
    host = next(h.name for h in lab.hosts() if h.kind == "server")
    ansible = Path(os.sys.executable).with_name("ansible")
    r = subprocess.run([str(ansible), host, "-i", str(inv), "-m", "setup", "-a", "filter=ansible_service_mgr"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r'ansible_service_mgr"?:\s*"?sysvinit', r.stdout), r.stdout


def test_netmiko_reads_show_version_from_a_switch(lab):
    inv = yaml.safe_load((lab.inventory_dir / "hosts.yml").read_text())
    switches = inv["all"]["children"]["network_devices"]["children"]["switches"]["hosts"]
    name, v = sorted(switches.items())[0]
    conn = ConnectHandler(device_type=v["device_type"], host=v["ansible_host"], username=v["ansible_user"],
                          password=v["ansible_password"], secret=v["enable_secret"], timeout=20)
    try:
        conn.enable()
        out = conn.send_command("show version")
    finally:
        conn.disconnect()
    assert "Cisco IOS Software" in out
    assert conn.base_prompt == name


def test_up_twice_is_safe_and_repairs_a_stopped_host(lab):
    victim = linux_hosts(lab)[-1]
    lab.stop_host(victim.name)
    st = {h.name: h for h in lab.status().hosts}
    assert not st[victim.name].ssh and not st[victim.name].running
    assert lab.ssh(victim.name, "true").returncode != 0
    before = {h.name: h.ip for h in lab.hosts()}
    lab.up(units=2, workstations=1, switches=1, debian="mixed")
    assert {h.name: h.ip for h in lab.hosts()} == before
    assert lab.status().healthy
    assert lab.ssh(victim.name, "hostname").stdout.strip() == victim.name


def test_up_repairs_a_host_whose_first_configuration_was_cut_short(lab):
    # as a `lab up` killed between mounting a host's root and writing its init leaves it
    victim = linux_hosts(lab)[0]
    lab.stop_host(victim.name)
    (lab.dir / "hosts" / victim.name / "root" / "usr" / "sbin" / "init").unlink()
    lab.up(units=2, workstations=1, switches=1, debian="mixed")
    assert lab.status().healthy
    assert lab.ssh(victim.name, "hostname").stdout.strip() == victim.name


def test_up_with_another_shape_is_refused(lab):
    r = run_cli("lab", "up", "--name", NAME, "--units", "3")
    assert r.returncode == 2 and "another shape" in r.stderr


def test_up_with_another_debian_release_is_refused(lab):
    r = run_cli("lab", "up", "--name", NAME, "--units", "2", "--workstations", "1", "--switches", "1",
                "--debian", "13")
    assert r.returncode == 2 and "another shape" in r.stderr
    assert {h.release for h in lab.hosts() if h.kind != "switch"} == {"bookworm", "trixie"}


def _debian_version(lab, host) -> str:
    r = lab.ssh(host, "cat /etc/debian_version")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().split(".")[0]


def test_mixed_lab_runs_each_host_on_its_release(lab):
    """Center on 13; unit servers 12, 13 from the first unit on; workstations like their unit's server."""
    hosts = linux_hosts(lab)
    center = next(h for h in hosts if h.group == "center_servers")
    units = [h for h in hosts if h.group == "unit_servers"]
    assert _debian_version(lab, center.name) == "13"
    assert [_debian_version(lab, h.name) for h in units] == ["12", "13"]
    for ws in (h for h in hosts if h.kind == "workstation"):
        server = next(h for h in hosts if h.kind == "server" and h.unit == ws.unit)
        assert _debian_version(lab, ws.name) == _debian_version(lab, server.name), ws.name
    # status says the same as the hosts themselves, in the table and in --json
    r = run_cli("lab", "status", "--name", NAME, "--json")
    assert r.returncode == 0, r.stderr
    by_name = {h["name"]: h for h in json.loads(r.stdout)["hosts"]}
    for h in hosts:
        assert by_name[h.name]["debian"] == _debian_version(lab, h.name)
    assert by_name[center.name]["release"] == "trixie" and by_name[units[0].name]["release"] == "bookworm"
    table = run_cli("lab", "status", "--name", NAME).stdout
    assert "13 (trixie)" in table and "12 (bookworm)" in table
    # the inventory does not tell roles a host's release: they read it from the host's facts
    assert "bookworm" not in (lab.inventory_dir / "hosts.yml").read_text().replace("provision-repo-bookworm", "")


def _repo_version(codename, package) -> str:
    text = (image.repo(codename) / "Packages").read_text()
    versions = re.findall(rf"^Package: {re.escape(package)}\nVersion: (\S+)", text, re.M)
    assert versions, f"{package} not in the {codename} repository"
    return versions[-1]


@pytest.mark.parametrize("debian,codename,other", [("13", "trixie", "bookworm"), ("12", "bookworm", "trixie")])
def test_apt_installs_from_its_own_release_repository_only(lab, debian, codename, other):
    host = next(h.name for h in linux_hosts(lab) if h.kind == "workstation" and h.release == codename)
    r = lab.ssh(host, "apt-get update -qq && apt-cache policy rsync && apt-get install -y -qq rsync >/dev/null "
                      "&& dpkg-query -W -f '${Version}\\n' rsync")
    assert r.returncode == 0, r.stderr
    assert f"provision-repo-{codename}" in r.stdout and f"provision-repo-{other}" not in r.stdout, r.stdout
    assert r.stdout.strip().splitlines()[-1] == _repo_version(codename, "rsync")
    assert _repo_version("trixie", "rsync") != _repo_version("bookworm", "rsync")
    assert _debian_version(lab, host) == debian


def test_bad_debian_release_is_bad_input_and_builds_nothing():
    r = run_cli("lab", "up", "--name", "tdeb", "--debian", "11")
    assert r.returncode == 2 and "--debian 11" in r.stderr and "12, 13, mixed" in r.stderr
    assert not Lab("tdeb").state() and not Lab("tdeb").dir.exists()


def test_unknown_switch_vendor_is_bad_input_and_builds_nothing():
    r = run_cli("lab", "up", "--name", "tvend", "--switch-vendors", "cisco,juniper")
    assert r.returncode == 2 and "--switch-vendors" in r.stderr and "cisco, huawei, h3c" in r.stderr
    assert not Lab("tvend").state()


def test_down_leaves_nothing(tmp_path):
    lab = Lab("tdown")
    lab.down()            # whatever an interrupted earlier run left
    lab.up(units=1, workstations=0, switches=1, inventory_dir=tmp_path / "inv")
    pids = [h.pid for h in lab.hosts() if h.pid] + [lab.state()["switch_pid"]]
    index = lab.state()["index"]
    assert (tmp_path / "inv" / "hosts.yml").exists()
    lab.down()
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(lab.dir) not in mounts
    assert "plab-tdown-" not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert f"plbr{index}:" not in links and f"pl{index}h0" not in links
    assert all(not Path(f"/proc/{p}").exists() for p in pids)
    assert not lab.dir.exists() and not (tmp_path / "inv").exists()


def test_lab_commands_need_root_and_say_so():
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        str(Path(os.sys.executable).with_name("provision")), "lab", "up", "--name", "tnoroot"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "needs root" in r.stderr
