"""Benchmark of `provision deploy` (not a test: prints figures, asserts nothing).

    sudo .venv/bin/python tests/bench/deploy_bench.py [--units 2] [--debian 12|13|mixed[,...]] [--tags ...]
                                                      [--save-reference]

For each Debian release asked for (default 13; several, comma-separated, run one after the other), builds a
bare lab province of that release (its own lab `bdep`: center + N unit servers), then times
1. bare -> converged (first deploy), 2. the no-change run, 3. `--check` on the converged province,
all under the default engine (Mitogen), and 4. the same no-change run under plain Ansible over SSH
(`--no-mitogen`), and prints them with the targets (converged < 300 s, no-change < 60 s), the
engine ratio, and the ratio to the reference run in tests/bench/deploy_reference.json (written by
--save-reference; a reference without a `debian` key was measured on Debian 12).
Each release's figures are also kept in tests/bench/deploy_releases.json (one entry per release, the last run
of each), and the table of every release measured so far is printed side by side, so releases measured by
separate invocations are still compared.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from provisioning.deploy.runner import deploy  # noqa: E402
from provisioning.lab import Lab  # noqa: E402
from provisioning.lab.province import DEBIAN_CHOICES  # noqa: E402

REFERENCE = Path(__file__).with_name("deploy_reference.json")
RELEASES = Path(__file__).with_name("deploy_releases.json")
TARGETS = {"converge_s": 300.0, "no_change_s": 60.0}
RUNS = (("converge_s", False, True), ("no_change_s", False, True), ("check_s", True, True),
        ("no_change_plain_ssh_s", False, False))


def bench(debian: str, units: int, tags: str | None) -> dict | None:
    work = Path(tempfile.mkdtemp(prefix="deploy-bench-"))
    inv = work / "inventory" / "bdep"
    lab = Lab("bdep", inventory_dir=inv)
    lab.down()
    lab.up(units=units, workstations=0, switches=0, debian=debian)
    runs = {}
    try:
        for key, check, mitogen in RUNS:
            r = deploy(inv, check=check, tags=tags, mitogen=mitogen)
            runs[key] = r.seconds
            changed = sum(h.tasks_changed for h in r.hosts)
            print(f"debian {debian:5} {key:22} {r.seconds:7.1f} s   ok={r.ok} changed={changed} hosts={len(r.hosts)}",
                  flush=True)
            if not r.ok:
                print("deploy failed:", r.error, [(h.host, h.error) for h in r.hosts if h.error])
                return None
    finally:
        lab.down()
    return {"debian": debian, "hosts": units + 1, "tags": tags or "all", **runs, "cpus": os.cpu_count(),
            "machine": platform.node(), "date": time.strftime("%Y-%m-%dT%H:%M:%S")}


def side_by_side(results: dict[str, dict]) -> None:
    order = [d for d in DEBIAN_CHOICES if d in results]
    w = 18
    print("\n" + f"{'':24}" + "".join(f"{'debian ' + d:>{w}}" for d in order))
    for key in [k for k, _, _ in RUNS]:
        cells = "".join(f"{results[d][key]:>{w - 2}.1f} s" if results[d].get(key) is not None else f"{'-':>{w}}"
                        for d in order)
        target = f"   target < {TARGETS[key]:.0f} s" if key in TARGETS else ""
        print(f"{key:24}{cells}{target}")
    print(f"{'hosts, tags':24}" + "".join(f"{str(results[d]['hosts']) + ', ' + results[d]['tags']:>{w}}" for d in order))
    print(f"{'measured':24}" + "".join(f"{results[d].get('date', '')[:16]:>{w}}" for d in order))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=2, help="unit servers besides the center (default 2)")
    ap.add_argument("--debian", default="13",
                    help="Debian release(s) of the lab: 12, 13 or mixed, comma-separated for several (default 13)")
    ap.add_argument("--tags", help="only these role tags (default: the whole site.yml)")
    ap.add_argument("--save-reference", action="store_true",
                    help="store these figures as the reference run (the last release measured)")
    args = ap.parse_args()
    releases = [d.strip() for d in args.debian.split(",") if d.strip()]
    bad = [d for d in releases if d not in DEBIAN_CHOICES]
    if bad or not releases:
        print(f"--debian {args.debian}: use one or more of {', '.join(DEBIAN_CHOICES)}", file=sys.stderr)
        return 2

    saved = json.loads(RELEASES.read_text()) if RELEASES.exists() else {}
    ref = json.loads(REFERENCE.read_text()) if REFERENCE.exists() else None
    figures = None
    for debian in releases:
        figures = bench(debian, args.units, args.tags)
        if figures is None:
            return 1
        print(json.dumps(figures))
        for key, target in TARGETS.items():
            print(f"debian {debian}: {key}: {figures[key]:.1f} s, target < {target:.0f} s: "
                  f"{'met' if figures[key] < target else 'MISSED'}")
        print(f"debian {debian}: no-change run, Mitogen vs plain Ansible over SSH: {figures['no_change_s']:.1f} s vs "
              f"{figures['no_change_plain_ssh_s']:.1f} s = "
              f"{figures['no_change_s'] / figures['no_change_plain_ssh_s']:.2f}x")
        if ref:
            for key, _, _ in RUNS:
                if ref.get(key):
                    print(f"debian {debian}: {key}: {figures[key] / ref[key]:.2f} x the reference ({ref[key]:.1f} s, "
                          f"{ref.get('hosts')} hosts, tags {ref.get('tags', 'all')}, debian {ref.get('debian', '12')})")
        saved[debian] = figures
        RELEASES.write_text(json.dumps(saved, indent=2) + "\n")
    shown = dict(saved)
    if ref and ref.get("debian", "12") not in shown:   # the reference run stands for its release
        shown[ref.get("debian", "12")] = {**ref, "date": "reference"}
    side_by_side(shown)
    if args.save_reference and figures:
        REFERENCE.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"saved {REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
