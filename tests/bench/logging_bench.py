"""Central logs on a deployed lab (not a test: prints figures, asserts nothing).

    sudo .venv/bin/python tests/bench/logging_bench.py --lab NAME [--lines 20000] [--cut 30]

For each unit server: (a) throughput: `--lines` lines logged at once through syslog (`logger` reading
stdin), the time until all of them are in the center's store, as lines per second; (b) an outage: the
unit's link to the center cut (Lab.cut_link) for `--cut` seconds while 1000 lines are logged, then the
time from the link's return until every line is at the center, and how many arrived (lost, twice).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from provisioning.lab import Lab  # noqa: E402
from provisioning.model import load_province  # noqa: E402


def _count(lab: Lab, center: str, folder: str, token: str) -> int:
    return int(lab.ssh(center, f"cat {folder}/*.log 2>/dev/null | grep -cF {token}").stdout.strip() or 0)


def _wait(lab: Lab, center: str, folder: str, token: str, n: int, limit: float = 600) -> tuple[int, float]:
    t0 = time.monotonic()
    while (got := _count(lab, center, folder, token)) < n and time.monotonic() - t0 < limit:
        time.sleep(0.5)
    return got, time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lab", required=True)
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--cut", type=float, default=30.0)
    args = ap.parse_args()
    lab = Lab(args.lab)
    province = load_province(lab.inventory_dir)
    center = province.center_server
    store = json.loads(lab.ssh(center.name, "cat /etc/ansible/facts.d/logging.fact", check=True).stdout)["store"]
    units = [h for h in province.servers() if h.name != center.name]
    print(f"{'unit server':<16} {'debian':>6} {'lines':>7} {'logged s':>9} {'at center s':>12} {'lines/s':>8} "
          f"{'cut s':>6} {'after link s':>13} {'arrived':>8} {'twice':>6}")
    for unit in units:
        release = lab.ssh(unit.name, "cut -d. -f1 /etc/debian_version", check=True).stdout.strip()
        name = json.loads(lab.ssh(unit.name, "cat /etc/ansible/facts.d/logging.fact", check=True).stdout)["name"]
        folder = f"{store}/{name}"
        token = f"bench{time.monotonic_ns()}"
        t0 = time.monotonic()
        lab.ssh(unit.name, f"seq -f '{token} %07g' 1 {args.lines} | logger -t provision-bench", check=True)
        logged = time.monotonic() - t0
        got, _ = _wait(lab, center.name, folder, token, args.lines)
        total = time.monotonic() - t0

        cut_token, n = f"benchcut{time.monotonic_ns()}", 1000
        lab.cut_link(unit.name, center.address)
        try:
            lab.ssh(unit.name, f"seq -f '{cut_token} %04g' 1 {n} | logger -t provision-bench", check=True)
            time.sleep(args.cut)
        finally:
            lab.restore_link(unit.name)
        arrived, after = _wait(lab, center.name, folder, cut_token, n)
        lines = lab.ssh(center.name, f"cat {folder}/*.log | grep -F {cut_token}").stdout.splitlines()
        twice = sum(1 for v in Counter(ln.rsplit(cut_token, 1)[1].split()[0] for ln in lines).values() if v > 1)
        print(f"{unit.name:<16} {release:>6} {got:>7} {logged:>9.1f} {total:>12.1f} {got / total:>8.0f} "
              f"{args.cut:>6.0f} {after:>13.1f} {arrived:>8} {twice:>6}")


if __name__ == "__main__":
    main()
