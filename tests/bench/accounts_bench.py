"""Benchmark of `provision accounts` with generated officials against a real slapd and a real mail
store, each figure printed next to its reference measured in the same run (the accounts job's performance targets).

    sudo .venv/bin/python tests/bench/accounts_bench.py [--count 10000] [--doveadm-sample 200]

(a) identities: the directory phase of the initial apply vs `ldapadd` of an LDIF holding the same
    entries with the same hashes (and the same unit groups), into an identical fresh slapd;
(b) a no-change apply and a 1%-changed apply, as ratios to the initial apply;
(c) mailbox creation vs the same directories made directly with os.mkdir in one process on the same
    disk, and vs one `doveadm mailbox create` process per user (timed on a sample, extrapolated; it
    makes INBOX and the folders too, which Dovecot otherwise makes at the first delivery or login);
    hashing (SHA-512-crypt) is reported on its own, one thread vs all cores.
(d) the initial apply's phases: the same initial apply run with its phases one after another
    (`overlap=False`, into a second identical fresh slapd and mail store) gives each phase's time;
    the overlapped initial apply (the default) is compared with the slowest of them.
Targets (2-core machine): (a) <= 1.5x ldapadd; (b) <= 0.1x and <= 0.15x; (c) <= 1.5x direct and
>= 10x faster than doveadm per user; (d) overlapped initial apply <= 1.25x its slowest phase.
(d) also prints the CPU seconds of both runs (this process, its children, slapd: CPU / cores is the
wall's floor when the machine is busy) and the overlapped apply against directory + groups: slapd writes
both with its one back-mdb writer, so that sum is the floor when the directory's syncs are the limit.
Prints a table; asserts nothing. `--phases-only` runs (d) alone.
Mailbox creation is kernel time in mkdir, and ext4 makes it several times slower for a few minutes
after a large tree was deleted on the same file system (its inode allocator passes over recently
freed inodes): start the benchmark a few minutes after the last one's work directory was removed, or
run them back to back with --keep and remove the work directories afterwards.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures.mailstack import ldif_line, start_dovecot, start_slapd  # noqa: E402

from provisioning import smb  # noqa: E402
from provisioning.accounts import passwords, sample, service  # noqa: E402
from provisioning.accounts.apply import person_ops  # noqa: E402
from provisioning.accounts.mailbox import LocalStore  # noqa: E402

BASE = "dc=bentre,dc=gov,dc=vn"
DOMAIN = "bentre.gov.vn"


def reference_ldif(plan, ctx, hashes: dict[int, str], samba: dict[int, dict]) -> str:
    """The entries of the initial apply, with the same hashes (and NT hashes), and the unit groups with
    their members."""
    now = dt.datetime.now().astimezone()
    out = []
    for i, c in enumerate(plan.changes):
        if c.action != "create":
            continue
        (_, dn, attrs), = person_ops(c, ctx.target, ctx.store, DOMAIN, hashes[i], now, samba[i])
        lines = [f"dn: {dn}"] + [ldif_line(k, v) for k, vals in attrs.items() for v in vals]
        out.append("\n".join(lines))
    for g in plan.groups:
        lines = [f"dn: {ctx.target.unit_group_dn(g.unit)}", "objectClass: groupOfNames", f"cn: unit-{g.unit}"]
        lines += [f"member: {m}" for m in g.add]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def inventory(path: Path, slapd, mail_root: Path, units_src: Path) -> Path:
    """The example province's units, pointed at the bench slapd and a local mail store."""
    import yaml

    path.mkdir(parents=True, exist_ok=True)
    prov = yaml.safe_load((units_src / "province.yml").read_text(encoding="utf-8"))
    (path / "pw").write_text(slapd.passwords["provisioner"])
    prov["accounts"] = {"ldap": {"url": slapd.url, "starttls": False, "password_file": "pw"},
                        "mail_store": {"host": "local", "root": str(mail_root)}}
    (path / "province.yml").write_text(yaml.safe_dump(prov, allow_unicode=True), encoding="utf-8")
    center = next(u["code"] for u in prov["units"] if u["kind"] == "integration_center")
    (path / "hosts.yml").write_text(
        "all:\n  children:\n    center_servers:\n      hosts:\n"
        f"        tthdl-srv01: {{ansible_host: 127.0.0.1, unit: '{center}'}}\n")
    return path


def change_one_percent(rows: list[dict], units: list[str], seed: int = 7) -> list[dict]:
    """1% of the officials change: a third move, a third change name, a third leave."""
    rng = random.Random(seed)
    rows = [dict(r) for r in rows]
    active = [r for r in rows if r["status"] == "Đang công tác" and r["uses_computer"] == "Có"]
    for n, r in enumerate(rng.sample(active, max(3, len(rows) // 100))):
        if n % 3 == 0:
            r["unit"] = rng.choice([u for u in units if u != r["unit"]])
        elif n % 3 == 1:
            r["family_name"] = "Lê" if r["family_name"] != "Lê" else "Trần"
        else:
            r["status"] = "Nghỉ hưu"
    return rows


def timed(fn, *a, **kw):
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t0, out


@dataclass(frozen=True)
class Cpu:
    """CPU seconds (user + system) of this process (all threads), of its reaped children (directory
    workers, mailbox makers) and of slapd: the work the machine had to find time for, whatever else
    runs on it."""
    own: float
    children: float
    slapd: float

    @property
    def total(self) -> float:
        return self.own + self.children + self.slapd

    def __sub__(self, o: "Cpu") -> "Cpu":
        return Cpu(self.own - o.own, self.children - o.children, self.slapd - o.slapd)

    def __str__(self) -> str:
        return (f"{self.total:.1f} s (this process {self.own:.1f}, its children {self.children:.1f}, "
                f"slapd {self.slapd:.1f})")


def cpu_seconds(slapd_proc) -> Cpu:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{slapd_proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return Cpu(own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime,
               (int(fields[11]) + int(fields[12])) / tick)


def reference_apply(work: Path, slapd, roster_path: Path, name: str, **kw):
    """The same initial apply into its own fresh slapd and mail store, with service.apply's `kw`."""
    mail = work / f"vmail-{name}"
    mail.mkdir()
    os.chmod(mail, 0o755)
    ctx = service.load(inventory(work / f"inv-{name}", slapd, mail, ROOT / "inventory" / "example"))
    roster = service.read(ctx, roster_path)
    c0 = cpu_seconds(slapd.proc)
    t, (plan, res, _) = timed(service.apply, ctx, roster, **kw)
    cpu = cpu_seconds(slapd.proc) - c0
    assert res and res.ok, res.failed[:3] if res else "nothing applied"
    return t, res.timings, cpu


def sequential_apply(work: Path, slapd, roster_path: Path):
    """The same initial apply with its phases one after another, into its own fresh slapd and mail store."""
    t, f, cpu = reference_apply(work, slapd, roster_path, "seq", overlap=False)
    return t, {"hash": f["hash"], "mailbox": f["mailbox"] - f["hash"], "directory": f["directory"],
               "groups": f["groups"], "journal+sheets": f["journal_sheets"]}, f["total"], cpu


def phases_compare(work: Path, slapd_seq, roster_path: Path, res, t_init: float, cpu: Cpu, report) -> None:
    """(d) the overlapped initial apply `res` (wall time `t_init`, `cpu` CPU seconds) vs the same apply
    phase by phase."""
    t_seq, seq, seq_total, seq_cpu = sequential_apply(work, slapd_seq, roster_path)
    print("  (d) phases one after another: " + ", ".join(f"{k} {v:.2f}s" for k, v in seq.items())
          + f" = {seq_total:.2f}s")
    print(f"      CPU time used: overlapped {cpu}; one after another {seq_cpu}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    f = res.timings
    print("      overlapped, finished at: " + ", ".join(
        f"{k} {f[k]:.2f}s" for k in ("hash", "mailbox", "directory_end") if k in f)
        + f", then groups {f['groups']:.2f}s, journal+sheets {f['journal_sheets']:.2f}s")
    slowest = max(("hash", "mailbox", "directory", "groups"), key=lambda k: seq[k])
    report("(d) initial apply (overlapped), apply phases", f["total"], f"slowest phase ({slowest})",
           seq[slowest], "target <= 1.25x")
    report("    same, whole command (read, plan, apply)", t_init, f"slowest phase ({slowest})", seq[slowest])
    # person entries and the unit groups' members (memberOf on every member) are both written by
    # slapd's one back-mdb writer, one synced transaction after another: overlap cannot hide one
    # behind the other, so their sum is the floor of the overlapped apply
    report("    same, vs directory + groups (one slapd writer)", f["total"], "directory + groups",
           seq["directory"] + seq["groups"])
    report("    overlapped vs one after another", f["total"], "phases in sequence", seq_total)
    report("    whole command, overlapped vs sequential", t_init, "sequential command", t_seq)
    report("    CPU seconds, overlapped vs sequential", cpu.total, "sequential CPU seconds", seq_cpu.total)
    report("    CPU seconds / cores (the wall's floor)", cpu.total / (os.cpu_count() or 1), "slowest phase",
           seq[slowest])


def compare_with_references(work: Path, units: list[str], roster_path: Path, res, t_init: float, cpu: Cpu,
                            report, nosync: bool = False) -> None:
    """(d), its reference apply into its own fresh slapd."""
    slapd = start_slapd(work / "ldap-seq", BASE, units, nosync=nosync)
    try:
        phases_compare(work, slapd, roster_path, res, t_init, cpu, report)
    finally:
        slapd.stop()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--doveadm-sample", type=int, default=200)
    ap.add_argument("--phases-only", action="store_true",
                    help="only (d): the overlapped apply vs its phases in sequence")
    ap.add_argument("--nosync", action="store_true",
                    help="diagnosis only: slapd without fsync (olcDbNoSync), to see what the directory's fsyncs "
                         "cost while mailboxes are made on the same disk")
    ap.add_argument("--workdir", type=Path, default=None, help="on the disk to measure (default: a dir in /var/tmp)")
    ap.add_argument("--keep", action="store_true",
                    help="leave the work directory (remove it later: see the ext4 note above), so that runs "
                         "back to back do not slow each other down")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="acct-bench-", dir=args.workdir or "/var/tmp"))
    os.chmod(work, 0o755)
    os.environ["PROVISION_DATA"] = str(work / "var")
    rows_out: list[tuple[str, str, str, str]] = []

    def report(what: str, value: float, ref_name: str = "", ref: float | None = None, target: str = "") -> None:
        ratio = f"{value / ref:.2f}x" if ref else ""
        rows_out.append((what, f"{value:8.2f} s", f"{ref_name} {ref:.2f} s" if ref is not None else "", ratio, target))
        print(f"  {what:<46} {value:8.2f} s   {ref_name:<28} {'' if ref is None else f'{ref:8.2f} s'}  {ratio:>7}  {target}",
              flush=True)

    slapd_ref = slapd = dovecot = None
    try:
        print(f"accounts benchmark: {args.count} officials, work dir {work} ({os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f} at start)")
        import yaml

        units = [u["code"] for u in yaml.safe_load((ROOT / "inventory/example/province.yml").read_text())["units"]]
        slapd_ref = start_slapd(work / "ldap-ref", BASE, units, unit_groups=False)  # the reference adds them
        mail = work / "vmail"
        mail.mkdir()
        os.chmod(mail, 0o755)
        slapd = start_slapd(work / "ldap", BASE, units, nosync=args.nosync)
        dovecot = start_dovecot(work / "dovecot", slapd, mail)
        inv = inventory(work / "inv", slapd, mail, ROOT / "inventory" / "example")
        ctx = service.load(inv)
        rows = sample.generate(ctx.province, args.count)
        roster_path = sample.write(rows, work / "roster.csv")
        t_read, roster = timed(service.read, ctx, roster_path)
        print(f"  roster: {len(roster.officials)} rows read and validated in {t_read:.2f} s")

        if args.phases_only:
            c0 = cpu_seconds(slapd.proc)
            t_init, (plan, res, _) = timed(service.apply, ctx, roster)
            cpu = cpu_seconds(slapd.proc) - c0
            assert res and res.ok, res.failed[:3] if res else "nothing applied"
            print(f"  initial apply: {plan.count('create')} accounts, phases "
                  + ", ".join(f"{k} {v:.2f}s" for k, v in res.timings.items()))
            slapd_ref.stop()
            compare_with_references(work, units, roster_path, res, t_init, cpu, report, args.nosync)
            print(f"\nsummary (load average {os.getloadavg()[0]:.1f} at the end)")
            for r in rows_out:
                print("  " + " | ".join(r))
            return 0

        # Hashing alone.
        pws = [passwords.generate() for _ in range(len(roster.officials))]
        n1 = min(2000, len(pws))
        t1, _ = timed(passwords.hash_many, pws[:n1], workers=1)
        t_all, hashes_all = timed(passwords.hash_many, pws)
        report(f"hash {len(pws)} SHA-512-crypt, all cores", t_all, "one thread (extrapolated)",
               t1 * len(pws) / n1)

        # (a) reference: ldapadd of the same entries and groups.
        plan0 = service.make_plan(ctx, roster)
        creates = [i for i, c in enumerate(plan0.changes) if c.action == "create"]
        hashes = {i: hashes_all[n] for n, i in enumerate(creates)}
        samba = {i: smb.samba_attributes(BASE, plan0.changes[i].uid, pws[n].get_secret_value())
                 for n, i in enumerate(creates)}
        ldif = reference_ldif(plan0, ctx, hashes, samba)
        (work / "ref.ldif").write_text(ldif, encoding="utf-8")
        # Bound as the provisioner, like the apply: the same ACLs and overlays on every write.
        (work / "prov.pw").write_text(slapd_ref.passwords["provisioner"])
        t_ldapadd, _ = timed(subprocess.run, ["ldapadd", "-x", "-H", slapd_ref.url, "-D",
                                              slapd_ref.service_dn("provisioner"), "-y", str(work / "prov.pw"),
                                              "-f", str(work / "ref.ldif")], check=True, capture_output=True)
        slapd_ref.stop()
        # And bound as the rootDN (no ACL evaluation, ppolicy skipped): the directory's raw speed.
        slapd_root = start_slapd(work / "ldap-root", BASE, units, unit_groups=False)
        t_rootdn, _ = timed(subprocess.run, ["ldapadd", "-x", "-H", slapd_root.url, "-D", slapd_root.admin_dn,
                                             "-w", slapd_root.admin_password, "-f", str(work / "ref.ldif")],
                            check=True, capture_output=True)
        slapd_root.stop()

        # Initial apply.
        c0 = cpu_seconds(slapd.proc)
        t_init, (plan, res, _) = timed(service.apply, ctx, roster)
        cpu = cpu_seconds(slapd.proc) - c0
        assert res and res.ok, res.failed[:3] if res else "nothing applied"
        ident = res.timings["directory"] + res.timings["groups"]
        print(f"  initial apply: {plan.count('create')} accounts, phases "
              + ", ".join(f"{k} {v:.2f}s" for k, v in res.timings.items()))
        report("(a) identities (entries + groups), ours", ident, "ldapadd same LDIF", t_ldapadd, "target <= 1.5x")
        report("    same, vs ldapadd as the rootDN (no ACLs)", ident, "ldapadd rootDN", t_rootdn)
        report("    person entries only, ours", res.timings["directory"])
        report("    initial apply, everything", t_init)
        compare_with_references(work, units, roster_path, res, t_init, cpu, report)

        # (b) no change, 1% change.
        t_none, (p2, r2, _) = timed(service.apply, ctx, service.read(ctx, roster_path))
        assert p2.empty, p2.summary
        report("(b) no-change apply", t_none, "initial apply", t_init, "target <= 0.10x")
        changed = sample.write(change_one_percent(rows, list(ctx.province.units)), work / "roster-1pct.csv")
        t_one, (p3, r3, _) = timed(service.apply, ctx, service.read(ctx, changed))
        assert r3 and r3.ok
        print(f"  1% change: {p3.summary}")
        report("(b) 1%-changed apply", t_one, "initial apply", t_init, "target <= 0.15x")

        # (c) mailboxes: ours vs the same folders made directly, back to back on the same disk (the
        # file system's speed drifts with load and with create/delete churn: medians of 3 rounds).
        n_boxes = plan.count("create")

        def direct_mkdirs(root: Path) -> None:  # the file system's own speed: the same 2 directories
            for i in range(n_boxes):
                os.makedirs(os.path.join(root, f"u{i}", "Maildir"))

        ours_t, direct_t = [], []
        for rnd in range(3):
            store = LocalStore(str(work / f"ours{rnd}"), DOMAIN, 5000, 5000)
            ours_t.append(timed(store.create, [f"u{i}" for i in range(n_boxes)])[0])
            direct_t.append(timed(direct_mkdirs, work / f"direct{rnd}")[0])
        report(f"(c) mailboxes, ours ({n_boxes}, median of 3)", statistics.median(ours_t), "os.mkdir direct",
               statistics.median(direct_t), "target <= 1.5x")
        report("    mailboxes, ours inside the initial apply", res.timings["mailbox"])
        sample_uids = [c.uid for c in plan.changes if c.action == "create"][: args.doveadm_sample]
        # doveadm creates under each user's mailHomeDirectory: remove ours first for those users
        for u in sample_uids:
            shutil.rmtree(mail / DOMAIN / u)
        t0 = time.perf_counter()
        for u in sample_uids:
            subprocess.run(["doveadm", "-c", str(dovecot.config), "mailbox", "create", "-u", u,
                            "Sent", "Drafts", "Trash", "Junk"], check=True, capture_output=True)
        per_user = (time.perf_counter() - t0) / len(sample_uids)
        report(f"    doveadm per user ({per_user * 1000:.1f} ms, x{n_boxes})", per_user * n_boxes,
               "ours (median)", statistics.median(ours_t), "target >= 10x")
        print(f"\nsummary (load average {os.getloadavg()[0]:.1f} at the end)")
        for r in rows_out:
            print("  " + " | ".join(r))
    finally:
        for svc in (dovecot, slapd, slapd_ref):
            if svc:
                svc.stop()
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
