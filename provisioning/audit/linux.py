"""Facts of a Linux server or workstation, over one SSH connection and ONE remote command.

The remote side runs `FACTS_SCRIPT`, a POSIX shell script that only reads (/proc, /sys, df, ip,
os-release) and prints sections `@@name`; `parse_facts()` turns that text into facts. One command per
host instead of one per fact keeps an audit of a slow unit LAN to one round trip after login, and needs
nothing installed on the host (no Python, unlike `ansible -m setup`).

Facts (every key may be missing when the host does not expose it; the baseline then reports "missing"):
  hostname, vendor, model, serial            from /sys/class/dmi/id (serial needs root), else dmidecode
  cpu_model, cpu_cores                       cpu_cores = logical CPUs the OS schedules on
  ram_mb                                     MemTotal
  disks [{name, size_gb, rotational, model}], disk_total_gb      whole block devices (no loop/ram/zram)
  filesystems [{mount, fstype, size_gb, free_gb, used_pct}], root_free_gb, var_free_gb
  os_id, os_name, os_version, os_version_major, kernel, arch
  nics [{name, mac, speed_mbps, state, ipv4}], nic_count, nic_max_speed_mbps   (physical, or with an IPv4)
  uptime_s, uptime_days
"""
from __future__ import annotations

import re
from typing import Any

from ..transport import ssh
from .deadline import Deadline, Watchdog, open_socket

FACTS_MARKER = "# provision-audit facts v1"
# Scalar facts a baseline may check (lists such as disks and nics are shown in reports, not graded).
CHECKABLE_FACTS = frozenset({
    "hostname", "vendor", "model", "serial", "cpu_model", "cpu_cores", "ram_mb", "disk_total_gb", "root_free_gb",
    "var_free_gb", "os_id", "os_name", "os_version", "os_version_major", "kernel", "arch", "nic_count",
    "nic_max_speed_mbps", "uptime_s", "uptime_days",
})

FACTS_SCRIPT = FACTS_MARKER + r"""
exec 2>/dev/null
export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
s() { printf '\n@@%s\n' "$1"; }
# r VAR FILE: read the first line of FILE with the shell's builtin (no process per value: weak PCs)
r() { eval "$1=-"; read -r "$1" < "$2"; }
s hostname; r v /proc/sys/kernel/hostname; echo "$v"
s dmi
for f in sys_vendor product_name product_serial; do
  r v /sys/class/dmi/id/$f
  if [ -z "${v#-}" ] && command -v dmidecode >/dev/null; then
    case $f in sys_vendor) k=system-manufacturer;; product_name) k=system-product-name;; *) k=system-serial-number;; esac
    v=$(dmidecode -s $k | head -n1)
  fi
  printf '%s=%s\n' "$f" "${v#-}"
done
s cpuinfo; grep -E '^(processor|model name|Hardware|cpu model|Processor)[[:space:]]*:' /proc/cpuinfo
s meminfo; grep -E '^MemTotal:' /proc/meminfo
s blocks
for d in /sys/block/*; do
  [ -e "$d/size" ] || continue
  r size "$d/size"; r rot "$d/queue/rotational"; r model "$d/device/model"
  printf '%s %s %s %s\n' "${d##*/}" "$size" "$rot" "$model"
done
s df; df -PTkl || df -PTk  # local file systems only (a stale NFS mount hangs df); BusyBox df has no -l
s os_release; cat /etc/os-release || cat /usr/lib/os-release
s uname; r v /proc/sys/kernel/osrelease; echo "$v"; uname -m
s nics
for n in /sys/class/net/*; do
  [ -e "$n/device" ] && kind=phys || kind=virt
  r mac "$n/address"; r speed "$n/speed"; r state "$n/operstate"
  printf '%s %s %s %s %s\n' "${n##*/}" "$mac" "$speed" "$state" "$kind"
done
s ipv4; ip -o -4 addr show
s uptime; r v /proc/uptime; echo "$v"
s end
"""

# Block devices that are not disks a person would buy or replace.
_VIRTUAL_BLOCKS = re.compile(r"^(loop|ram|zram|sr|fd|nbd|dm-|md)\d*")
# Filesystems that hold no user data; the root filesystem is always kept (it may be an overlay).
_PSEUDO_FS = {"tmpfs", "devtmpfs", "proc", "sysfs", "squashfs", "overlay", "efivarfs", "ramfs", "cgroup",
              "cgroup2", "devpts", "autofs", "fuse.lxcfs", "nsfs", "tracefs", "debugfs"}
GB = 1024 ** 3


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("@@"):
            current = line[2:].strip()
            out[current] = []
        elif current is not None and line.strip():
            out[current].append(line.rstrip())
    return out


def _gb(n_bytes: float) -> float:
    return round(n_bytes / GB, 1)


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_facts(text: str) -> dict[str, Any]:
    """Facts from the output of FACTS_SCRIPT. A section that is absent or unreadable leaves its facts out."""
    sec = _sections(text)
    facts: dict[str, Any] = {}
    if sec.get("hostname"):
        facts["hostname"] = sec["hostname"][0].strip()

    dmi = dict(line.split("=", 1) for line in sec.get("dmi", []) if "=" in line)
    for key, fact in (("sys_vendor", "vendor"), ("product_name", "model"), ("product_serial", "serial")):
        value = dmi.get(key, "").strip()
        if value and value.lower() not in ("to be filled by o.e.m.", "default string", "system serial number",
                                           "not specified", "none"):
            facts[fact] = value

    cpu_lines = [line.split(":", 1) for line in sec.get("cpuinfo", []) if ":" in line]
    processors = sum(1 for k, _ in cpu_lines if k.strip() == "processor")
    models = [v.strip() for k, v in cpu_lines if k.strip() in ("model name", "Hardware", "cpu model", "Processor")
              and v.strip() and not v.strip().isdigit()]
    if processors:
        facts["cpu_cores"] = processors
    if models:
        facts["cpu_model"] = re.sub(r"\s+", " ", models[0])

    for line in sec.get("meminfo", []):
        m = re.match(r"MemTotal:\s+(\d+)\s*kB", line)
        if m:
            facts["ram_mb"] = int(m.group(1)) // 1024

    disks = []
    for line in sec.get("blocks", []):
        parts = line.split(None, 3)
        if len(parts) < 2 or _VIRTUAL_BLOCKS.match(parts[0]) or _int(parts[1]) in (None, 0):
            continue
        model = parts[3].strip() if len(parts) > 3 else "-"
        disks.append({"name": parts[0], "size_gb": _gb(int(parts[1]) * 512),
                      "rotational": {"1": True, "0": False}.get(parts[2]) if len(parts) > 2 else None,
                      "model": None if model == "-" else model})
    if sec.get("blocks") is not None:
        facts["disks"] = disks
        facts["disk_total_gb"] = round(sum(d["size_gb"] for d in disks), 1)

    filesystems = []
    for line in sec.get("df", [])[1:]:
        parts = line.split(None, 6)
        if len(parts) < 7 or _int(parts[2]) is None or _int(parts[4]) is None:
            continue
        fs, fstype, size_k, _used, avail_k, pct, mount = parts
        if mount != "/" and fstype in _PSEUDO_FS:
            continue
        filesystems.append({"mount": mount, "fstype": fstype, "size_gb": _gb(int(size_k) * 1024),
                            "free_gb": _gb(int(avail_k) * 1024), "used_pct": _int(pct.rstrip("%"))})
    # a mount point listed twice (one file system mounted over another): the last one is what is visible
    filesystems = list({f["mount"]: f for f in filesystems}.values())
    if filesystems:
        facts["filesystems"] = filesystems
        by_mount = {f["mount"]: f for f in filesystems}
        if "/" in by_mount:
            facts["root_free_gb"] = by_mount["/"]["free_gb"]
        var = max((f for f in filesystems if f["mount"] in ("/", "/var") or "/var".startswith(f["mount"] + "/")),
                  key=lambda f: len(f["mount"]), default=None)
        if var:
            facts["var_free_gb"] = var["free_gb"]

    osr = {}
    for line in sec.get("os_release", []):
        if "=" in line:
            k, v = line.split("=", 1)
            osr[k.strip()] = v.strip().strip('"').strip("'")
    if osr.get("ID"):
        facts["os_id"] = osr["ID"]
    if osr.get("PRETTY_NAME") or osr.get("NAME"):
        facts["os_name"] = osr.get("PRETTY_NAME") or osr["NAME"]
    if osr.get("VERSION_ID"):
        facts["os_version"] = osr["VERSION_ID"]
        major = _int(osr["VERSION_ID"].split(".")[0])
        if major is not None:
            facts["os_version_major"] = major
    uname = sec.get("uname", [])
    if uname:
        facts["kernel"] = uname[0].strip()
    if len(uname) > 1:
        facts["arch"] = uname[1].strip()

    ipv4: dict[str, list[str]] = {}
    for line in sec.get("ipv4", []):
        m = re.match(r"\d+:\s+(\S+?)(@\S+)?\s+inet\s+(\S+)", line)
        if m:
            ipv4.setdefault(m.group(1), []).append(m.group(3))
    nics = []
    for line in sec.get("nics", []):
        parts = line.split()
        # Physical NICs, plus virtual ones that carry an address (a VM's or container's uplink);
        # bridges, veth peers and tunnels without an address are plumbing, not hardware.
        if not parts or parts[0] == "lo" or (len(parts) > 4 and parts[4] == "virt" and parts[0] not in ipv4):
            continue
        speed = _int(parts[2]) if len(parts) > 2 else None
        nics.append({"name": parts[0], "mac": parts[1] if len(parts) > 1 and parts[1] != "-" else None,
                     "speed_mbps": speed if speed and speed > 0 else None,
                     "state": parts[3] if len(parts) > 3 else None, "ipv4": ipv4.get(parts[0], [])})
    if sec.get("nics") is not None:
        facts["nics"] = nics
        facts["nic_count"] = len(nics)
        speeds = [n["speed_mbps"] for n in nics if n["speed_mbps"]]
        if speeds:
            facts["nic_max_speed_mbps"] = max(speeds)

    if sec.get("uptime"):
        try:
            up = float(sec["uptime"][0].split()[0])
            facts["uptime_s"] = int(up)
            facts["uptime_days"] = round(up / 86400, 1)
        except (ValueError, IndexError):
            pass
    return facts


class IncompleteOutput(Exception):
    """The host's answer stopped before the end marker: facts would be silently missing."""


def collect(host, deadline: Deadline, watchdog: Watchdog, policy: ssh.HostKeyPolicy) -> tuple[dict[str, Any], bool]:
    """Connect under the province's host-key policy, run FACTS_SCRIPT once; (parsed facts, whether the
    host's key was accepted as a first contact). Errors propagate (the runner classifies them)."""
    sock = open_socket(host.address, host.port, deadline)
    with watchdog.guard(sock, deadline):
        session = ssh.open_session(None, host, sock=sock, host_policy=policy, timeout=deadline.remaining(),
                                   operator_keys=False)
        try:
            _, stdout, _ = session.client.exec_command(FACTS_SCRIPT, timeout=deadline.remaining())
            output = stdout.read().decode("utf-8", errors="replace")
        finally:
            session.close()
    if "\n@@end" not in output:
        # the session ended before the script did: cut at the deadline, or the shell died on the host
        raise IncompleteOutput("the facts script did not run to its end")
    return parse_facts(output), session.first_contact
