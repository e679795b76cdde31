"""Benchmark of the servers' backup script (roles/backup/files/provision-backup) on a generated mail
store, each figure next to a reference measured in the same run.

    .venv/bin/python tests/bench/backup_bench.py [--mailboxes 500] [--messages 40]

(a) snapshot (`provision-backup run`: tar+gzip of the store and /etc-like tree, message count, SHA-256)
    vs a plain `tar -czf` of the same tree: the bookkeeping should cost little (target <= 1.3x);
(b) restore of one mailbox (`restore --mailbox`) vs the full store: target <= 0.5x of the full restore
    (gzip must still be read through; tar skips the other members).
The directory part (slapcat/slapadd) is not included: see tests/bench/accounts_bench.py for slapd
speeds. Prints a table; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "roles" / "backup" / "files" / "provision-backup"
DOMAIN = "bentre.gov.vn"


def timed(cmd: list[str], env: dict | None = None, repeat: int = 3) -> tuple[float, str]:
    """Best of `repeat` runs (the machine may be busy with other work)."""
    best, out = float("inf"), ""
    for _ in range(repeat):
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mailboxes", type=int, default=500)
    ap.add_argument("--messages", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        body = ("Kính gửi các đồng chí,\nĐề nghị cập nhật số liệu kinh tế - xã hội trước ngày 25.\n" * 20).encode()
        for b in range(args.mailboxes):
            cur = root / "vmail" / DOMAIN / f"user{b:05d}" / "Maildir" / "cur"
            cur.mkdir(parents=True)
            for m in range(args.messages):
                (cur / f"17000{m:05d}.M{m}P{b}.srv,S={len(body)}:2,S").write_bytes(b"Subject: %d\n\n" % m + body)
        (root / "etc").mkdir()
        (root / "etc" / "main.cf").write_text("x\n")
        cfg = {"dir": str(root / "backups"), "keep_days": 14, "keep_min": 3, "base_dn": "dc=x",
               "ldap_config_dir": str(root / "none"), "mail_dir": str(root / "vmail"), "paths": [str(root / "etc")]}
        (root / "backup.json").write_text(json.dumps(cfg))
        env = {**os.environ, "PROVISION_BACKUP_CONFIG": str(root / "backup.json")}
        snap_t, out = timed([sys.executable, str(SCRIPT), "run"], env)
        ref, _ = timed(["tar", "--numeric-owner", "-czf", str(root / "ref.tar.gz"), "-C", str(root), "vmail", "etc"])
        snap = json.loads(out)
        full_t, _ = timed([sys.executable, str(SCRIPT), "restore", "--from", "latest", "--what", "mail"], env)
        one_t, _ = timed([sys.executable, str(SCRIPT), "restore", "--from", "latest", "--what", "mail",
                          "--mailbox", f"user00000@{DOMAIN}"], env)
        size = snap["parts"]["vmail.tar.gz"]["bytes"] / 1e6
        n = args.mailboxes * args.messages
        print(f"mail store: {args.mailboxes} mailboxes x {args.messages} messages = {n} messages, archive {size:.1f} MB")
        print(f"{'measure':40} {'seconds':>8} {'reference':>10} {'ratio':>6}")
        print(f"{'(a) snapshot vs tar -czf':40} {snap_t:8.2f} {ref:10.2f} {snap_t / ref:6.2f}")
        print(f"{'(b) restore one mailbox vs full store':40} {one_t:8.2f} {full_t:10.2f} {one_t / full_t:6.2f}")
        print(f"messages counted in the manifest: {snap['parts']['vmail.tar.gz']['messages']} (expected {n})")


if __name__ == "__main__":
    main()
