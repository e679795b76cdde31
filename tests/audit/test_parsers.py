"""The facts script and the parsers: run the real script on this Debian machine and compare with what the
machine says through other means; config comparison and uptime parsing of network devices."""
import os
import platform
import shutil
import socket
import subprocess

from provisioning.audit.linux import FACTS_SCRIPT, parse_facts
from provisioning.audit.network import compare_configs, uptime_seconds

from audit_fakes import profile, render_output


def test_facts_script_on_this_machine_matches_the_machine():
    out = subprocess.run(["sh", "-c", FACTS_SCRIPT], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    f = parse_facts(out.stdout)
    assert f["hostname"] == socket.gethostname()
    assert f["cpu_cores"] == os.cpu_count()
    meminfo = open("/proc/meminfo").read().split("\n")[0].split()
    assert f["ram_mb"] == int(meminfo[1]) // 1024
    assert f["kernel"] == platform.release()
    assert f["arch"] == platform.machine()
    os_release = dict(line.split("=", 1) for line in open("/etc/os-release").read().splitlines() if "=" in line)
    assert f["os_name"] == os_release["PRETTY_NAME"].strip('"')
    assert f["os_id"] == os_release["ID"]
    total, _, free = shutil.disk_usage("/")
    assert abs(f["root_free_gb"] - free / 1024 ** 3) < 1.0
    assert any(abs(fs["size_gb"] - total / 1024 ** 3) < 1.0 for fs in f["filesystems"] if fs["mount"] == "/")
    assert f["uptime_s"] > 0
    assert "lo" not in [n["name"] for n in f["nics"]]


def test_parse_canned_output_of_a_weak_pc():
    p = profile(7)
    f = parse_facts(render_output(p))
    assert f["hostname"] == p["hostname"]
    assert (f["vendor"], f["model"], f["serial"]) == (p["vendor"], p["model"], p["serial"])
    assert f["cpu_cores"] == p["cpu_cores"] and f["cpu_model"] == p["cpu_model"]
    assert f["ram_mb"] == p["ram_mb"]
    assert [d["name"] for d in f["disks"]] == ["sda"]            # loop devices are not disks
    assert f["disk_total_gb"] == p["disk_gb"]
    assert [fs["mount"] for fs in f["filesystems"]] == ["/"]     # tmpfs is not a filesystem to grade
    assert f["root_free_gb"] == p["root_free_gb"] == f["var_free_gb"]
    assert f["os_version"] == p["os_version"]
    assert f["nics"] == [{"name": "eth0", "mac": p["mac"], "speed_mbps": 100, "state": "up", "ipv4": [p["ipv4"]]}]
    assert f["uptime_s"] == p["uptime_s"]


def test_unreadable_sections_leave_facts_out_instead_of_guessing():
    f = parse_facts("\n@@hostname\npc1\n@@dmi\nsys_vendor=To Be Filled By O.E.M.\nproduct_name=\nproduct_serial=\n"
                    "@@meminfo\n@@df\nFilesystem Type 1024-blocks Used Available Capacity Mounted on\n@@end\n")
    assert f == {"hostname": "pc1"}


def test_var_free_space_comes_from_the_filesystem_holding_var():
    out = ("@@df\nFilesystem Type 1024-blocks Used Available Capacity Mounted on\n"
           "/dev/sda1 ext4 10485760 5242880 5242880 50% /\n/dev/sda3 ext4 104857600 0 104857600 0% /var\n"
           "/dev/sda4 ext4 10485760 0 10485760 0% /v\n")
    f = parse_facts(out)
    assert (f["root_free_gb"], f["var_free_gb"]) == (5.0, 100.0)


def test_uptime_text_to_seconds():
    assert uptime_seconds("1 year, 18 weeks, 5 days, 1 hour, 11 minutes") == (
        365 * 86400 + 18 * 7 * 86400 + 5 * 86400 + 3600 + 11 * 60)
    assert uptime_seconds("2 minutes") == 120
    assert uptime_seconds("unknown") is None


def test_config_comparison_ignores_headers_and_counts_changed_lines():
    startup = "Using 120 out of 524288 bytes\n!\nhostname sw1\n!\nvlan 10\n name USERS\n!\nend\n"
    running = ("Building configuration...\n\nCurrent configuration : 130 bytes\n! Last configuration change at 10:01\n"
               "!\nhostname sw1\n!\nvlan 10\n name USERS\n!\nend\n")
    same = compare_configs(running, startup)
    assert same["config_saved"] is True and same["config_unsaved_lines"] == 0
    changed = compare_configs(running.replace("name USERS", "name STAFF") + "vlan 20\n", startup)
    assert changed["config_saved"] is False and changed["config_unsaved_lines"] == 3
    assert changed["running_config_sha256"] != same["running_config_sha256"]
    assert "config_saved" not in compare_configs(running, None)  # cannot tell -> missing, not "saved"


def test_vrp_ports_in_long_and_short_names_and_not_logical_interfaces():
    from provisioning.audit.network import _VRP_PORT, _vrp_interfaces_fallback
    brief = ("Interface                   PHY   Protocol  InUti OutUti   inErrors  outErrors\n"
             "Eth-Trunk1                  up    up        0.01%  0.01%          0          0\n"
             "GE0/0/1                     up    up        0.01%  0.01%          0          0\n"
             "GE0/0/2                     *down down         0%     0%          0          0\n"
             "MEth0/0/1                   down  down         0%     0%          0          0\n"
             "MultiGE0/0/3                down  down         0%     0%          0          0\n"
             "NULL0                       up    up(s)        0%     0%          0          0\n"
             "Vlanif10                    up    up           --     --          0          0\n"
             "XGigabitEthernet0/0/1       up    up        0.02%  0.03%          0          0\n"
             "10GE1/0/1                   down  down         0%     0%          0          0\n")
    rows = _vrp_interfaces_fallback(brief)
    assert len(rows) == 9
    ports = [r["interface"] for r in rows if _VRP_PORT.match(r["interface"])]
    assert ports == ["GE0/0/1", "GE0/0/2", "MultiGE0/0/3", "XGigabitEthernet0/0/1", "10GE1/0/1"]
    assert [r["phy"] for r in rows if r["interface"] in ports] == ["up", "*down", "down", "up", "down"]


def test_facts_script_on_a_busybox_df_without_local_only_option(tmp_path):
    """BusyBox df (small appliances, old thin clients) refuses -l: the script falls back to plain df."""
    fake = tmp_path / "df"
    fake.write_text('#!/bin/sh\ncase "$*" in *l*) echo "df: invalid option -- \'l\'" >&2; exit 1;; esac\n'
                    'exec /bin/df "$@"\n')
    fake.chmod(0o755)
    script = FACTS_SCRIPT.replace("PATH=/usr/sbin", f"PATH={tmp_path}:/usr/sbin", 1)
    assert script != FACTS_SCRIPT
    f = parse_facts(subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30).stdout)
    total, _, free = shutil.disk_usage("/")
    assert abs(f["root_free_gb"] - free / 1024 ** 3) < 1.0
