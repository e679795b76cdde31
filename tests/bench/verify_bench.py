"""Benchmark of `provision verify` (not a test: prints figures, asserts nothing).

    sudo .venv/bin/python tests/bench/verify_bench.py -i inventory/lab [--runs 3] [--save-reference]

Runs verify on an already deployed province (e.g. after `provision deploy -i inventory/lab`) a few
times and prints, per run, the total seconds and the slowest checks, then the median run and its ratio
to the reference run in tests/bench/verify_reference.json (written by --save-reference).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from provisioning.verify import verify  # noqa: E402

REFERENCE = Path(__file__).with_name("verify_reference.json")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-i", "--inventory", default="inventory/lab", help="a deployed province (default inventory/lab)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--save-reference", action="store_true", help="store these figures as the reference run")
    args = ap.parse_args()

    totals = []
    for n in range(args.runs):
        spent: list[tuple[float, str]] = []
        last = time.monotonic()

        def timed(step, spent=spent):
            nonlocal last
            check = step.result
            now = time.monotonic()
            spent.append((now - last, f"{check.host} {check.service}/{check.check}{'' if check.ok else ' FAILED'}"))
            last = now

        start = last
        run = verify(args.inventory, on_progress=timed)
        total = time.monotonic() - start
        totals.append(total)
        slowest = ", ".join(f"{name} {s:.2f} s" for s, name in sorted(spent, reverse=True)[:3])
        print(f"run {n + 1}: {total:5.2f} s  {len(run.checks)} checks  ok={run.ok}  slowest: {slowest}", flush=True)

    median = statistics.median(totals)
    figures = {"inventory": args.inventory, "checks": len(run.checks), "median_s": round(median, 2),
               "cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 1), "machine": platform.node()}
    print(json.dumps(figures))
    if REFERENCE.exists():
        ref = json.loads(REFERENCE.read_text())
        print(f"median {median:.2f} s = {median / ref['median_s']:.2f} x the reference ({ref['median_s']} s, "
              f"{ref['checks']} checks)")
    if args.save_reference:
        REFERENCE.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"saved as the reference: {REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
