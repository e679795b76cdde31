"""Benchmark of `provision deploy` (not a test: prints figures, asserts nothing).

    sudo .venv/bin/python tests/bench/deploy_bench.py [--units 2] [--tags common,pki,directory] [--save-reference]

Builds a bare lab province (its own lab `bdep`: center + N unit servers), then times
1. bare -> converged (first deploy), 2. the no-change run, 3. `--check` on the converged province,
all under the default engine (Mitogen), and 4. the same no-change run under plain Ansible over SSH
(`--no-mitogen`), and prints them with the targets (converged < 300 s, no-change < 60 s), the
engine ratio, and the ratio to the reference run in tests/bench/deploy_reference.json (written by
--save-reference).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from provisioning.deploy.runner import deploy  # noqa: E402
from provisioning.lab import Lab  # noqa: E402

REFERENCE = Path(__file__).with_name("deploy_reference.json")
TARGETS = {"converge_s": 300.0, "no_change_s": 60.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=2, help="unit servers besides the center (default 2)")
    ap.add_argument("--tags", help="only these role tags (default: the whole site.yml)")
    ap.add_argument("--save-reference", action="store_true", help="store these figures as the reference run")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="deploy-bench-"))
    inv = work / "inventory" / "bdep"
    lab = Lab("bdep", inventory_dir=inv)
    lab.down()
    lab.up(units=args.units, workstations=0, switches=0)
    try:
        runs = {}
        for key, check, mitogen in (("converge_s", False, True), ("no_change_s", False, True),
                                    ("check_s", True, True), ("no_change_plain_ssh_s", False, False)):
            r = deploy(inv, check=check, tags=args.tags, mitogen=mitogen)
            runs[key] = r.seconds
            changed = sum(h.tasks_changed for h in r.hosts)
            print(f"{key:12} {r.seconds:7.1f} s   ok={r.ok} changed={changed} hosts={len(r.hosts)}", flush=True)
            if not r.ok:
                print("deploy failed:", r.error, [(h.host, h.error) for h in r.hosts if h.error])
                return 1
    finally:
        lab.down()

    figures = {"hosts": args.units + 1, "tags": args.tags or "all", **runs, "cpus": os.cpu_count(), "machine": platform.node()}
    print(json.dumps(figures))
    for key, target in TARGETS.items():
        print(f"{key}: {runs[key]:.1f} s, target < {target:.0f} s: {'met' if runs[key] < target else 'MISSED'}")
    print(f"no-change run, Mitogen vs plain Ansible over SSH: {runs['no_change_s']:.1f} s vs "
          f"{runs['no_change_plain_ssh_s']:.1f} s = {runs['no_change_s'] / runs['no_change_plain_ssh_s']:.2f}x")
    if REFERENCE.exists():
        ref = json.loads(REFERENCE.read_text())
        for key in runs:
            if ref.get(key):
                print(f"{key}: {runs[key] / ref[key]:.2f} x the reference ({ref[key]:.1f} s, {ref.get('hosts')} hosts, "
                      f"tags {ref.get('tags', 'all')})")
    if args.save_reference:
        REFERENCE.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"saved {REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
