"""Benchmark of `provision report monthly` at the size of a merged province (prints figures; asserts nothing).

A province of 140 units (14 departments + 124 communes + the center) and 10,000 officials; one month of
Dovecot and Postfix logs with LOGINS logins/sends per official (default 20: about 200,000 uses, plus as
many unrelated lines), half of it in rotated .gz files. Reports:

1. log parsing: lines/s, and the ratio to `zgrep -c` counting the same login lines (the cheapest
   possible pass over the same bytes: the reference);
2. figures + the four output files for 140 units: seconds, and the PDF's pages and size.

    python tests/bench/report_bench.py [--officials 10000] [--logins 20]
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from provisioning.model import load_province  # noqa: E402
from provisioning.report import collect, figures, maillog, outputs  # noqa: E402
from provisioning.report.directory import Person  # noqa: E402
from provisioning.report.period import Month  # noqa: E402


def province(inv: Path, units: int) -> list[str]:
    codes = ["000.01.01.H99"] + [f"000.{20 + i // 100:02d}.{i % 100:02d}.H99" for i in range(1, units)]
    data = {"province": {"name": "Tỉnh Vĩnh Long", "mail_domain": "vinhlong.gov.vn", "base_dn": "dc=vinhlong,dc=gov,dc=vn"},
            "units": [{"code": c, "name": ("Trung tâm Tích hợp dữ liệu" if i == 0 else
                                           f"Ủy ban nhân dân xã Thực hành số {i:03d}"),
                       "kind": "integration_center" if i == 0 else "commune", "wan": [f"10.{i // 250}.{i % 250}.0/24"],
                       "admin": {"name": "Nguyễn Văn An", "qualification": "Cao đẳng Tin học"}}
                      for i, c in enumerate(codes)]}
    inv.mkdir()
    (inv / "province.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"center_servers": {"hosts": {
        "c-srv01": {"ansible_host": "127.0.0.1", "unit": codes[0]}}}}}}))
    return codes


def logs(d: Path, people: list[Person], per_person: int, codes: list[str]) -> int:
    rnd = random.Random(7)
    lines = []
    index = {c: i for i, c in enumerate(codes)}
    for p in people:
        unit_index = index[p.unit]
        for _ in range(per_person):
            day, sec = rnd.randint(1, 30), rnd.randint(0, 86399)
            ts = f"Nov {day:2d} {sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}"
            ip = f"10.{unit_index // 250}.{unit_index % 250}.{rnd.randint(2, 250)}" if rnd.random() < 0.7 \
                else f"203.0.113.{rnd.randint(1, 254)}"
            if rnd.random() < 0.8:
                lines.append(f"{ts} imap-login: Info: Login: user=<{p.uid}>, method=PLAIN, rip={ip}, lip=10.0.0.10, "
                             f"mpid={rnd.randint(1000, 99999)}, TLS, session=<x>")
            else:
                lines.append(f"{ts} c-srv01 postfix/submission/smtpd[{rnd.randint(100, 9999)}]: 4F{rnd.randint(0, 99999):05X}: "
                             f"client=unknown[{ip}], sasl_method=PLAIN, sasl_username={p.uid}")
            lines.append(f"{ts} imap({p.uid})<1><x>: Info: Disconnected: Logged out in=120 out=4021")
    half = len(lines) // 2
    (d / "dovecot.log").write_text("\n".join(lines[:half]) + "\n")
    (d / "dovecot.log.1.gz").write_bytes(gzip.compress(("\n".join(lines[half:]) + "\n").encode(), 6))
    when = dt.datetime(2026, 11, 30, 23).timestamp()
    for f in d.iterdir():
        os.utime(f, (when, when))
    return len(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--officials", type=int, default=10000)
    ap.add_argument("--logins", type=int, default=20)
    ap.add_argument("--units", type=int, default=140)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["PROVISION_DATA"] = str(tmp / "var")
        codes = province(tmp / "inv", a.units)
        people = [Person(f"u{i:05d}", codes[i % len(codes)], f"H{i:05d}", True, i % 10 != 0)
                  for i in range(a.officials)]
        (tmp / "logs").mkdir()
        n = logs(tmp / "logs", people, a.logins, codes)
        size = sum(f.stat().st_size for f in (tmp / "logs").iterdir())
        print(f"logs: {n:,} lines in 2 files ({size / 1e6:.1f} MB on disk, half gzip)")

        t0 = time.perf_counter()
        subprocess.run(f"zgrep -c 'Login: user=\\|sasl_username=' {tmp}/logs/*", shell=True, capture_output=True)
        t_ref = time.perf_counter() - t0
        t0 = time.perf_counter()
        warnings: list[str] = []
        evs = maillog.events(collect.from_directory(tmp / "logs"), "vinhlong.gov.vn", warnings)
        t_parse = time.perf_counter() - t0
        print(f"parse: {len(evs):,} uses in {t_parse:.2f} s = {n / t_parse:,.0f} lines/s; "
              f"reference zgrep -c: {t_ref:.2f} s; ratio parse/zgrep = {t_parse / t_ref:.1f}x", flush=True)

        p = load_province(tmp / "inv")
        month = Month(2026, 11)
        t0 = time.perf_counter()
        rep = figures.compute(p, month, figures.Inputs(people=people, mail_events=evs), "vi")
        t_fig = time.perf_counter() - t0
        t0 = time.perf_counter()
        files = outputs.write(rep, tmp / "out")
        t_out = time.perf_counter() - t0
        pages = subprocess.run(["pdfinfo", str(files["report.pdf"])], capture_output=True, text=True).stdout
        pages = next((ln.split()[-1] for ln in pages.splitlines() if ln.startswith("Pages:")), "?")
        print(f"figures for {len(p.units)} units / {a.officials:,} officials: {t_fig:.2f} s; "
              f"json+html+xlsx+pdf: {t_out:.2f} s; PDF {pages} pages, "
              f"{files['report.pdf'].stat().st_size / 1e3:.0f} kB; mail use {rep.summary.mail_use_ratio}")


if __name__ == "__main__":
    main()
