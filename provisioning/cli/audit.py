"""`provision audit`: audit the units' LAN hardware against the baseline; `provision audit diff OLD NEW`.

Exit codes: 0 the audit ran (non-compliant hosts are data, not a failure); 1 with --fail-under when the
province's compliance is below the given percentage; 2 bad input (inventory, --limit, baseline, options),
in which case nothing is written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .. import errors
from ..audit.baseline import load_baseline
from ..audit.diff import diff_audits
from ..audit.results import load_json, report_data, write_all
from ..audit.runner import DEFAULT_TIMEOUT, DEFAULT_WORKERS, run_audit
from ..paths import data_dir, run_stamp
from ..render.console import console, err_console, print_json, table
from .common import InventoryOpt, JsonOpt, LimitOpt, province

app = typer.Typer(help="Audit unit LAN hardware (hosts over SSH, switches over netmiko) against a baseline.",
                  invoke_without_command=True)

SETTINGS = {"baseline", "workers", "timeout"}  # keys of the `audit:` section of province.yml


def _settings(p) -> dict[str, Any]:
    """The `audit:` section of province.yml: defaults for --baseline (relative to the inventory), --workers,
    --timeout."""
    s = p.settings.get("audit") or {}
    unknown = sorted(set(s) - SETTINGS)
    if unknown:
        raise errors.BadInput(f"{p.inventory_dir / 'province.yml'}: audit.{unknown[0]}: unknown key "
                              f"(use {', '.join(sorted(SETTINGS))})")
    for key in ("workers", "timeout"):
        if key in s and (not isinstance(s[key], (int, float)) or isinstance(s[key], bool) or s[key] <= 0):
            raise errors.BadInput(f"{p.inventory_dir / 'province.yml'}: audit.{key}: {s[key]!r} is not a positive "
                                  "number")
    if "baseline" in s:
        s = {**s, "baseline": p.inventory_dir / str(s["baseline"])}
    return s


def _out_dir(inventory: Path, out: Path | None) -> Path:
    if out:
        return out
    base = data_dir(inventory, "audit") / run_stamp()
    candidate, n = base, 1
    while candidate.exists():  # two runs in the same second
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


@app.callback()
def audit(ctx: typer.Context,
          inventory: Path = InventoryOpt, limit: Optional[str] = LimitOpt,
          baseline: Optional[Path] = typer.Option(None, "--baseline", "-b",
                                                  help="Baseline YAML (default: the shipped one, or audit.baseline "
                                                       "in province.yml)."),
          out: Optional[Path] = typer.Option(None, "--out", "-o",
                                             help="Output folder (default var/<inventory>/audit/<date-time>/)."),
          workers: Optional[int] = typer.Option(None, "--workers", "-w",
                                                help=f"Hosts audited at the same time (default {DEFAULT_WORKERS})."),
          timeout: Optional[float] = typer.Option(None, "--timeout", "-t",
                                                  help=f"Hard limit per host in seconds (default {DEFAULT_TIMEOUT:g})."),
          fail_under: Optional[float] = typer.Option(None, "--fail-under",
                                                     help="Exit 1 when fewer than PCT % of hosts meet the baseline."),
          lang: str = typer.Option("vi", "--lang", help="Language of audit.csv, audit.xlsx and audit.html: vi or en."),
          json: bool = JsonOpt) -> int:
    """Audit every selected host; write audit.json, audit.csv, audit.xlsx and audit.html."""
    if ctx.invoked_subcommand:
        return errors.OK
    # Checked here rather than with typer's min/max so that every bad option is a BadInput (exit 2).
    if lang not in ("vi", "en"):
        raise errors.BadInput(f"--lang {lang!r}: use vi or en")
    if workers is not None and not 1 <= workers <= 500:
        raise errors.BadInput(f"--workers {workers}: must be between 1 and 500")
    if timeout is not None and timeout < 0.5:
        raise errors.BadInput(f"--timeout {timeout:g}: must be at least 0.5 seconds")
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise errors.BadInput(f"--fail-under {fail_under:g}: must be a percentage between 0 and 100")
    p = province(inventory)
    settings = _settings(p)
    try:
        hosts = p.select(limit)
    except KeyError as e:
        raise errors.BadInput(e.args[0]) from None
    base = load_baseline(baseline or settings.get("baseline"))
    workers = workers or int(settings.get("workers", DEFAULT_WORKERS))
    timeout = timeout or float(settings.get("timeout", DEFAULT_TIMEOUT))
    out_dir = _out_dir(inventory, out)

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=json or not err_console.is_terminal) as bar:
        task = bar.add_task("audit", total=len(hosts))
        report = run_audit(p, hosts, base, workers=workers, timeout=timeout, limit=limit, run_id=out_dir.name,
                           progress=lambda r: bar.update(task, advance=1, description=r.host))
    files = write_all(report, out_dir, lang)
    data = report_data(report)
    if json:
        print_json(data)
    else:
        _print(data, files)
    pct = data["totals"]["percent"] or 0.0
    if fail_under is not None and pct < fail_under:
        console.print(f"[red]compliance {pct:g}% is below --fail-under {fail_under:g}%[/]", highlight=False)
        return errors.FAILED
    return errors.OK


def _print(data: dict, files: dict[str, Path]) -> None:
    console.print(table("Audit per unit", ["unit", "name", "hosts", "audited", "compliant", "%", "not audited"],
                        [(u["unit"], u["name"], u["hosts"], u["audited"], u["compliant"],
                          "—" if u["percent"] is None else f"{u['percent']:g}",
                          ", ".join(f"{s} {n}" for s, n in u["statuses"].items() if s != "audited" and n))
                         for u in data["units"]]))
    rows = [(h["host"], h["role"], h["status"], h.get("grade") or "",
             escape(h.get("reason") or ", ".join(c["name"] for c in h["checks"] if not c["passed"])))
            for h in data["hosts"] if h["status"] != "audited" or h["grade"] != "pass"]
    if rows:
        console.print(table("Hosts to look at", ["host", "role", "status", "grade", "reason / failed checks"], rows))
    t = data["totals"]
    console.print(f"{t['compliant']}/{t['hosts']} hosts meet the baseline ({t['percent']:g}%), "
                  f"{t['audited']} audited in {data['run']['duration_s']:g} s", highlight=False)
    for kind, path in files.items():
        console.print(f"  {kind}: {path}", highlight=False)


def _short(value: Any) -> Any:
    """Hashes shortened for the terminal (--json keeps them whole)."""
    return value[:12] + "…" if isinstance(value, str) and len(value) == 64 and value.isalnum() else value


def _resolve(run: str, inventory: Path) -> Path:
    """A path to audit.json or a run folder, or the name of a run under var/<inventory>/audit/."""
    p = Path(run)
    if p.exists():
        return p
    return data_dir(inventory, "audit") / run


@app.command("diff")
def diff(old: Optional[str] = typer.Argument(None, help="Older run: folder, audit.json, or run name in the "
                                                         "history (default: the second latest run)."),
         new: Optional[str] = typer.Argument(None, help="Newer run (default: the latest run)."),
         inventory: Path = InventoryOpt, json: bool = JsonOpt) -> int:
    """Compare two audits: hosts added/removed, status and grade changes, unit compliance, fact changes."""
    if old is None or new is None:
        history = sorted(d.name for d in data_dir(inventory, "audit").iterdir() if (d / "audit.json").is_file())
        if len(history) < 2 - (old is not None):
            raise errors.BadInput(f"{data_dir(inventory, 'audit')}: fewer than two audit runs to compare")
        old, new = (old, history[-1]) if old is not None else (history[-2], history[-1])
    d = diff_audits(load_json(_resolve(old, inventory)), load_json(_resolve(new, inventory)))
    if json:
        print_json(d)
        return errors.OK
    console.print(f"audit {d.old_run} -> {d.new_run}", highlight=False)
    if d.empty:
        console.print("no changes")
    if d.added or d.removed:
        console.print(table("Hosts added / removed", ["change", "host"],
                            [("added", h) for h in d.added] + [("removed", h) for h in d.removed]))
    if d.changed:
        console.print(table("Status or grade changed", ["host", "unit", "before", "now"],
                            [(c.host, c.unit, c.old, c.new) for c in d.changed]))
    if d.units:
        console.print(table("Unit compliance changed (%)", ["unit", "name", "before", "now"],
                            [(u.unit, u.name, u.old_percent, u.new_percent) for u in d.units]))
    if d.facts:
        console.print(table("Facts changed", ["host", "fact", "before", "now"],
                            [(f.host, f.fact, _short(f.old), _short(f.new)) for f in d.facts]))
    return errors.OK
