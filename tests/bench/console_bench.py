"""Benchmark of the web console's roster -> plan -> apply with generated officials, against a real slapd
and a local mail store on loopback, each figure printed next to its reference (the CLI's).

    sudo .venv/bin/python tests/bench/console_bench.py [--count 10000]

(a) upload to plan page: a --count-row CSV roster posted to `/accounts/plan` by a logged-in HR
    official (Django's test client, in this process: the time is the server's, no network), until the
    rendered plan page is back; with the same read + directory read + plan done directly through
    accounts.service as a reference. Target: <= 3 s on this machine (2 cores, shared).
(b) the console's whole initial apply of those joiners (POST apply, then polling the progress
    fragment as the page does, until it redirects to the result) vs `provision accounts apply` of the
    same roster (the CLI, a subprocess) into a second, identical fresh slapd and mail store.
    Target: the console as fast as the CLI (ratio <= 1.0x, give or take the machine's noise).
Prints a table with the load average; asserts nothing.
"""
from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.mailstack import MailStack, start_slapd  # noqa: E402

from provisioning.accounts import sample, service  # noqa: E402
from accounts_bench import cpu_seconds  # noqa: E402  (this process, its children, slapd: CPU seconds)


def console_helpers():
    """The console tests' own set-up (inventory, staff with roles, login with the second factor): the
    fixtures module tests/console/console_env.py, which the console tests' conftest re-exports."""
    sys.path.insert(0, str(ROOT / "tests" / "console"))
    return importlib.import_module("console_env")


def province(h, work: Path, name: str):
    """A fresh slapd, mail store and inventory with the console tests' staff and roles."""
    mail = work / f"vmail-{name}"
    mail.mkdir()
    os.chmod(mail, 0o755)
    slapd = start_slapd(work / f"ldap-{name}", h.BASE, list(h.UNITS))
    stack = MailStack(slapd, None, None, h.DOMAIN, mail, {"work": work})
    inv = h.write_inventory(work / "inventory" / name, stack)
    c = h.Console(stack, inv, work / "var", work)
    h._staff(c)
    return c


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--profile", action="store_true", help="print where the upload's time goes (cProfile), then stop")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root: the mail store is owned by vmail (uid 5000)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="console-bench-", dir="/var/tmp"))
    os.chmod(work, 0o755)
    os.environ["PROVISION_DATA"] = str(work / "var")
    rows_out: list[str] = []

    def report(what: str, value: float, ref_name: str = "", ref: float | None = None, target: str = "") -> None:
        ratio = f"{value / ref:.2f}x" if ref else ""
        line = (f"  {what:<44} {value:8.2f} s   {ref_name:<30} {'' if ref is None else f'{ref:8.2f} s'}  "
                f"{ratio:>7}  {target}")
        rows_out.append(line)
        print(line, flush=True)

    h = console_helpers()
    web = cli = None
    try:
        print(f"console benchmark: {args.count} officials, work dir {work} ({os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f} at start)")
        web = province(h, work, "bentre")
        cli = province(h, work, "bentre-cli")
        from provisioning.console.app import build
        from provisioning.console.config import ConsoleConfig

        build(ConsoleConfig(inventory=web.inventory, allowed_hosts=["testserver"], upload_max_mb=50,
                            login_limit={"per_address": 1000, "per_user": 5, "window_minutes": 15}))
        from django.test import Client

        hr = Client(enforce_csrf_checks=True)
        h.login(hr, "honglt")
        ctx = service.load(web.inventory)
        rows = sample.generate(ctx.province, args.count - len(h.STAFF))
        for hr_id, family, middle, given, unit in h.STAFF:   # the staff stay (nobody is disabled)
            rows.append({**rows[0], "hr_id": hr_id, "family_name": family, "middle_name": middle,
                         "given_name": given, "unit": unit, "uses_computer": "Có", "status": "Đang công tác"})
        roster_path = sample.write(rows, work / "roster.csv")
        data = roster_path.read_bytes()
        print(f"  roster: {roster_path.stat().st_size / 1e6:.1f} MB CSV, {args.count} rows")

        # (a) upload -> rendered plan page
        token = h.csrf(hr, "/accounts/")
        f = io.BytesIO(data)
        f.name = "roster.csv"
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(hr.post, "/accounts/plan", {"roster": f, "csrfmiddlewaretoken": token})
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
            return 0
        t0, c0 = time.perf_counter(), cpu_seconds(web.stack.slapd.proc)
        r = hr.post("/accounts/plan", {"roster": f, "csrfmiddlewaretoken": token})
        t_plan, c_plan = time.perf_counter() - t0, (cpu_seconds(web.stack.slapd.proc) - c0).total
        page = r.content.decode()
        m = re.search(r'action="/accounts/plans/([A-Za-z0-9_-]+)/apply"', page)
        assert r.status_code == 200 and m, (r.status_code, page[:1000])
        plan_token = m.group(1)
        t0 = time.perf_counter()
        roster = service.read(ctx, roster_path)
        t_read = time.perf_counter() - t0
        observed = service.observe(ctx)
        plan = service.make_plan(ctx, roster, observed)
        t_ref = time.perf_counter() - t0
        print(f"  plan: {plan.summary}; page {len(r.content) / 1e3:.0f} kB")
        report("(a) upload -> plan page rendered", t_plan, "read + plan (accounts.service)", t_ref,
               "target <= 3 s")
        report("    of which roster read + check (reference)", t_read)
        report("    CPU seconds of the upload (console, its children, slapd)", c_plan)
        t0 = time.perf_counter()
        r = hr.get(f"/accounts/plans/{plan_token}?tab=joiners&page=3")
        report("    a later page of the plan (joiners, page 3)", time.perf_counter() - t0)
        assert r.status_code == 200

        # (b) the console's apply vs the CLI's
        t0, c0 = time.perf_counter(), cpu_seconds(web.stack.slapd.proc)
        r = h.post(hr, f"/accounts/plans/{plan_token}/apply", page=f"/accounts/plans/{plan_token}")
        assert r.status_code == 302, r.status_code
        polls = 0
        while True:
            p = hr.get(f"/accounts/plans/{plan_token}/progress")
            polls += 1
            if p.status_code == 204:
                break
            assert p.status_code == 200, p.status_code
            time.sleep(1.0)   # as the page polls (htmx, every 1 s)
        t_web, c_web = time.perf_counter() - t0, cpu_seconds(web.stack.slapd.proc) - c0
        print(f"  console apply CPU: {c_web}")
        assert p["HX-Redirect"].startswith("/accounts/runs/"), p["HX-Redirect"]
        result = hr.get(p["HX-Redirect"])
        assert result.status_code == 200
        t0, c0 = time.perf_counter(), cpu_seconds(cli.stack.slapd.proc)
        proc = subprocess.run([str(Path(sys.executable).with_name("provision")), "accounts", "apply",
                               str(roster_path), "-i", str(cli.inventory), "--json"],
                              capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        t_cli, c_cli = time.perf_counter() - t0, cpu_seconds(cli.stack.slapd.proc) - c0
        print(f"  CLI apply CPU: {c_cli} (the CLI and its children are children here)")
        assert proc.returncode == 0, proc.stderr[-2000:]
        n_web = len(service.observe(service.load(web.inventory)).state.people)
        n_cli = len(service.observe(service.load(cli.inventory)).state.people)
        print(f"  entries afterwards: console {n_web}, CLI {n_cli}; {polls} progress polls")
        # the apply's own phases (result.json of each run): what the same apply_plan took in each process
        from provisioning.accounts.journal import accounts_dir

        stamp = p["HX-Redirect"].rstrip("/").rsplit("/", 1)[1]
        web_t = json.loads((accounts_dir(web.inventory) / "runs" / stamp / "result.json").read_text())["timings"]
        cli_t = json.loads((Path(json.loads(proc.stdout)["run_dir"]) / "result.json").read_text())["timings"]
        for k in ("hash", "mailbox", "directory_end", "groups", "total", "gc"):
            print(f"    apply phase {k:<14} console {web_t.get(k, 0):6.2f} s   CLI {cli_t.get(k, 0):6.2f} s")
        report(f"(b) console initial apply ({plan.count('create')} joiners)", t_web, "CLI `accounts apply`",
               t_cli, "target <= 1.0x")
        report("    CPU seconds, console apply (with its slapd)", c_web.total, "CLI (with its slapd)", c_cli.total)
        report("    apply_plan alone (result.json)", web_t["total"], "CLI's apply_plan", cli_t["total"])
        report("    around it (plan check, polling / start-up)", t_web - web_t["total"], "CLI's", t_cli - cli_t["total"])
        print(f"\nsummary (load average {os.getloadavg()[0]:.1f} at the end)")
        print("\n".join(rows_out))
    finally:
        for c in (web, cli):
            if c:
                c.stack.slapd.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
