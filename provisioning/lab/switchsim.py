"""Simulated switches for the lab: every switch of a lab in one process, each listening on port 22 of its
own lab address. Cisco IOS switches are fake-switches' (one Twisted reactor); Huawei VRP and H3C Comware
ones (`"vendor"` in the config) are displaysim's asyncssh servers in a thread beside it. Run by
`provision lab up` inside the lab's switch namespace: `python -m provisioning.lab.switchsim CONFIG.json`.

fake-switches 1.5.0 is used on a current Twisted, with small patches for what it lacks or gets wrong
(see ../shared/notes/research/audit_anchors.md, section 5):
  1. `end` in configuration mode (netmiko's send_config_set() sends it; the simulator knows only `exit`);
  2. the enable password is compared as str (the stock CLI passes bytes, which never match on Python 3);
  3. outputs for `show inventory`, `show interfaces status` and `show ip interface brief` (the last one
     crashes the stock session);
  4. a startup configuration: `show startup-config` prints the configuration as of the last
     `write memory` (or of the switch's start), so a configuration change that was not saved shows up as a
     difference between running and startup configuration, as on a real switch (the audit flags it).
The patches change the simulator only; the project's netmiko code is the same as against real devices.

Host key: every switch of a lab answers with the lab's one RSA key (`"host_key"` in the config: a PEM file
made by hostkey.make_host_key, its public half recorded in the lab's known_hosts), so the audit checks switch keys
as it checks servers' (fake-switches' own key is a fixed one published with the package).
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from fake_switches import switch_factory
from fake_switches.cisco.command_processor.config import ConfigCommandProcessor
from fake_switches.cisco.command_processor.enabled import (
    EnabledCommandProcessor,
    build_running_interface,
    build_running_vlan,
    build_static_routes,
)
from fake_switches.transports import ssh_service
from fake_switches.transports.ssh_service import SwitchSshService
from twisted.internet import reactor

from . import displaysim
from .hostkey import make_host_key


def _do_end(self, *_):
    self.sub_processor = None
    self.is_done = True


def _serial(name: str) -> str:
    return "FOC" + "".join(f"{ord(c):02X}" for c in name)[-8:]


def running_config(conf) -> list[str]:
    """The lines `show running-config` prints after its header (same builders as the simulator)."""
    lines = ["version 12.1", "!", f"hostname {conf.name}", "!", "!"]
    for vlan in conf.vlans:
        lines += build_running_vlan(vlan) + ["!"]
    for port in conf.get_physical_ports() + conf.get_vlan_ports():
        lines += build_running_interface(port) + ["!"]
    if conf.static_routes:
        lines += [build_static_routes(r) for r in conf.static_routes] + ["!"]
    return lines + ["end", ""]


def _save(conf) -> None:
    conf.startup_config = running_config(conf)


_orig_show = EnabledCommandProcessor.do_show
_orig_write = EnabledCommandProcessor.do_write


def _do_write(self, *args):
    _orig_write(self, *args)
    _save(self.switch_configuration)


def _do_show(self, *args):
    conf = self.switch_configuration
    if len(args) >= 1 and "startup-config".startswith(args[0]) and len(args[0]) >= 3:
        lines = getattr(conf, "startup_config", None)
        if lines is None:
            self.write_line("startup-config is not present")
            return
        self.write_line(f"Using {len(chr(10).join(lines))} out of 524288 bytes")
        for line in lines:
            self.write_line(line)
        return
    if len(args) >= 1 and "inventory".startswith(args[0]) and len(args[0]) >= 3:
        self.write_line(f'NAME: "1", DESCR: "WS-C2960-24TT-L"')
        self.write_line(f"PID: WS-C2960-24TT-L  , VID: V02  , SN: {_serial(conf.name)}")
        self.write_line("")
        return
    if len(args) >= 2 and "interfaces".startswith(args[0]) and args[1] == "status":
        self.write_line("")
        self.write_line("Port      Name               Status       Vlan       Duplex  Speed Type")
        for p in conf.get_physical_ports():
            st = "disabled" if p.shutdown else "notconnect"
            self.write_line("%-9s %-18s %-12s %-10s %6s %6s %s" % (
                p.get_subname(length=2), (p.description or "")[:18], st, p.access_vlan or 1, "auto", "auto",
                "10/100BaseTX"))
        self.write_line("")
        return
    if len(args) >= 3 and "ip".startswith(args[0]) and "interface".startswith(args[1]) and args[2] == "brief":
        self.write_line("Interface              IP-Address      OK? Method Status                Protocol")
        for p in conf.get_physical_ports():
            status = "administratively down" if p.shutdown else "down"
            self.write_line("%-22s %-15s YES unset  %-21s %s" % (p.name, "unassigned", status, "down"))
        return
    return _orig_show(self, *args)


def patch() -> None:
    ConfigCommandProcessor.do_end = _do_end
    EnabledCommandProcessor.do_show = _do_show
    EnabledCommandProcessor.do_write = _do_write


def _use_host_key(path: str) -> str:
    """Serve `path`'s key from every switch; returns the PEM text."""
    pem = Path(path).read_text()
    pub = make_host_key(path)
    ssh_service.getRSAKeys = lambda: (pub, pem)
    return pem


def main(config_path: str) -> None:
    cfg = json.loads(open(config_path).read())
    logging.basicConfig(level=logging.WARNING)
    patch()
    pem = _use_host_key(cfg["host_key"]) if cfg.get("host_key") else None
    factory = switch_factory.SwitchFactory()
    others = []   # Huawei VRP and H3C Comware switches: displaysim's asyncssh servers, in a thread of their own
    for i, sw in enumerate(cfg["switches"]):
        vendor = sw.get("vendor", "cisco")
        if vendor != "cisco":
            make = displaysim.huawei_profile if vendor == "huawei" else displaysim.h3c_profile
            profile = make(sw["name"].upper(), i)
            profile.saved = profile.running()      # a switch starts with its configuration saved
            others.append((profile, (sw["ip"], sw.get("port", 22))))
            continue
        core = factory.get("cisco_2960_24TT_L", sw["name"], cfg["enable_secret"])  # str secret: patch 2
        _save(core.switch_configuration)  # a switch starts with its configuration saved: patch 4
        SwitchSshService(ip=sw["ip"], port=sw.get("port", 22), switch_core=core,
                         users={cfg["user"]: cfg["password"].encode()}).hook_to_reactor(reactor)
    if others:
        displaysim.DisplaySwitches([p for p, _ in others], cfg["user"], cfg["password"],
                                   [a for _, a in others], host_key_pem=pem).__enter__()   # runs until the process ends
    print(f"switches ready: {', '.join(s['name'] for s in cfg['switches'])}", flush=True)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1])
