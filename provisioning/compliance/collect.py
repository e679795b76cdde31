"""Read the world: the latest `provision verify` results (var/<inventory>/verify/*.json) and the live
probes of controls.PROBES on every server, over the project's SSH transport (host keys checked)."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import paths
from ..model import Host, Province
from ..transport import ssh
from .controls import PROBES, Facts

CENTER_GROUP = "center_servers"
SERVER_GROUPS = ("center_servers", "unit_servers")


def servers(province: Province, limit: str | None = None) -> list[Host]:
    """The province's servers selected by --limit (Province.select's grammar)."""
    return sorted((h for h in province.select(limit) if set(h.groups) & set(SERVER_GROUPS)), key=lambda h: h.name)


def latest_verify(inventory: str | Path) -> tuple[str, list[dict]]:
    """(file, checks) of the newest verify run; ("", []) when there is none. A file that is not a verify
    result (cut short, edited) is skipped for the one before it."""
    folder = paths.data_dir(inventory, "verify")
    for f in sorted(folder.glob("*.json"), reverse=True):
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
            checks = doc["checks"]
            if isinstance(checks, list) and all(isinstance(c, dict) for c in checks):
                return str(f), checks
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return "", []


def probe(province: Province, host: Host, timeout: float) -> Facts:
    facts = Facts(host.name, CENTER_GROUP in host.groups)
    try:
        with ssh.open_session(province, host, timeout=timeout) as s:
            for name, command in PROBES.items():
                _, out, _ = s.run(command.replace("{base_dn}", province.info.base_dn), timeout=timeout * 3)
                facts.probes[name] = out.decode("utf-8", "replace")
    except Exception as e:    # a server that cannot be read is a finding, not a crash
        facts.error = f"{type(e).__name__}: {e}"[:300]
    return facts


def collect(province: Province, hosts: list[Host], timeout: float = 10.0) -> tuple[str, list[Facts]]:
    verify_file, checks = latest_verify(province.inventory_dir)
    with ThreadPoolExecutor(max_workers=min(16, max(1, len(hosts)))) as pool:
        facts = list(pool.map(lambda h: probe(province, h, timeout), hosts))
    for f in facts:
        f.verify = [c for c in checks if c.get("host") == f.host]
    return verify_file, facts
