"""A lab province on one Linux machine.

Each lab host is an overlay of the lab base image (lower, read-only) and a tmpfs (upper), with its own
network, mount, PID, UTS and IPC namespaces, a tiny init as PID 1 and its own sshd. Hosts sit on one
bridge per lab; their default route points at an address nobody answers, so no packet for a foreign
address ever leaves the lab. Simulated Cisco switches run in one process inside a namespace of their
own, each listening on its own lab address.

State lives in /var/lib/provision/labs/<name>/ (lab.json, SSH keys, per-host layers); the lab writes a
ready province (hosts.yml + province.yml) to inventory/<name>/.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import BadInput, OperationFailed
from . import image
from .hostkey import make_host_key
from .province import LabHost, LabShape, lab_domain, plan_hosts, write_province

LABS = image.BASE / "labs"
NET_BASE = ipaddress.IPv4Network("10.112.0.0/12")  # lab k uses 10.112.0.0/20 + k*4096 (k = 0..15)
INIT = Path(__file__).with_name("init.sh")
SWITCHSIM = "provisioning.lab.switchsim"


def _quiet(_: str) -> None:
    pass


@dataclass
class HostStatus:
    name: str
    kind: str
    unit: str
    ip: str
    running: bool
    ssh: bool
    detail: str = ""
    vendor: str = ""       # switches: cisco | huawei | h3c
    release: str = ""      # Linux hosts: Debian codename (bookworm, trixie)
    debian: str = ""       # Linux hosts: Debian major version (12, 13)


@dataclass
class LabStatus:
    name: str
    exists: bool
    network: str | None = None
    inventory: str | None = None
    hosts: list[HostStatus] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.exists and all(h.ssh for h in self.hosts)


def _sh(cmd: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise OperationFailed(f"`{' '.join(cmd)}` failed: {(r.stderr or r.stdout).strip()}")
    return r


def ssh_banner(ip: str, port: int = 22, timeout: float = 1.0) -> bool:
    """True when something on ip:port speaks SSH (reads the server's identification line)."""
    try:
        with socket.create_connection((ip, port), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def check_machine() -> None:
    """Clear errors when this machine cannot host a lab."""
    if os.geteuid() != 0:
        raise BadInput("the lab needs root (network namespaces, mounts): run `provision lab ...` as root")
    if "overlay" not in Path("/proc/filesystems").read_text():
        _sh(["modprobe", "overlay"], check=False)
        if "overlay" not in Path("/proc/filesystems").read_text():
            raise BadInput("this kernel has no overlayfs (needed for lab hosts' file systems)")
    if not Path("/proc/self/ns/net").exists() or _sh(["unshare", "--net", "true"], check=False).returncode != 0:
        raise BadInput("this kernel or container does not allow network namespaces (needed for lab hosts)")
    for tool in ("ip", "unshare", "chroot", "ssh-keygen", "mount"):
        if not shutil.which(tool):
            raise BadInput(f"`{tool}` is missing: run `bash scripts/bootstrap.sh`")


class Lab:
    def __init__(self, name: str = "lab", inventory_dir: str | Path | None = None, log: Callable[[str], None] = _quiet):
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,11}", name):  # it becomes part of namespace and link names
            raise BadInput(f"lab name {name!r}: use up to 12 lower-case ASCII letters, digits or '-', "
                           "starting with a letter")
        self.name = name
        self.dir = LABS / name
        self.log = log
        self._inventory_dir = Path(inventory_dir) if inventory_dir else None

    # ---- state -------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.dir / "lab.json"

    def state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def _save(self, st: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(st, indent=2))
        tmp.replace(self.state_file)

    @property
    def inventory_dir(self) -> Path:
        st = self.state()
        if st:
            return Path(st["inventory"])
        return self._inventory_dir or Path("inventory") / self.name

    def hosts(self) -> list[LabHost]:
        st = self.state() or {"hosts": []}
        return [LabHost(**h) for h in st["hosts"]]

    def host(self, name: str) -> LabHost:
        for h in self.hosts():
            if h.name == name:
                return h
        raise BadInput(f"lab {self.name}: no host named {name!r}")

    @staticmethod
    def _used_indexes() -> dict[int, str]:
        used = {}
        for f in LABS.glob("*/lab.json"):
            try:
                used[json.loads(f.read_text())["index"]] = f.parent.name
            except (OSError, ValueError, KeyError):
                pass
        return used

    def _pick_index(self) -> int:
        used = self._used_indexes()
        start = 0 if self.name == "lab" else 1 + zlib.crc32(self.name.encode()) % 15
        for k in [start, *range(16)]:
            if k not in used:
                return k
        raise OperationFailed("16 labs are already up on this machine")

    # ---- names -------------------------------------------------------------------------
    def _netns(self, host: str) -> str:
        return f"plab-{self.name}-{host}"

    @staticmethod
    def _bridge(index: int) -> str:
        return f"plbr{index}"

    @staticmethod
    def _veth(index: int, i: int) -> str:
        return f"pl{index}h{i}"

    # ---- up ----------------------------------------------------------------------------
    def up(self, units: int = 2, workstations: int = 1, switches: int = 1, inventory_dir: str | Path | None = None,
           switch_vendors: list[str] | None = None, debian: str = "13") -> LabStatus:
        check_machine()
        shape = LabShape(units=units, workstations=workstations, switches=switches,
                         switch_vendors=list(switch_vendors or ["cisco"]), debian=str(debian))
        shape.validate()
        st = self.state()
        if st:
            # labs made before vendors: Cisco; before per-release images: Debian 12
            if {"switch_vendors": ["cisco"], "debian": "12", **st["shape"]} != asdict(shape):
                raise BadInput(f"lab {self.name} is up with another shape ({st['shape']}); "
                               f"run `provision lab down --name {self.name}` first")
            self.log(f"lab {self.name} exists: checking its hosts")
            self._repair(st)
            return self.status()
        image.ensure_all(self.log, self._release_in_use)
        self.dir.mkdir(parents=True, exist_ok=True)
        index = self._pick_index()
        net = ipaddress.IPv4Network((int(NET_BASE.network_address) + index * 4096, 20))
        inv = Path(inventory_dir or self._inventory_dir or Path("inventory") / self.name).resolve()
        hosts = plan_hosts(shape, net)
        st = {"name": self.name, "index": index, "network": str(net), "shape": asdict(shape),
              "inventory": str(inv), "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "domain": lab_domain(), "hosts": [asdict(h) for h in hosts], "switch_pid": None}
        self._save(st)  # saved first: a failure half-way is cleaned up by `lab down`
        try:
            self._keys()
            self._bridge_up(index, net)
            for i, h in enumerate(hosts):
                if h.kind != "switch":
                    self._create_host(st, i, h)
            self._start_switches(st)
            self._save(st)
            self._write_known_hosts(st)
            self._wait_ready(st)
            write_province(self, st, inv)
        except BaseException:
            self.log("lab up failed: run `provision lab down` to clean up, or `lab up` again to repair")
            raise
        return self.status()

    @staticmethod
    def _release_in_use(release: str) -> bool:
        """True when a lab on this machine has hosts on `release`'s image."""
        for f in LABS.glob("*/lab.json"):
            try:
                if any(h.get("release") == release for h in json.loads(f.read_text())["hosts"]):
                    return True
            except (OSError, ValueError, KeyError):
                return True   # unreadable: assume it does
        return False

    def _keys(self) -> None:
        key = self.dir / "id_ed25519"
        if not key.exists():
            _sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"provision-lab-{self.name}", "-f", str(key)])
        sec = self.dir / "secrets.json"
        if not sec.exists():
            fd = os.open(sec, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump({"root_password": secrets.token_urlsafe(12),
                           "switch_password": secrets.token_urlsafe(12),
                           "enable_secret": secrets.token_urlsafe(12)}, fh)

    def secrets(self) -> dict[str, str]:
        return json.loads((self.dir / "secrets.json").read_text())

    def _bridge_up(self, index: int, net: ipaddress.IPv4Network) -> None:
        br = self._bridge(index)
        if _sh(["ip", "link", "show", br], check=False).returncode != 0:
            _sh(["ip", "link", "add", br, "type", "bridge"])
            _sh(["ip", "addr", "add", f"{net.network_address + 1}/{net.prefixlen}", "dev", br])
            _sh(["ip", "link", "set", br, "up"])

    def _gateway(self, st: dict) -> str:
        return str(ipaddress.IPv4Network(st["network"]).broadcast_address - 1)

    def _netns_link(self, st: dict, i: int, ns: str, ips: list[str]) -> None:
        net = ipaddress.IPv4Network(st["network"])
        veth = self._veth(st["index"], i)
        if ns not in self._netns_names():
            _sh(["ip", "netns", "add", ns])
        if _sh(["ip", "link", "show", veth], check=False).returncode != 0:
            _sh(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
            _sh(["ip", "link", "set", veth, "master", self._bridge(st["index"]), "up"])
            for ip in ips:
                _sh(["ip", "-n", ns, "addr", "add", f"{ip}/{net.prefixlen}", "dev", "eth0"])
            _sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
            _sh(["ip", "-n", ns, "link", "set", "lo", "up"])
            _sh(["ip", "-n", ns, "route", "add", "default", "via", self._gateway(st)])

    def _create_host(self, st: dict, i: int, h: LabHost) -> None:
        d = self.dir / "hosts" / h.name
        root, rw = d / "root", d / "rw"
        root.mkdir(parents=True, exist_ok=True)
        rw.mkdir(parents=True, exist_ok=True)
        if not os.path.ismount(rw):
            _sh(["mount", "-t", "tmpfs", "-o", f"size={h.disk_gb}g,mode=755", f"plab-{h.name}", str(rw)])
            (rw / "upper").mkdir()
            (rw / "work").mkdir()
        lower = image.rootfs(h.release) if h.release else image.LEGACY_ROOTFS
        fresh = not os.path.ismount(root)
        if fresh:
            _sh(["mount", "-t", "overlay", f"plab-{h.name}", "-o",
                 f"lowerdir={lower},upperdir={rw}/upper,workdir={rw}/work", str(root)])
        # A host whose first configuration was cut short (its last step writes /sbin/init) is
        # configured again; a configured one keeps what deploys wrote since.
        if fresh or not os.path.lexists(root / "usr" / "sbin" / "init"):
            self._configure(st, h, root)
        # Every release's repository, read-only; the host's apt uses its own release's only.
        repos = [image.repo(c) for c in image.RELEASES.values()] if h.release else [image.LEGACY_REPO]
        for repo in repos:
            repo_mnt = root / str(repo).lstrip("/")
            if not os.path.ismount(repo_mnt):
                repo_mnt.mkdir(parents=True, exist_ok=True)
                _sh(["mount", "--bind", "-o", "ro", str(repo), str(repo_mnt)])
                _sh(["mount", "-o", "remount,bind,ro", str(repo_mnt)])
        self._netns_link(st, i, self._netns(h.name), [h.ip])
        self._boot(h)
        st["hosts"][i]["pid"] = h.pid

    def _configure(self, st: dict, h: LabHost, root: Path) -> None:
        """Per-host settings, written from inside a chroot so that absolute symlinks resolve in the host."""
        d = self.dir / "hosts" / h.name
        key = d / "ssh_host_ed25519_key"
        if not key.exists():
            _sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{h.name}", "-f", str(key)])
        domain = st.get("domain") or "lab.test"
        hosts_lines = "\n".join(f"{x['ip']}\t{x['name']}.{domain} {x['name']}" for x in st["hosts"])
        pw_hash = _sh(["openssl", "passwd", "-6", "-stdin"], input=self.secrets()["root_password"]).stdout.strip()
        script = r'''
set -e
name=$1; domain=$2; pubkey=$3; hostslines=$4; init=$5; hostkey=$6; hostpub=$7; machineid=$8; pwhash=$9
echo "$name" >/etc/hostname
rm -f /etc/machine-id && echo "$machineid" >/etc/machine-id
rm -f /etc/hosts /etc/resolv.conf /etc/mailname
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\n' "$hostslines" >/etc/hosts
echo "nameserver 127.0.0.1" >/etc/resolv.conf
rm -f /usr/sbin/policy-rc.d /var/lib/man-db/auto-update
rm -f /etc/ssh/ssh_host_*
(umask 077; printf '%s\n' "$hostkey" >/etc/ssh/ssh_host_ed25519_key); printf '%s\n' "$hostpub" >/etc/ssh/ssh_host_ed25519_key.pub
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin yes\nPasswordAuthentication yes\nUseDNS no\nMaxStartups 100:30:200\n' >/etc/ssh/sshd_config.d/00-lab.conf
mkdir -p -m 700 /root/.ssh
echo "$pubkey" >/root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys
usermod -p "$pwhash" root
rm -f /sbin/init && printf '%s' "$init" >/sbin/init && chmod 755 /sbin/init
# invoke-rc.d refuses to start services when the runlevel is unknown (no systemd here)
rm -f /sbin/runlevel && printf '#!/bin/sh\necho "N 2"\n' >/sbin/runlevel && chmod 755 /sbin/runlevel
'''
        _sh(["chroot", str(root), "/bin/sh", "-s", h.name, domain, (self.dir / "id_ed25519.pub").read_text().strip(),
             hosts_lines, INIT.read_text(), key.read_text(), (d / "ssh_host_ed25519_key.pub").read_text().strip(),
             secrets.token_hex(16), pw_hash], input=script)

    def _boot(self, h: LabHost) -> None:
        d = self.dir / "hosts" / h.name
        console = open(d / "console.log", "ab")
        p = subprocess.Popen(
            ["ip", "netns", "exec", self._netns(h.name), "unshare", "--mount", "--uts", "--ipc", "--pid", "--fork",
             "--kill-child", f"--mount-proc={d / 'root' / 'proc'}", "chroot", str(d / "root"), "/sbin/init"],
            stdin=subprocess.DEVNULL, stdout=console, stderr=console, start_new_session=True)
        console.close()
        h.pid = p.pid

    def _start_switches(self, st: dict) -> None:
        sw = [(i, h) for i, h in enumerate(st["hosts"]) if h["kind"] == "switch"]
        if not sw:
            return
        ns = self._netns("switches")
        first = sw[0][0]
        self._netns_link(st, first, ns, [h["ip"] for _, h in sw])
        cfg = self.dir / "switches.json"
        sec = self.secrets()
        cfg.write_text(json.dumps({"switches": [{"name": h["name"], "ip": h["ip"], "vendor": h.get("vendor") or "cisco"}
                                                for _, h in sw],
                                   "user": "netadmin", "password": sec["switch_password"],
                                   "enable_secret": sec["enable_secret"], "host_key": str(self._switch_key())}))
        os.chmod(cfg, 0o600)
        log = open(self.dir / "switches.log", "ab")
        p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-m", SWITCHSIM, str(cfg)],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        st["switch_pid"] = p.pid

    def _switch_key(self) -> Path:
        """The lab's switch host key (one for all its simulated switches), made once."""
        path = self.dir / "switch_host_key"
        make_host_key(path)
        return path

    def _write_known_hosts(self, st: dict) -> None:
        lines = []
        domain = st.get("domain") or "lab.test"
        for h in st["hosts"]:
            if h["kind"] == "switch":
                pub = make_host_key(self._switch_key()).split()[:2]
            else:
                pub = (self.dir / "hosts" / h["name"] / "ssh_host_ed25519_key.pub").read_text().split()[:2]
            lines.append(f"{h['ip']},{h['name']},{h['name']}.{domain} {' '.join(pub)}")
        (self.dir / "known_hosts").write_text("\n".join(lines) + "\n")

    def _wait_ready(self, st: dict, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        pending = {h["name"]: h["ip"] for h in st["hosts"]}
        while pending and time.monotonic() < deadline:
            for name, ip in list(pending.items()):
                if ssh_banner(ip, timeout=0.5):
                    del pending[name]
            if pending:
                time.sleep(0.1)
        if pending:
            logs = []
            for name in pending:
                f = self.dir / "hosts" / name / "console.log"
                if f.exists():
                    logs.append(f"{name}: " + f.read_text(errors="replace")[-400:])
            sw = self.dir / "switches.log"
            if sw.exists() and any(h["kind"] == "switch" and h["name"] in pending for h in st["hosts"]):
                logs.append("switches: " + sw.read_text(errors="replace")[-800:])
            raise OperationFailed(f"lab {self.name}: no SSH answer from {', '.join(sorted(pending))}\n" + "\n".join(logs))

    def _repair(self, st: dict) -> None:
        """`lab up` on an existing lab: restart whatever is not running (also after a machine reboot,
        when the bridge, namespaces and tmpfs layers are gone but the state is still on disk)."""
        self._bridge_up(st["index"], ipaddress.IPv4Network(st["network"]))
        for i, h in enumerate(st["hosts"]):
            if h["kind"] == "switch":
                continue
            if not self._alive(h.get("pid")):
                self.log(f"starting {h['name']}")
                self._create_host(st, i, LabHost(**h))
        if any(h["kind"] == "switch" for h in st["hosts"]) and not self._alive(st.get("switch_pid")):
            self._start_switches(st)
        self._save(st)
        self._wait_ready(st)
        write_province(self, st, Path(st["inventory"]))

    @staticmethod
    def _alive(pid: int | None) -> bool:
        if not pid:
            return False
        try:
            return Path(f"/proc/{pid}/stat").read_text().split()[2] not in ("Z", "X")
        except OSError:
            return False

    @staticmethod
    def _pid1(unshare_pid: int) -> int | None:
        try:
            kids = Path(f"/proc/{unshare_pid}/task/{unshare_pid}/children").read_text().split()
            return int(kids[0]) if kids else None
        except OSError:
            return None

    # ---- stop/start one host (tests: unreachable hosts) --------------------------------
    def stop_host(self, name: str) -> None:
        st = self.state()
        if not st:
            raise BadInput(f"lab {self.name} is not up")
        h = self.host(name)
        if h.kind == "switch":
            raise BadInput("switches run in one simulator process; stop the whole lab instead")
        self._kill([h.pid])
        deadline = time.monotonic() + 5
        while ssh_banner(h.ip, timeout=0.3) and time.monotonic() < deadline:
            time.sleep(0.1)

    def start_host(self, name: str) -> None:
        st = self.state()
        if not st:
            raise BadInput(f"lab {self.name} is not up")
        self.host(name)
        self._repair(st)

    # ---- cut/restore one host's link to an address (tests: WAN outage) ------------------------
    CUT_TABLE = "provision_lab_cut"

    def cut_link(self, name: str, address: str) -> None:
        """Drop every packet between lab host `name` and `address`, both ways, as a WAN outage does:
        nothing is refused or answered, open connections just stop hearing from each other. A table of
        its own in the host's network namespace, written with the host's nft (deployed servers have
        nftables); the host stays reachable from this machine. `restore_link` removes it."""
        ipaddress.ip_address(address)   # ValueError on anything else: it goes into an nft rule
        h = self.host(name)
        rules = (f"table inet {self.CUT_TABLE} {{\n"
                 f"  chain out {{ type filter hook output priority -10; policy accept; ip daddr {address} drop; }}\n"
                 f"  chain in {{ type filter hook input priority -10; policy accept; ip saddr {address} drop; }}\n"
                 "}\n")
        self._nft(h, ["-f", "-"], rules)

    def restore_link(self, name: str) -> None:
        """Undo every `cut_link` of host `name` (nothing to undo: nothing done)."""
        h = self.host(name)
        if self.CUT_TABLE in self._nft(h, ["list", "tables"]):
            self._nft(h, ["delete", "table", "inet", self.CUT_TABLE])

    def _nft(self, h: LabHost, args: list[str], stdin: str | None = None) -> str:
        root = self.dir / "hosts" / h.name / "root"
        return _sh(["ip", "netns", "exec", self._netns(h.name), "chroot", str(root), "nft", *args],
                   input=stdin).stdout

    def _kill(self, pids: list[int | None]) -> None:
        waiting = []
        for pid in pids:
            if self._alive(pid):
                init = self._pid1(pid)
                for p in (init, pid):
                    if p:
                        try:
                            os.kill(p, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                waiting.append(pid)
        for pid in waiting:  # a PID namespace takes ~2 s to tear down; all in parallel
            deadline = time.monotonic() + 10
            while self._alive(pid) and time.monotonic() < deadline:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                time.sleep(0.05)

    # ---- down --------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Remove everything the lab made: processes, mounts, namespaces, links, state, inventory."""
        check_machine()
        st = self.state()
        removed: list[str] = []
        pids = [h.get("pid") for h in (st or {}).get("hosts", [])]
        if st and st.get("switch_pid"):
            pids.append(st["switch_pid"])
        self._kill(pids)
        # any leftover process still inside one of this lab's namespaces (e.g. a half-created host)
        for ns in self._lab_netns():
            r = _sh(["ip", "netns", "pids", ns], check=False)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        # mounts under the state dir, deepest first
        prefix = str(self.dir) + "/"
        mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
        for m in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
            r = _sh(["umount", m], check=False)
            if r.returncode != 0:
                _sh(["umount", "-l", m], check=False)
            removed.append(f"mount {m}")
        for ns in self._lab_netns():
            _sh(["ip", "netns", "del", ns], check=False)
            removed.append(f"netns {ns}")
        if st:
            idx = st["index"]
            for i in range(len(st["hosts"])):
                if _sh(["ip", "link", "del", self._veth(idx, i)], check=False).returncode == 0:
                    removed.append(f"veth {self._veth(idx, i)}")
            if _sh(["ip", "link", "del", self._bridge(idx)], check=False).returncode == 0:
                removed.append(f"bridge {self._bridge(idx)}")
            inv = Path(st["inventory"])
            if (inv / ".lab").exists():
                shutil.rmtree(inv, ignore_errors=True)
                removed.append(f"inventory {inv}")
        if self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)
            removed.append(f"state {self.dir}")
        return removed

    @staticmethod
    def _netns_names() -> list[str]:
        return [line.split()[0] for line in _sh(["ip", "netns", "list"], check=False).stdout.splitlines() if line]

    def _lab_netns(self) -> list[str]:
        return [ns for ns in self._netns_names() if ns.startswith(f"plab-{self.name}-")]

    # ---- status & access ---------------------------------------------------------------
    def status(self) -> LabStatus:
        st = self.state()
        if not st:
            return LabStatus(self.name, False)
        out = LabStatus(self.name, True, st["network"], st["inventory"])
        sw_alive = self._alive(st.get("switch_pid"))
        for h in self.hosts():
            running = sw_alive if h.kind == "switch" else self._alive(h.pid)
            ok = running and ssh_banner(h.ip)
            release = "" if h.kind == "switch" else (h.release or "bookworm")
            out.hosts.append(HostStatus(h.name, h.kind, h.unit, h.ip, running, ok,
                                        "" if ok else ("stopped" if not running else "no SSH answer"),
                                        vendor=(h.vendor or "cisco") if h.kind == "switch" else "",
                                        release=release, debian=image.VERSIONS.get(release, "")))
        return out

    def ssh_args(self, host: str) -> list[str]:
        h = self.host(host)
        return ["ssh", "-i", str(self.dir / "id_ed25519"), "-o", f"UserKnownHostsFile={self.dir / 'known_hosts'}",
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                # errors only: the servers' legal banner is not part of a command's output
                "-o", "LogLevel=ERROR", f"root@{h.ip}"]

    def ssh(self, host: str, command: str, check: bool = False, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
        """Run a shell command on a lab host over real SSH."""
        if self.host(host).kind == "switch":
            raise BadInput(f"{host} is a simulated switch: use netmiko")
        r = subprocess.run(self.ssh_args(host) + [command], capture_output=True, text=True, timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise OperationFailed(f"{host}: `{command}` exited {r.returncode}: {r.stderr.strip()}")
        return r
