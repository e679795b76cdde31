"""Simulated Huawei VRP and H3C/HPE Comware switches, the two "display" CLIs common in provincial networks
(netmiko `huawei` and `hp_comware`), for the lab (run inside `provisioning.lab.switchsim`, next to the
Cisco ones) and for the audit's tests (on 127.0.0.1). Neither OS can run here and fake-switches has
neither, so these asyncssh servers play them, closely enough for netmiko's drivers.

It speaks the user view (`<sysname>`), the paging command (`screen-length 0 temporary` on VRP,
`screen-length disable` on Comware), the `display` commands the audit runs (output shaped like a VRP
S5720 on V200R011 and a Comware 7 S5130S), `system-view` / `vlan N` / `quit` / `return` to change the
running configuration, and `save` (VRP: with its Y/N question; Comware: `save force`), so a test can make
and then save a change. A VRP login may first ask "change the password now?" (`ask_password_change`).
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import asyncssh

from .province import VENDORS  # noqa: F401  (the vendors simulated here)


@dataclass
class DisplayProfile:
    flavor: str = "vrp"                     # or "comware"
    sysname: str = "SNV-SW-HW01"
    model: str = "S5720-28X-SI-AC"
    version: str = "V200R011C10SPC600"
    esn: str = "2102359520DMH6000123"
    uptime: str = "12 weeks, 3 days, 2 hours, 15 minutes"
    # (interface, PHY state); GE0/0/1-2 up, the rest down; NULL0 and Vlanif are not ports
    ports: list[tuple[str, str]] = field(default_factory=lambda: [
        (f"GigabitEthernet0/0/{i}", "up" if i <= 2 else ("*down" if i == 8 else "down")) for i in range(1, 9)])
    vlans: dict[int, str] = field(default_factory=lambda: {1: "VLAN 0001", 10: "KeToan", 20: "VanThu"})
    saved: list[str] | None = None          # the saved configuration; None: never saved
    ask_password_change: bool = False

    def running(self) -> list[str]:
        head = (["!Software Version " + self.version] if self.flavor == "vrp"
                else [" version 7.1.070, Release " + self.version])
        lines = [*head, "#", f"sysname {self.sysname}", "#",
                 "vlan batch " + " ".join(str(v) for v in sorted(self.vlans) if v != 1), "#"]
        for v, name in sorted(self.vlans.items()):
            if v != 1:
                lines += [f"vlan {v}", f" description {name}", "#"]
        lines += ["aaa", " local-user quantri password irreversible-cipher $1a$secret$", "#",
                  "interface Vlanif1", " ip address 10.20.2.250 255.255.255.0", "#"]
        for name, _ in self.ports:
            lines += [f"interface {name}", "#"]
        return lines + ["return"]


def _version(p: DisplayProfile) -> str:
    if p.flavor == "comware":
        return (f"H3C Comware Software, Version 7.1.070, Release {p.version}\n"
                "Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.\n"
                f"H3C {p.model} uptime is {p.uptime}\nLast reboot reason : User reboot\n\n"
                f"Boot image: flash:/s5130s_ei-cmw710-boot-r{p.version.lower()}.bin\n")
    return ("Huawei Versatile Routing Platform Software\n"
            f"VRP (R) software, Version 5.170 ({p.model.split('-')[0]} {p.version})\n"
            "Copyright (C) 2000-2018 HUAWEI TECH CO., LTD\n"
            f"HUAWEI {p.model} Routing Switch uptime is {p.uptime}\n\n"
            "MPU 0(Master) : uptime is " + p.uptime + "\n")


def _interfaces(p: DisplayProfile) -> str:
    if p.flavor == "comware":
        route = ("Brief information on interfaces in route mode:\nLink: ADM - administratively down; Stby - standby\n"
                 "Protocol: (s) - spoofing\n"
                 "Interface            Link Protocol Primary IP      Description\n"
                 "InLoop0              UP   UP(s)    --\nMGE0/0/0             DOWN DOWN     --\n"
                 "NULL0                UP   UP(s)    --\nVlan1                UP   UP       10.20.3.250\n\n")
        bridge = ("Brief information on interfaces in bridge mode:\nLink: ADM - administratively down; Stby - standby\n"
                  "Speed: (a) - auto\nDuplex: (a)/A - auto; H - half; F - full\n"
                  "Type: A - access; T - trunk; H - hybrid\n"
                  "Interface            Link Speed   Duplex Type PVID Description\n")
        rows = [f"{n:<21}{'UP' if s == 'up' else ('ADM' if s.startswith('*') else 'DOWN'):<5}"
                f"{'1G(a)' if s == 'up' else 'auto':<8}{'F(a)' if s == 'up' else 'A':<7}{'A':<5}1" for n, s in p.ports]
        return route + bridge + "\n".join(rows) + "\n"
    head = ("PHY: Physical\n*down: administratively down\n(l): loopback\n(s): spoofing\n(b): BFD down\n"
            "(e): ETHOAM down\n(dl): DLDP down\n(d): Dampening Suppressed\n"
            "InUti/OutUti: input utility/output utility\n"
            "Interface                   PHY   Protocol  InUti OutUti   inErrors  outErrors\n")
    rows = [f"{n:<28}{s:<6}{s:<10}{'0%':<6}{'0%':<9}{0:<10}{0}" for n, s in p.ports]
    rows += [f"{'NULL0':<28}{'up':<6}{'up(s)':<10}{'0%':<6}{'0%':<9}{0:<10}{0}",
             f"{'Vlanif1':<28}{'up':<6}{'up':<10}{'--':<6}{'--':<9}{0:<10}{0}"]
    return head + "\n".join(rows) + "\n"


def _vlans(p: DisplayProfile) -> str:
    if p.flavor == "comware":
        rows = [f"{v:<10}{name:<33}{'':<17}{'GE1/0/' + str(i + 1)}" for i, (v, name) in enumerate(sorted(p.vlans.items()))]
        return ("Brief information about all VLANs:\nSupported Minimum VLAN ID: 1\nSupported Maximum VLAN ID: 4094\n"
                "Default VLAN ID: 1\nVLAN ID   Name                             Tagged Port      Untagged Port\n"
                + "\n".join(rows) + "\n")
    dash = "-" * 80
    ports = [f"{v:<5}common  UT:GE0/0/{i + 1}(U)" for i, v in enumerate(sorted(p.vlans))]
    status = [f"{v:<5}enable  default       enable  disable    {name}" for v, name in sorted(p.vlans.items())]
    return (f"The total number of vlans is : {len(p.vlans)}\n{dash}\n"
            "U: Up;         D: Down;         TG: Tagged;         UT: Untagged;\n"
            "MP: Vlan-mapping;               ST: Vlan-stacking;\n"
            "#: ProtocolTransparent-vlan;    *: Management-vlan;\n"
            f"{dash}\n\nVID  Type    Ports\n{dash}\n" + "\n".join(ports) + "\n\n"
            f"VID  Status  Property      MAC-LRN Statistics Description\n{dash}\n" + "\n".join(status) + "\n")


def huawei_profile(name: str, i: int = 0) -> DisplayProfile:
    """An S5720 on VRP V200R011, 8 GE ports (2 up), VLANs 1, 10, 20."""
    return DisplayProfile(sysname=name, esn=f"2102359520DMH6{i:06d}")


def h3c_profile(name: str, i: int = 0) -> DisplayProfile:
    """An H3C S5130S on Comware 7 with 1/0/N port numbers (3 up)."""
    return DisplayProfile(flavor="comware", sysname=name, model="S5130S-28S-EI", version="6328P03",
                          esn=f"219801A2YH8217Q{i:05d}", uptime="0 weeks, 5 days, 3 hours, 12 minutes",
                          ports=[(f"GE1/0/{n}", "up" if n <= 3 else "down") for n in range(1, 9)])


class LoopServers:
    """asyncssh servers, one per profile, in a background asyncio loop, accepting one user and password.
    `addresses`: (ip, port) per profile, default 127.0.0.1 on an ephemeral port; `ports` are the ports
    listened on. `profiles[i]` may be changed while running (the next login sees it). Subclasses give the
    session handler. Also the base of the audit tests' fake Linux fleet."""

    def __init__(self, profiles: list, user: str, password: str, addresses: list[tuple[str, int]] | None = None,
                 host_key_pem: str | None = None):
        self.profiles, self.user, self.password = profiles, user, password
        self.host_key_pem = host_key_pem   # the lab's stable switch key (recorded in its known_hosts); else a new one
        self.addresses = addresses or [("127.0.0.1", 0)] * len(profiles)
        self.ports: list[int] = []
        self.host_pub = ""          # the servers' host key, "ssh-ed25519 AAAA..." (for a known_hosts file)
        self._servers: list = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def _handler(self, i: int):
        raise NotImplementedError

    async def _start(self) -> None:
        key = (asyncssh.import_private_key(self.host_key_pem) if self.host_key_pem
               else asyncssh.generate_private_key("ssh-ed25519"))
        self.host_pub = " ".join(key.export_public_key().decode().split()[:2])
        user, password = self.user, self.password

        class PasswordLoginServer(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, pw: str) -> bool:
                return (username, pw) == (user, password)

        for i, (ip, port) in enumerate(self.addresses):
            srv = await asyncssh.create_server(PasswordLoginServer, ip, port, server_host_keys=[key],
                                               process_factory=self._handler(i), backlog=512)
            self._servers.append(srv)
            self.ports.append(srv.sockets[0].getsockname()[1])

    async def _stop(self) -> None:
        for s in self._servers:
            s.close()
            await s.wait_closed()
        for task in asyncio.all_tasks():   # sessions still open (or "hanging" on purpose)
            if task is not asyncio.current_task():
                task.cancel()

    def __enter__(self):
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class DisplaySwitches(LoopServers):
    """Simulated VRP / Comware switches (DisplayProfile each)."""

    def _handler(self, i: int):
        async def handle(process: asyncssh.SSHServerProcess) -> None:
            p = self.profiles[i]
            vrp = p.flavor == "vrp"
            out = process.stdout

            def prompt(view: str) -> None:
                out.write({"user": f"<{p.sysname}>", "system": f"[{p.sysname}]"}.get(view, view))

            out.write("\r\nInfo: The max number of VTY users is 5, and the number\r\n"
                      "      of current VTY users on line is 1.\r\n")
            if p.ask_password_change:
                out.write("The password needs to be changed. Change now? [Y/N]: ")
                await process.stdin.readline()
                out.write("\r\n")
            view = "user"
            prompt(view)
            try:
                while True:
                    line = (await process.stdin.readline())
                    if not line:
                        break
                    cmd = " ".join(line.split())
                    reply = ""
                    if not cmd:
                        pass
                    elif cmd == "screen-length 0 temporary" and vrp:
                        reply = "Info: The configuration takes effect on the current user terminal interface only."
                    elif cmd == "screen-length disable" and not vrp:
                        pass
                    elif cmd in ("display version", "dis ver"):
                        reply = _version(p)
                    elif cmd == "display esn" and vrp:
                        reply = f"ESN of slot 0: {p.esn}"
                    elif cmd == "display device manuinfo" and not vrp:
                        reply = (f"Slot 1 CPU 0:\nDEVICE_NAME          : {p.model}\nDEVICE_SERIAL_NUMBER : {p.esn}\n"
                                 "MAC_ADDRESS          : 7057-BF12-3456\nMANUFACTURING_DATE   : 2021-08-17\n"
                                 "VENDOR_NAME          : H3C")
                    elif cmd == "display interface brief":
                        reply = _interfaces(p)
                    elif cmd == ("display vlan" if vrp else "display vlan brief"):
                        reply = _vlans(p)
                    elif cmd == "display current-configuration":
                        reply = "\n".join(p.running())
                    elif cmd == "display saved-configuration":
                        reply = ("\n".join(p.saved) if p.saved is not None
                                 else "Error: The configuration file does not exist." if vrp
                                 else "The config file does not exist.")
                    elif cmd == "system-view" and view == "user":
                        reply, view = "Enter system view, return user view with Ctrl+Z.", "system"
                    elif cmd.startswith("vlan ") and cmd.split()[1].isdigit() and view != "user":
                        vid = int(cmd.split()[1])
                        p.vlans.setdefault(vid, f"VLAN {vid:04d}")
                        view = f"[{p.sysname}-vlan{vid}]"
                    elif cmd == "quit":
                        view = "system" if view.startswith("[") else "user"
                    elif cmd == "return":
                        view = "user"
                    elif cmd == "save force" and not vrp:
                        p.saved = p.running()
                        reply = "Validating file. Please wait...\nSaved the current configuration to mainboard " \
                                "device successfully."
                    elif cmd == "save" and view == "user" and vrp:
                        out.write("\r\nThe current configuration will be written to the device.\r\n"
                                  "Are you sure to continue? [Y/N]:")
                        answer = (await process.stdin.readline()).strip().lower()
                        if answer.startswith("y"):
                            p.saved = p.running()
                            reply = "Now saving the current configuration to the slot 0.\nSave the configuration " \
                                    "successfully."
                    else:
                        reply = "                ^\nError: Unrecognized command found at '^' position."
                    if reply:   # the line editor has echoed the command and its newline already
                        out.write(reply.replace("\n", "\r\n") + "\r\n")
                    prompt(view)
            except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, asyncssh.DisconnectError,
                    ConnectionError, asyncio.CancelledError):
                pass
            process.exit(0)
        return handle
