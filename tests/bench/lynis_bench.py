"""lynis on lab servers before and after the hardening role (not a test: prints figures, asserts nothing).

    sudo .venv/bin/python tests/bench/lynis_bench.py [--name blyn] [--units 2] [--debian mixed] [--keep]
    sudo .venv/bin/python tests/bench/lynis_bench.py --inventory inventory/NAME --lab NAME   (a lab already up)

lynis is Debian's (`apt-get install lynis` on this machine; it is not needed by any test): its
program, include files and profile (/usr/sbin/lynis, /usr/share/lynis, /etc/lynis) are copied into
each lab server, which runs `lynis audit system --quick`; the hardening index and the warnings come
from the server's /var/log/lynis-report.dat.

Without --inventory: builds a bare lab (center + N unit servers; `--debian mixed`, the default, puts
the center on Debian 13 and the unit servers on 12, 13, ... as the deployed-lab tests do), deploys
every role except `hardening` (the "before": a deployed server without the role), runs lynis, deploys the whole site.yml (the
"after"), runs lynis again, and prints both side by side with the remaining warnings and suggestions.
With --inventory: only the "after" on a lab that is already deployed (lynis is removed from each server
after its run, so that AIDE's next check does not report it). Goal: index >= 80.
"""
from __future__ import annotations

import argparse
import io
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from provisioning.deploy.runner import deploy  # noqa: E402
from provisioning.lab import Lab  # noqa: E402
from provisioning.model import load_province  # noqa: E402

LYNIS_FILES = ["/usr/sbin/lynis", "/usr/share/lynis", "/etc/lynis"]
GOAL = 80


def role_tags_without_hardening() -> str:
    """Every role tag of site.yml except the hardening role's."""
    tags: list[str] = []
    for play in yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text()):
        for role in play.get("roles", []):
            for t in role.get("tags", []):
                if t != "hardening" and t not in tags:
                    tags.append(t)
    return ",".join(tags)


def lynis_tarball() -> bytes:
    if not shutil.which("lynis"):
        raise SystemExit("lynis is missing on this machine: apt-get install lynis")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for f in LYNIS_FILES:
            tar.add(f, arcname=f.lstrip("/"))
    return buf.getvalue()


def run_lynis(lab: Lab, host: str, tarball: bytes) -> dict:
    r = lab.ssh(host, "tar -C / -xzf - && lynis audit system --quick --no-colors --no-log >/dev/null 2>&1; "
                      "cat /var/log/lynis-report.dat; rm -rf /usr/sbin/lynis /usr/share/lynis /etc/lynis",
                input=tarball.decode("latin-1"), timeout=900,
                encoding="latin-1")
    report = {"index": None, "warnings": [], "suggestions": [], "debian": release(lab, host)}
    for line in r.stdout.splitlines():
        key, _, value = line.partition("=")
        if key == "hardening_index":
            report["index"] = int(value)
        elif key == "warning[]":
            report["warnings"].append(value)
        elif key == "suggestion[]":
            report["suggestions"].append(value)
    return report


def release(lab: Lab, host: str) -> str:
    return lab.ssh(host, "cat /etc/debian_version").stdout.strip() or "?"


def servers(inv: Path) -> list[str]:
    province = load_province(inv)
    return [h.name for h in province.servers()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="blyn", help="name of the bench's own lab (default blyn)")
    ap.add_argument("--units", type=int, default=2, help="unit servers besides the center (default 2)")
    ap.add_argument("--debian", default="mixed", choices=["12", "13", "mixed"],
                    help="Debian release of the lab's servers (default mixed: center 13, units 12, 13, ...)")
    ap.add_argument("--inventory", help="a lab province already deployed: measure only the 'after'")
    ap.add_argument("--lab", help="the name of that lab (with --inventory)")
    ap.add_argument("--keep", action="store_true", help="leave the bench's lab up")
    args = ap.parse_args()
    tarball = lynis_tarball()
    before: dict[str, dict] = {}
    after: dict[str, dict] = {}
    if args.inventory:
        inv = Path(args.inventory)
        lab = Lab(args.lab or inv.name, inventory_dir=inv)
        for host in servers(inv):
            after[host] = run_lynis(lab, host, tarball)
    else:
        work = Path(tempfile.mkdtemp(prefix="lynis-bench-"))
        inv = work / "inventory" / args.name
        lab = Lab(args.name, inventory_dir=inv)
        lab.down()
        lab.up(units=args.units, workstations=0, switches=0, debian=args.debian)
        try:
            for label, tags, into in (("before (every role but hardening)", role_tags_without_hardening(), before),
                                      ("after (whole site.yml)", None, after)):
                r = deploy(inv, tags=tags)
                print(f"deploy {label}: ok={r.ok} {r.seconds:.0f} s", flush=True)
                if not r.ok:
                    print("deploy failed:", r.error, [(h.host, h.error) for h in r.hosts if h.error])
                    return 1
                for host in servers(inv):
                    into[host] = run_lynis(lab, host, tarball)
                    print(f"  lynis {host}: index {into[host]['index']}", flush=True)
        finally:
            if not args.keep:
                lab.down()

    print(f"\n{'server':16} {'debian':>7} {'before':>7} {'after':>7}  goal >= {GOAL}")
    for host, rep in after.items():
        b = before.get(host, {}).get("index")
        status = "met" if (rep["index"] or 0) >= GOAL else "MISSED"
        print(f"{host:16} {rep['debian']:>7} {b if b is not None else '-':>7} {rep['index'] if rep['index'] is not None else '-':>7}  {status}")
    for host, rep in after.items():
        print(f"\n{host}: {len(rep['warnings'])} warning(s), {len(rep['suggestions'])} suggestion(s) left")
        for w in rep["warnings"]:
            print(f"  warning    {w}")
        for s in rep["suggestions"]:
            print(f"  suggestion {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
