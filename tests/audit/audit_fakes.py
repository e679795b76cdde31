"""Stand-ins for the audit's tests and benchmark, all on 127.0.0.1 and started by the test itself:

- `FakeFleet`: many fake Linux hosts in one asyncio loop (asyncssh servers with password auth). Each answers
  the audit's facts script with canned output rendered from a hardware profile, as a real host's script
  run would print it (see ../shared/reference/asyncssh_fake_hosts.py).
- `SilentListener`: accepts TCP connections and never says a word (a hung sshd).
- `Switches`: the lab's switch simulator (provisioning.lab.switchsim, fake-switches) in a subprocess,
  listening on loopback ports.
- `write_inventory()`: a province for these hosts, with the example province's units.

Run as a script it starts a fleet in its own process (the benchmark does this so the fakes and the
audit do not share one Python interpreter): `python fakes.py --hosts 500` prints the ports and the
host key as JSON.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import asyncssh
import yaml

from provisioning.lab.displaysim import LoopServers
from provisioning.lab.hostkey import make_host_key

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventory" / "example"
USER, PASSWORD = "auditor", "Kiem-Tra-2026!"
SW_USER, SW_PASSWORD, SW_ENABLE = "netadmin", "Sw-Pass-9431", "En-Secret-5518"
MARKER = "# provision-audit facts v1"

CPUS = ["Intel(R) Pentium(R) CPU G2020 @ 2.90GHz", "Intel(R) Core(TM) i3-2120 CPU @ 3.30GHz",
        "Intel(R) Core(TM) i5-7500 CPU @ 3.40GHz", "AMD Athlon(tm) II X2 250 Processor"]
OSES = [("debian", "12", "Debian GNU/Linux 12 (bookworm)"), ("debian", "10", "Debian GNU/Linux 10 (buster)"),
        ("ubuntu", "18.04", "Ubuntu 18.04.6 LTS"), ("ubuntu", "22.04", "Ubuntu 22.04.4 LTS")]


def profile(i: int) -> dict:
    """Heterogeneous, weak unit hardware, reproducible per index."""
    r = random.Random(i)
    os_id, ver, pretty = r.choice(OSES)
    return {"hostname": f"h{i:03d}", "vendor": r.choice(["Dell Inc.", "HP", "LENOVO"]),
            "model": r.choice(["OptiPlex 3020", "ProDesk 400 G4", "ThinkCentre M72e"]), "serial": f"SN{i:06d}",
            "cpu_model": r.choice(CPUS), "cpu_cores": r.choice([1, 2, 4]),
            "ram_mb": r.choice([1024, 2048, 3500, 3900, 8192]), "disk_gb": r.choice([80, 250, 500]),
            "root_free_gb": r.choice([3, 12, 40, 120]), "os_id": os_id, "os_version": ver, "os_name": pretty,
            "kernel": "6.1.0-18-amd64", "arch": "x86_64", "mac": "00:1a:2b:%02x:%02x:%02x" % (0, i // 256, i % 256),
            "ipv4": f"10.99.{i // 250}.{i % 250 + 1}/24", "uptime_s": 86400 * r.randint(0, 60) + 123}


def render_output(p: dict) -> str:
    """What the audit's facts script prints on a host with profile `p`."""
    cpu = "".join(f"processor\t: {n}\nmodel name\t: {p['cpu_model']}\n" for n in range(p["cpu_cores"]))
    size_k, free_k = p["disk_gb"] * 1024 * 1024, p["root_free_gb"] * 1024 * 1024
    return (f"\n@@hostname\n{p['hostname']}\n@@dmi\nsys_vendor={p['vendor']}\nproduct_name={p['model']}\n"
            f"product_serial={p['serial']}\n@@cpuinfo\n{cpu}@@meminfo\nMemTotal:       {p['ram_mb'] * 1024} kB\n"
            f"@@blocks\nsda {p['disk_gb'] * 1024 * 1024 * 2} 1 ST{p['disk_gb']}DM\nloop0 1024 0 -\n"
            f"@@df\nFilesystem     Type     1024-blocks      Used Available Capacity Mounted on\n"
            f"/dev/sda1      ext4      {size_k}  {size_k - free_k}  {free_k}      50% /\n"
            f"tmpfs          tmpfs        102400         0    102400       0% /run\n"
            f"@@os_release\nPRETTY_NAME=\"{p['os_name']}\"\nID={p['os_id']}\nVERSION_ID=\"{p['os_version']}\"\n"
            f"@@uname\n{p['kernel']}\n{p['arch']}\n@@nics\nlo 00:00:00:00:00:00 - unknown virt\n"
            f"eth0 {p['mac']} 100 up phys\n@@ipv4\n2: eth0    inet {p['ipv4']} brd 10.99.0.255 scope global eth0\n"
            f"@@uptime\n{p['uptime_s']}.42 1000.00\n@@end\n")


class FakeFleet(LoopServers):
    """N fake Linux hosts answering the audit's facts script from hardware profiles."""

    def __init__(self, count: int, first: int = 0):
        super().__init__([profile(first + i) for i in range(count)], USER, PASSWORD)

    def _handler(self, i: int):
        async def handle(process: asyncssh.SSHServerProcess) -> None:
            if self.profiles[i].get("hang"):     # logs in, then the command never finishes (stale NFS)
                await asyncio.sleep(3600)
            if (process.command or "").startswith(MARKER):
                process.stdout.write(render_output(self.profiles[i]))
                process.exit(0)
            else:
                process.stderr.write("sh: command not found\n")
                process.exit(127)
        return handle


class SilentListener:
    """A TCP port that accepts connections and never answers: an sshd hung on a stale NFS mount."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def __enter__(self) -> "SilentListener":
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Switches:
    """`count` simulated Cisco switches in one subprocess (provisioning.lab.switchsim) on loopback."""

    def __init__(self, count: int, workdir: Path, prefix: str = "sw"):
        self.names = [f"{prefix}{i:03d}" for i in range(count)]
        self.ports = free_ports(count)
        self.config = workdir / "switches.json"
        key = workdir / "switch_host_key"
        self.host_pub = " ".join(make_host_key(key).split()[:2])   # "ssh-rsa AAAA...", for known_hosts
        self.config.write_text(json.dumps({
            "switches": [{"name": n, "ip": "127.0.0.1", "port": p} for n, p in zip(self.names, self.ports)],
            "user": SW_USER, "password": SW_PASSWORD, "enable_secret": SW_ENABLE, "host_key": str(key)}))
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Switches":
        self.proc = subprocess.Popen([sys.executable, "-m", "provisioning.lab.switchsim", str(self.config)],
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        if "switches ready" not in line:
            self.proc.kill()
            raise RuntimeError(f"switch simulator did not start: {line}{self.proc.stdout.read()}")
        return self

    def __exit__(self, *exc) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)


def write_inventory(path: Path, linux: dict[str, int], switches: dict[str, int] | None = None,
                    extra: dict[str, dict] | None = None, audit: dict | None = None,
                    host_pub: str | None = None, switch_pub: str | None = None) -> Path:
    """A province in `path`: the example's units; `linux` {name: port} spread over the units (the first is
    the center's server, every 10th a unit server, the rest workstations); `switches` {name: port};
    `extra` {name: host vars incl. group} for special hosts (windows, silent...). `host_pub`: the fake
    hosts' key ("ssh-ed25519 AAAA..."), written to `path/known_hosts` for every Linux and extra host's port
    and named in `ansible_ssh_common_args`, as the lab does; `switch_pub`: the simulated switches' key
    (Switches.host_pub), written for every switch's port."""
    path.mkdir(parents=True, exist_ok=True)
    prov = yaml.safe_load((EXAMPLE / "province.yml").read_text(encoding="utf-8"))
    if audit:
        prov["audit"] = audit
    (path / "province.yml").write_text(yaml.safe_dump(prov, allow_unicode=True, sort_keys=False), encoding="utf-8")
    units = [u["code"] for u in prov["units"]]
    center = next(u["code"] for u in prov["units"] if u["kind"] == "integration_center")
    others = [u for u in units if u != center]
    groups: dict[str, dict] = {"center_servers": {}, "unit_servers": {}, "workstations": {}, "switches": {}}
    for i, (name, port) in enumerate(linux.items()):
        hv = {"ansible_host": "127.0.0.1", "ansible_port": port, "unit": center if i == 0 else others[i % len(others)]}
        groups["center_servers" if i == 0 else "unit_servers" if i % 10 == 1 else "workstations"][name] = hv
    for i, (name, port) in enumerate((switches or {}).items()):
        groups["switches"][name] = {"ansible_host": "127.0.0.1", "ansible_port": port, "unit": others[i % len(others)]}
    for name, hv in (extra or {}).items():
        hv = dict(hv)
        groups[hv.pop("group")][name] = {"unit": others[0], **hv}
    all_vars = {"ansible_user": USER, "ansible_password": PASSWORD}
    if host_pub or switch_pub:
        def extra_ports(switch: bool) -> set[int]:
            return {int(hv["ansible_port"]) for hv in (extra or {}).values()
                    if "ansible_port" in hv and (hv["group"] == "switches") == switch}
        ports = sorted({*linux.values(), *extra_ports(False)}) if host_pub else []
        sw_ports = sorted({*(switches or {}).values(), *extra_ports(True)}) if switch_pub else []
        (path / "known_hosts").write_text("".join(f"[127.0.0.1]:{port} {host_pub}\n" for port in ports)
                                          + "".join(f"[127.0.0.1]:{port} {switch_pub}\n" for port in sw_ports))
        all_vars["ansible_ssh_common_args"] = (f"-o UserKnownHostsFile={path / 'known_hosts'} "
                                               "-o StrictHostKeyChecking=yes")
    inv = {"all": {"vars": all_vars, "children": {
        "servers": {"children": {"center_servers": {"hosts": groups["center_servers"]},
                                 "unit_servers": {"hosts": groups["unit_servers"]}}},
        "workstations": {"hosts": groups["workstations"]},
        "network_devices": {"vars": {"device_type": "cisco_ios", "ansible_user": SW_USER,
                                     "ansible_password": SW_PASSWORD, "enable_secret": SW_ENABLE},
                            "children": {"switches": {"hosts": groups["switches"]}}}}}}
    (path / "hosts.yml").write_text(yaml.safe_dump(inv, sort_keys=False), encoding="utf-8")
    return path


def copy_inventory(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="A fleet of fake Linux hosts on 127.0.0.1 (until killed).")
    ap.add_argument("--hosts", type=int, default=100)
    a = ap.parse_args()
    fleet = FakeFleet(a.hosts).__enter__()
    print(json.dumps({"ports": fleet.ports, "host_pub": fleet.host_pub}), flush=True)
    threading.Event().wait()
