"""A Huawei VRP switch simulator for the audit's tests: VRP cannot run here and fake-switches has no Huawei
model, so this asyncssh server on 127.0.0.1 plays one, closely enough for netmiko's `huawei` driver.

It speaks the VRP user view (`<sysname>`), `screen-length 0 temporary`, the `display` commands the audit
runs (output shaped like an S5720 on V200R011), `system-view` / `vlan N` / `quit` / `return` to change
the running configuration, and `save` with its Y/N question, so a test can make and then save a change.
The first login may ask the VRP "change the password now?" question (`ask_password_change`).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncssh

from audit_fakes import LoopServers

USER, PASSWORD = "quantri", "Hw-Pass-7720"


@dataclass
class VrpProfile:
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
        lines = ["!Software Version " + self.version, "#", f"sysname {self.sysname}", "#",
                 "vlan batch " + " ".join(str(v) for v in sorted(self.vlans) if v != 1), "#"]
        for v, name in sorted(self.vlans.items()):
            if v != 1:
                lines += [f"vlan {v}", f" description {name}", "#"]
        lines += ["aaa", " local-user quantri password irreversible-cipher $1a$secret$", "#",
                  "interface Vlanif1", " ip address 10.20.2.250 255.255.255.0", "#"]
        for name, _ in self.ports:
            lines += [f"interface {name}", "#"]
        return lines + ["return"]


def _version(p: VrpProfile) -> str:
    return ("Huawei Versatile Routing Platform Software\n"
            f"VRP (R) software, Version 5.170 ({p.model.split('-')[0]} {p.version})\n"
            "Copyright (C) 2000-2018 HUAWEI TECH CO., LTD\n"
            f"HUAWEI {p.model} Routing Switch uptime is {p.uptime}\n\n"
            "MPU 0(Master) : uptime is " + p.uptime + "\n")


def _interfaces(p: VrpProfile) -> str:
    head = ("PHY: Physical\n*down: administratively down\n(l): loopback\n(s): spoofing\n(b): BFD down\n"
            "(e): ETHOAM down\n(dl): DLDP down\n(d): Dampening Suppressed\n"
            "InUti/OutUti: input utility/output utility\n"
            "Interface                   PHY   Protocol  InUti OutUti   inErrors  outErrors\n")
    rows = [f"{n:<28}{s:<6}{s:<10}{'0%':<6}{'0%':<9}{0:<10}{0}" for n, s in p.ports]
    rows += [f"{'NULL0':<28}{'up':<6}{'up(s)':<10}{'0%':<6}{'0%':<9}{0:<10}{0}",
             f"{'Vlanif1':<28}{'up':<6}{'up':<10}{'--':<6}{'--':<9}{0:<10}{0}"]
    return head + "\n".join(rows) + "\n"


def _vlans(p: VrpProfile) -> str:
    dash = "-" * 80
    ports = [f"{v:<5}common  UT:GE0/0/{i + 1}(U)" for i, v in enumerate(sorted(p.vlans))]
    status = [f"{v:<5}enable  default       enable  disable    {name}" for v, name in sorted(p.vlans.items())]
    return (f"The total number of vlans is : {len(p.vlans)}\n{dash}\n"
            "U: Up;         D: Down;         TG: Tagged;         UT: Untagged;\n"
            "MP: Vlan-mapping;               ST: Vlan-stacking;\n"
            "#: ProtocolTransparent-vlan;    *: Management-vlan;\n"
            f"{dash}\n\nVID  Type    Ports\n{dash}\n" + "\n".join(ports) + "\n\n"
            f"VID  Status  Property      MAC-LRN Statistics Description\n{dash}\n" + "\n".join(status) + "\n")


class VrpSwitches(LoopServers):
    """Simulated Huawei switches on 127.0.0.1; `profiles[i]` may be changed between audits."""

    user, password = USER, PASSWORD

    def __init__(self, count: int = 1):
        super().__init__([VrpProfile(sysname=f"SW-HW{i:02d}", esn=f"2102359520DMH6{i:06d}") for i in range(count)])

    def _handler(self, i: int):
        async def handle(process: asyncssh.SSHServerProcess) -> None:
            p = self.profiles[i]
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
                    elif cmd == "screen-length 0 temporary":
                        reply = "Info: The configuration takes effect on the current user terminal interface only."
                    elif cmd in ("display version", "dis ver"):
                        reply = _version(p)
                    elif cmd == "display esn":
                        reply = f"ESN of slot 0: {p.esn}"
                    elif cmd == "display interface brief":
                        reply = _interfaces(p)
                    elif cmd == "display vlan":
                        reply = _vlans(p)
                    elif cmd == "display current-configuration":
                        reply = "\n".join(p.running())
                    elif cmd == "display saved-configuration":
                        reply = ("\n".join(p.saved) if p.saved is not None
                                 else "Error: The configuration file does not exist.")
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
                    elif cmd == "save" and view == "user":
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
