"""Facts of switches and routers over netmiko, one driver per vendor CLI.

A driver is a small class registered for one or more netmiko device types: the commands to run and, per
command, a fallback parser. Output is parsed with TextFSM (ntc-templates) through netmiko's
`use_textfsm=True` where a template exists; netmiko silently returns the raw *string* when no template
matches (seen with the switch simulator and with unusual IOS builds), so every structured result is
checked and the driver's own regex parser takes over. Adding a vendor = one driver class with its
commands and parsers (see `CiscoIOS`, `HuaweiVRP`, `Comware`); a device type without a driver is audited
as `unsupported`.

Facts (keys missing when the device does not tell):
  hostname, vendor, model, serial, os_version, uptime_s, uptime_days
  interfaces [{name, status, vlan, description}], interfaces_up, interfaces_down
  vlans [{id, name, status}], vlan_count
  config_saved (running == startup configuration), config_unsaved_lines, running_config_sha256
"""
from __future__ import annotations

import difflib
import hashlib
import re
from typing import Any, Callable, ClassVar

from ..transport import ssh
from .deadline import Deadline, Watchdog, open_socket
from .messages import HostProblem


# Scalar facts a baseline may check.
CHECKABLE_FACTS = frozenset({
    "hostname", "vendor", "model", "serial", "os_version", "uptime_s", "uptime_days", "interfaces_up",
    "interfaces_down", "vlan_count", "config_saved", "config_unsaved_lines", "running_config_sha256",
})


class EnableRefused(HostProblem):
    """Logged in, but the enable secret from the inventory was refused: facts would be partial."""

    status = "auth_failed"


class Unsupported(HostProblem):
    """No collector exists for this kind of host yet."""

    status = "unsupported"


DRIVERS: dict[str, type["Driver"]] = {}


def register(*device_types: str) -> Callable[[type["Driver"]], type["Driver"]]:
    def deco(cls: type[Driver]) -> type[Driver]:
        for dt_ in device_types:
            DRIVERS[dt_] = cls
        return cls
    return deco


class Driver:
    """Base of vendor drivers: runs commands with a deadline and keeps TextFSM-or-fallback parsing honest."""

    vendor: ClassVar[str] = ""
    # ntc-templates platform when it differs from the netmiko device type (netmiko's `huawei` is
    # ntc-templates' `huawei_vrp`): the driver then parses the raw output with that platform's templates.
    textfsm_platform: ClassVar[str | None] = None

    def __init__(self, conn: Any, deadline: Deadline):
        self.conn = conn
        self.deadline = deadline
        self.parsed_by: dict[str, str] = {}  # command -> "textfsm" | "fallback" (kept in facts for support)

    def raw(self, command: str) -> str:
        return self.conn.send_command(command, read_timeout=self.deadline.remaining())

    def structured(self, command: str, fallback: Callable[[str], list[dict]]) -> list[dict]:
        if self.textfsm_platform:
            result: Any = self.raw(command)
            try:
                from ntc_templates.parse import parse_output
                parsed = parse_output(platform=self.textfsm_platform, command=command, data=result)
            except Exception:  # no template for this command, or the template rejects this output (TextFSM Error)
                parsed = None
            if parsed:
                self.parsed_by[command] = "textfsm"
                return parsed
            self.parsed_by[command] = "fallback"
            return fallback(result)
        result = self.conn.send_command(command, use_textfsm=True, read_timeout=self.deadline.remaining())
        if isinstance(result, list) and all(isinstance(r, dict) for r in result) and result:
            self.parsed_by[command] = "textfsm"
            return result
        self.parsed_by[command] = "fallback"
        return fallback(result if isinstance(result, str) else "")

    def collect(self) -> dict[str, Any]:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------- helpers

_UPTIME_UNITS = {"year": 365 * 86400, "week": 7 * 86400, "day": 86400, "hour": 3600, "minute": 60, "second": 1}


def uptime_seconds(text: str) -> int | None:
    """'1 year, 18 weeks, 5 days, 1 hour, 11 minutes' -> seconds."""
    total, found = 0, False
    for n, unit in re.findall(r"(\d+)\s+(year|week|day|hour|minute|second)s?", text or ""):
        total += int(n) * _UPTIME_UNITS[unit]
        found = True
    return total if found else None


def uptime_facts(text: str) -> dict[str, Any]:
    """uptime_s and uptime_days from a device's uptime text, or nothing when it has none."""
    up = uptime_seconds(text)
    return {} if up is None else {"uptime_s": up, "uptime_days": round(up / 86400, 1)}


# Lines that change without any configuration change (IOS headers, timestamps, byte counts).
# Huawei VRP: "!Software Version ...", "!Last configuration was updated/saved at ...", "!Time: ...".
_VOLATILE = re.compile(r"^(Building configuration|Current configuration|Using \d+ out of \d+ bytes|"
                       r"! Last configuration change|! NVRAM config last updated|! No configuration change since|"
                       r"ntp clock-period|!Software Version|!Last configuration was|!Time:)")


def normalize_config(text: str) -> list[str]:
    return [line.rstrip() for line in (text or "").splitlines() if line.strip() and not _VOLATILE.match(line)]


def compare_configs(running: str, startup: str | None) -> dict[str, Any]:
    """config_saved / config_unsaved_lines / running_config_sha256 from the two configurations.
    Only a count of differing lines is kept, never the lines: configurations hold secrets."""
    run = normalize_config(running)
    facts: dict[str, Any] = {"running_config_sha256": hashlib.sha256("\n".join(run).encode()).hexdigest()}
    if startup is None:
        return facts
    start = normalize_config(startup)
    diff = [d for d in difflib.unified_diff(start, run, lineterm="", n=0)
            if d[:1] in "+-" and not d.startswith(("+++", "---"))]
    facts["config_saved"] = not diff
    facts["config_unsaved_lines"] = len(diff)
    return facts


# ------------------------------------------------------------------------------------------ Cisco IOS

def _ios_version_fallback(text: str) -> list[dict]:
    row: dict[str, Any] = {}
    if m := re.search(r"^(\S+) uptime is (.+)$", text, re.M):
        row["hostname"], row["uptime"] = m.group(1), m.group(2)
    if m := re.search(r"Version ([^,\s]+)", text):
        row["version"] = m.group(1)
    if m := re.search(r"^cisco (\S+) .*processor", text, re.M | re.I):
        row["hardware"] = [m.group(1)]
    if m := re.search(r"Processor board ID (\S+)", text):
        row["serial"] = [m.group(1)]
    return [row] if row else []


def _ios_inventory_fallback(text: str) -> list[dict]:
    return [{"pid": pid.strip(), "sn": sn.strip()}
            for pid, sn in re.findall(r"PID:\s*([^,]*?)\s*,.*?SN:\s*(\S*)", text or "")]


def _ios_interfaces_fallback(text: str) -> list[dict]:
    rows = []
    for line in (text or "").splitlines():
        m = re.match(r"^(\S+\d)\s+(.*?)\s*(connected|notconnect|disabled|err-disabled|inactive|monitoring|suspended)"
                     r"\s+(\S+)", line)
        if m:
            rows.append({"port": m.group(1), "name": m.group(2), "status": m.group(3), "vlan_id": m.group(4)})
    return rows


def _ios_vlan_fallback(text: str) -> list[dict]:
    return [{"vlan_id": vid, "vlan_name": name, "status": status}
            for vid, name, status in re.findall(r"^(\d+)\s+(\S+)\s+(active|act/\S+|suspended|sus/\S+)", text or "",
                                                 re.M)]


@register("cisco_ios", "cisco_xe")
class CiscoIOS(Driver):
    """Cisco IOS / IOS-XE access switches and routers (Catalyst 2960/3750, ISR)."""

    vendor = "Cisco"

    def collect(self) -> dict[str, Any]:
        facts: dict[str, Any] = {"vendor": self.vendor}
        ver = self.structured("show version", _ios_version_fallback)
        if ver:
            v = ver[0]
            for src, dst in (("hostname", "hostname"), ("version", "os_version")):
                if v.get(src):
                    facts[dst] = v[src]
            if v.get("hardware"):
                facts["model"] = v["hardware"][0]
            if v.get("serial"):
                facts["serial"] = v["serial"][0]
            facts.update(uptime_facts(v.get("uptime", "")))
        inv = self.structured("show inventory", _ios_inventory_fallback)
        chassis = next((r for r in inv if r.get("sn")), None)  # the first entry is the chassis / stack master
        if chassis:
            facts["serial"] = chassis["sn"]
            if chassis.get("pid"):
                facts["model"] = chassis["pid"]

        ifaces = self.structured("show interfaces status", _ios_interfaces_fallback)
        facts["interfaces"] = [{"name": r.get("port"), "status": r.get("status"), "vlan": r.get("vlan_id"),
                                "description": (r.get("name") or "").strip() or None} for r in ifaces]
        facts["interfaces_up"] = sum(1 for r in ifaces if r.get("status") == "connected")
        facts["interfaces_down"] = len(ifaces) - facts["interfaces_up"]

        vlans = self.structured("show vlan brief", _ios_vlan_fallback)
        facts["vlans"] = [{"id": int(r["vlan_id"]), "name": r.get("vlan_name"), "status": r.get("status")}
                          for r in vlans if str(r.get("vlan_id", "")).isdigit()]
        facts["vlan_count"] = len(facts["vlans"])

        running = self.raw("show running-config")
        startup = self.raw("show startup-config")
        if "startup-config is not present" in startup:
            startup = ""  # never saved: everything running is unsaved
        elif "Invalid input" in startup or not startup.strip():
            startup = None  # cannot tell
        facts.update(compare_configs(running, startup))
        facts["parsed_by"] = dict(self.parsed_by)
        return facts


# ------------------------------------------------------------------------------------------ Huawei VRP

def _vrp_version_fallback(text: str) -> list[dict]:
    row: dict[str, Any] = {}
    if m := re.search(r"software,\s+Version\s+(\S+)\s+\((.+?)\)", text or ""):
        row["vrp_version"], row["product_version"] = m.group(1), m.group(2)
    if m := re.search(r"^(?:HUAWEI|Huawei|Quidway)\s+(.+?)\s+uptime\s+is\s+(.+)$", text or "", re.M):
        row["model"], row["uptime"] = m.group(1), m.group(2)
    return [row] if row else []


def _vrp_interfaces_fallback(text: str) -> list[dict]:
    return [{"interface": name, "phy": phy, "protocol": proto}
            for name, phy, proto in re.findall(
                r"^\s*(\S+)\s+(\*?\^?down|up(?:\(\w+\))?)\s+(\S+)\s+\S+\s+\S+\s+\d+\s+\d+", text or "", re.M)]


def _vrp_vlan_fallback(text: str) -> list[dict]:
    return [{"vlan_id": vid, "vlan_status": status, "vlan_description": desc.strip()}
            for vid, status, desc in re.findall(r"^(\d+)\s+(enable|disable)\s+\S+\s+\S+\s+\S+\s*(.*)$",
                                                text or "", re.M)]


# Switch ports, as Cisco's `show interfaces status` lists them: not NULL0, Vlanif, LoopBack, MEth, Eth-Trunk.
# Newer VRP releases print short names (GE0/0/1, XGE0/0/1, MultiGE0/0/1) in the brief output.
_VRP_PORT = re.compile(r"^(GigabitEthernet|XGigabitEthernet|Ethernet|FastEthernet|MultiGE|X?GE|FE|\d+GE)\d", re.I)


@register("huawei", "huawei_vrp")
class HuaweiVRP(Driver):
    """Huawei VRP switches and routers (S5700/S5720/S6720, AR), common in provincial networks."""

    vendor = "Huawei"
    textfsm_platform = "huawei_vrp"

    def collect(self) -> dict[str, Any]:
        facts: dict[str, Any] = {"vendor": self.vendor}
        ver = self.structured("display version", _vrp_version_fallback)
        if ver:
            v = ver[0]
            model = re.sub(r"\s+(Routing Switch|Switch|Router)$", "", (v.get("model") or "").strip())
            if model:
                facts["model"] = model
            product = (v.get("product_version") or "").split()
            if product:                       # "S5720 V200R011C10SPC600": the release is the last word
                facts["os_version"] = product[-1]
            elif v.get("vrp_version"):
                facts["os_version"] = v["vrp_version"]
            facts.update(uptime_facts(v.get("uptime", "")))
        if m := re.search(r"ESN of (?:slot|master|device|chassis)?\s*\S*\s*:\s*(\S+)", self.raw("display esn")):
            facts["serial"] = m.group(1)

        ifaces = [r for r in self.structured("display interface brief", _vrp_interfaces_fallback)
                  if _VRP_PORT.match(r.get("interface") or "")]
        facts["interfaces"] = [{"name": r["interface"], "status": r.get("phy"), "vlan": None, "description": None}
                               for r in ifaces]
        facts["interfaces_up"] = sum(1 for r in ifaces if str(r.get("phy", "")).startswith("up"))
        facts["interfaces_down"] = len(ifaces) - facts["interfaces_up"]

        vlans = self.structured("display vlan", _vrp_vlan_fallback)
        facts["vlans"] = [{"id": int(r["vlan_id"]), "name": (r.get("vlan_description") or r.get("vlan_name") or None),
                           "status": r.get("vlan_status")}
                          for r in vlans if str(r.get("vlan_id", "")).isdigit()]
        facts["vlan_count"] = len(facts["vlans"])

        facts.update(_display_configs(self))
        facts["parsed_by"] = dict(self.parsed_by)
        return facts


def _display_configs(drv: Driver) -> dict[str, Any]:
    """hostname (sysname) and the saved-vs-running comparison on the 'display' CLIs (VRP, Comware)."""
    facts: dict[str, Any] = {}
    running = drv.raw("display current-configuration")
    if m := re.search(r"^\s*sysname\s+(\S+)", running, re.M):
        facts["hostname"] = m.group(1)
    elif getattr(drv.conn, "base_prompt", None):
        facts["hostname"] = drv.conn.base_prompt
    startup: str | None = drv.raw("display saved-configuration")
    if re.search(r"does not exist|no saved configuration|not found", startup, re.I):
        startup = ""    # never saved: everything running is unsaved
    elif startup.lstrip().startswith("Error") or not startup.strip():
        startup = None  # cannot tell
    facts.update(compare_configs(running, startup))
    return facts


# ------------------------------------------------------------------------------- H3C / HPE Comware

def _comware_version_fallback(text: str) -> list[dict]:
    row: dict[str, Any] = {}
    if m := re.search(r"Comware Software,?\s+Version\s+([^,\s]+),?\s+Release\s+(\S+)", text or ""):
        row["version"], row["release"] = m.group(1), m.group(2)
    if m := re.search(r"^(?:H3C|HPE|HP|New H3C)\s+(.+?)\s+uptime\s+is\s+(.+)$", text or "", re.M):
        row["model"], row["uptime"] = m.group(1), m.group(2)
    return [row] if row else []


def _comware_manuinfo_fallback(text: str) -> list[dict]:
    return [{"device_name": name.strip(), "device_serial_number": sn}
            for name, sn in re.findall(r"DEVICE_NAME\s*:\s*(.+?)\s*\n\s*DEVICE_SERIAL_NUMBER\s*:\s*(\S+)", text or "")]


def _comware_interfaces_fallback(text: str) -> list[dict]:
    """Bridge-mode rows (switch ports): Interface Link Speed Duplex Type PVID [Description]."""
    return [{"interface": name, "link": link, "type": kind, "vlan_id": pvid, "description": desc.strip()}
            for name, link, kind, pvid, desc in re.findall(
                r"^(\S+)\s+(UP|DOWN|ADM|Stby)\s+\S+\s+\S+\s+(A|T|H)\s+(\d+)[ \t]*(.*)$", text or "", re.M)]


def _comware_vlan_fallback(text: str) -> list[dict]:
    body = (text or "").split("VLAN ID", 1)[-1] if "VLAN ID" in (text or "") else ""
    return [{"vlan_id": vid, "vlan_name": name} for vid, name in re.findall(r"^(\d+)\s+(\w+)", body, re.M)]


@register("hp_comware")
class Comware(Driver):
    """H3C and HPE Comware 5/7 switches (S5130, S5120, HPE 1910/5130), common in provincial networks."""

    vendor = "H3C"

    def collect(self) -> dict[str, Any]:
        facts: dict[str, Any] = {"vendor": self.vendor}
        ver = self.structured("display version", _comware_version_fallback)
        if ver:
            v = ver[0]
            if v.get("model"):
                facts["model"] = v["model"]
            if v.get("version"):
                facts["os_version"] = f"{v['version']} Release {v['release']}" if v.get("release") else v["version"]
            facts.update(uptime_facts(v.get("uptime", "")))
        manu = self.structured("display device manuinfo", _comware_manuinfo_fallback)
        main = next((r for r in manu if r.get("device_serial_number")), None)   # the first slot: the chassis
        if main:
            facts["serial"] = main["device_serial_number"]
            facts.setdefault("model", main.get("device_name"))

        ifaces = [r for r in self.structured("display interface brief", _comware_interfaces_fallback)
                  if r.get("type") in ("A", "T", "H")]                # bridge mode: the switch ports
        facts["interfaces"] = [{"name": r["interface"], "status": r.get("link"), "vlan": r.get("vlan_id") or None,
                                "description": (r.get("description") or "").strip() or None} for r in ifaces]
        facts["interfaces_up"] = sum(1 for r in ifaces if r.get("link") == "UP")
        facts["interfaces_down"] = len(ifaces) - facts["interfaces_up"]

        vlans = self.structured("display vlan brief", _comware_vlan_fallback)
        facts["vlans"] = [{"id": int(r["vlan_id"]), "name": r.get("vlan_name"), "status": None}
                          for r in vlans if str(r.get("vlan_id", "")).isdigit()]
        facts["vlan_count"] = len(facts["vlans"])

        facts.update(_display_configs(self))
        facts["parsed_by"] = dict(self.parsed_by)
        return facts


def collect(host, deadline: Deadline, watchdog: Watchdog, policy: ssh.HostKeyPolicy) -> tuple[dict[str, Any], bool]:
    """Connect with netmiko over our own socket (so the watchdog can cut it) and the province's host-key
    policy (the key is checked before the password is sent), enable, run the driver; (facts, whether the
    key was accepted as a first contact)."""
    driver_cls = DRIVERS.get(host.device_type or "")
    if driver_cls is None:
        raise Unsupported("device_type", device_type=host.device_type, have=", ".join(sorted(DRIVERS)))
    from netmiko import ConnectHandler  # slow import (~0.5 s): only when a network device is audited

    sock = open_socket(host.address, host.port, deadline)
    with watchdog.guard(sock, deadline):
        secret = host.vars.get("enable_secret")
        conn = ConnectHandler(
            device_type=host.device_type, host=host.address, port=host.port, username=host.user,
            password=host.password.get_secret_value() if host.password else "",
            secret=str(secret) if secret is not None else "", sock=sock,
            key_file=str(host.key_file) if host.key_file else None, use_keys=bool(host.key_file),
            allow_agent=False, conn_timeout=deadline.remaining(), banner_timeout=deadline.remaining(),
            auth_timeout=deadline.remaining(), session_log=None, auto_connect=False)
        client = ssh.GuardedClient(policy)
        conn._build_ssh_client = lambda: client   # netmiko's own client would accept any key
        try:
            conn._open()
            if secret is not None and not conn.check_enable_mode():
                try:
                    conn.enable()
                except (ValueError, OSError) as e:  # netmiko: "Failed to enter enable mode", or a read timeout
                    raise EnableRefused("enable", user=host.user) from e
            return driver_cls(conn, deadline).collect(), client.first_contact
        finally:
            conn.disconnect()
