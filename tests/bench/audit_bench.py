"""Benchmark of `provision audit` (prints figures; asserts nothing).

1. Scale: N fake Linux hosts (asyncssh, one separate process) + M simulated Cisco switches (the lab's
   switch simulator, one process), all on 127.0.0.1, audited in one run. Reports wall time and hosts/s.
   Target on a 2-core machine: 500 + 100 in under 30 s.
2. Versus Ansible, side by side in the same run: the same real lab hosts (sshd in the lab's namespaces)
   gathered with `ansible -m setup` and audited by `provision audit` (Linux hosts only, same parallelism),
   cold and warm. Reports seconds per host and the ratio. Target: the audit >= 10x faster per host.

    python tests/bench/audit_bench.py [--hosts 500] [--switches 100] [--workers 50] [--lab aud] [--repeat 3]

The lab part needs root and builds/uses the lab named by --lab (default `aud`); --lab '' skips it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "audit"))
sys.path.insert(0, str(ROOT))

from audit_fakes import Switches, write_inventory  # noqa: E402

from provisioning.audit.baseline import load_baseline  # noqa: E402
from provisioning.audit.runner import run_audit  # noqa: E402
from provisioning.model import load_province  # noqa: E402


def start_fleet(n: int) -> tuple[subprocess.Popen, list[int], str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "audit" / "audit_fakes.py"), "--hosts", str(n)],
                            stdout=subprocess.PIPE, text=True)
    started = json.loads(proc.stdout.readline())
    return proc, started["ports"], started["host_pub"]


def audit(inv: Path, workers: int, limit: str | None = None, timeout: float = 60.0):
    p = load_province(inv)
    t0 = time.perf_counter()
    rep = run_audit(p, p.select(limit), load_baseline(), workers=workers, timeout=timeout)
    return time.perf_counter() - t0, rep


def scale(args, tmp: Path) -> None:
    fleet, ports, host_pub = start_fleet(args.hosts)
    try:
        with Switches(args.switches, tmp) as sw:
            linux = {f"h{i:03d}": port for i, port in enumerate(ports)}
            inv = write_inventory(tmp / "bench", linux, dict(zip(sw.names, sw.ports)), host_pub=host_pub,
                                  switch_pub=sw.host_pub)
            wall, rep = audit(inv, args.workers)
            n = len(rep.hosts)
            statuses = rep.totals["statuses"]
            lin = [h.duration_s for h in rep.hosts if h.role in ("server", "workstation")]
            net = [h.duration_s for h in rep.hosts if h.role == "switch"]
            print(f"[scale] {args.hosts} fake Linux hosts + {args.switches} simulated switches, "
                  f"{args.workers} workers: {wall:.1f} s wall, {n / wall:.1f} hosts/s "
                  f"(target < 30 s: {'met' if wall < 30 else 'NOT met'})")
            print(f"[scale] statuses {statuses}; per-host median linux {statistics.median(lin):.2f} s, "
                  f"switch {statistics.median(net) if net else 0:.2f} s; compliant {rep.totals['percent']}%")
    finally:
        fleet.terminate()
        fleet.wait(10)


def versus_ansible(args) -> None:
    from provisioning.lab import Lab

    lab = Lab(args.lab)
    st = lab.status()
    if not st.exists or not st.healthy:
        lab.up(units=2, workstations=2, switches=1)
    inv = lab.inventory_dir
    linux = [h.name for h in lab.hosts() if h.kind != "switch"]
    limit = ",".join(linux)
    forks = str(min(args.workers, len(linux)))
    # Ansible's defaults (run outside the repository so no ansible.cfg applies; output captured)
    env = dict(os.environ)
    cmd = [str(Path(sys.executable).with_name("ansible")), "all", "-i", str(inv / "hosts.yml"), "-m", "setup",
           "--limit", limit, "-f", forks]
    ans, ours = [], []
    for i in range(args.repeat):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir(), timeout=600)
        ans.append(time.perf_counter() - t0)
        if r.returncode != 0:
            sys.exit(f"[ansible] run {i} failed (exit {r.returncode}), no comparison: {r.stderr[-800:]}")
        wall, rep = audit(inv, args.workers, limit=limit)
        ours.append(wall)
        bad = [h.host for h in rep.hosts if h.status != "audited"]
        if bad:
            print(f"[audit] run {i}: not audited: {bad}")
    n = len(linux)
    print(f"[vs ansible] runs (s): ansible {', '.join(f'{x:.2f}' for x in ans)}; "
          f"audit {', '.join(f'{x:.2f}' for x in ours)}")
    for label, a, o in (("cold (first run)", ans[0], ours[0]),
                        (f"median of {args.repeat}", statistics.median(ans), statistics.median(ours))):
        ratio = a / o
        print(f"[vs ansible] {n} lab hosts, {forks} forks/workers, {label}: ansible -m setup {a:.2f} s "
              f"({a / n:.3f} s/host), provision audit {o:.2f} s ({o / n:.3f} s/host) -> {ratio:.1f}x faster "
              f"(target >= 10x: {'met' if ratio >= 10 else 'NOT met'})")
    # per host, one at a time: what a single slow WAN link would see
    one = linux[0]
    t0 = time.perf_counter()
    subprocess.run(cmd[:-4] + ["--limit", one, "-f", "1"], capture_output=True, env=env, cwd=tempfile.gettempdir())
    a1 = time.perf_counter() - t0
    o1, _ = audit(inv, 1, limit=one)
    print(f"[vs ansible] one host alone: ansible -m setup {a1:.2f} s, provision audit {o1:.2f} s -> {a1 / o1:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=500)
    ap.add_argument("--switches", type=int, default=100)
    ap.add_argument("--workers", type=int, default=50)
    ap.add_argument("--lab", default="aud", help="lab for the Ansible comparison ('' to skip)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        scale(args, Path(tmp))
    if args.lab:
        versus_ansible(args)


if __name__ == "__main__":
    main()
