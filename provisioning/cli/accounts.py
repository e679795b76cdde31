"""`provision accounts ...`: identities and mailboxes from the HR roster."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from .. import errors
from ..accounts import sample as sample_mod
from ..accounts import service
from ..accounts.plan import Plan
from ..model import load_province
from ..render import i18n
from ..render.console import console, err_console, print_json, table
from ..results import ProgressStep
from ..roster import RosterError
from ..roster import messages as roster_messages
from .common import InventoryOpt, JsonOpt, LangOpt

app = typer.Typer(help="Keep directory identities and mailboxes in step with the HR roster.", no_args_is_help=True)

OutOpt = typer.Option(None, "--out", help="Folder for the plan, the result and the password sheets "
                                          "(default var/<province>/accounts/runs/<time>/).")
MAX_ROWS = 200

i18n.register({
    "accounts.col.action": {"vi": "Thao tác", "en": "Action"},
    "accounts.col.hr_id": {"vi": "Mã cán bộ", "en": "HR ID"},
    "accounts.col.uid": {"vi": "Tài khoản", "en": "Username"},
    "accounts.col.unit": {"vi": "Đơn vị", "en": "Unit"},
    "accounts.col.name": {"vi": "Họ và tên", "en": "Name"},
    "accounts.col.detail": {"vi": "Chi tiết", "en": "Details"},
    "accounts.action.create": {"vi": "tạo mới", "en": "create"},
    "accounts.action.enable": {"vi": "mở lại", "en": "enable"},
    "accounts.action.update": {"vi": "cập nhật", "en": "update"},
    "accounts.action.disable": {"vi": "khóa", "en": "disable"},
    "accounts.action.mailbox": {"vi": "tạo hộp thư", "en": "mailbox"},
    "accounts.action.reissue": {"vi": "cấp lại mật khẩu", "en": "reissue password"},
    "accounts.plan.title": {"vi": "Kế hoạch thay đổi tài khoản", "en": "Account changes planned"},
    "accounts.plan.none": {"vi": "Không có thay đổi: thư mục đã khớp với danh sách cán bộ.",
                           "en": "No change: the directory matches the roster."},
    "accounts.plan.summary": {
        "vi": "{rows} dòng, {eligible} cán bộ cần tài khoản; {create} tạo mới, {enable} mở lại, {update} cập nhật, "
              "{disable} khóa, {mailbox} tạo hộp thư, {reissue} cấp lại mật khẩu, {group_changes} nhóm đơn vị",
        "en": "{rows} rows, {eligible} officials need an account; {create} to create, {enable} to re-enable, "
              "{update} to update, {disable} to disable, {mailbox} mailboxes to make, {reissue} passwords to "
              "reissue, {group_changes} unit groups"},
    "accounts.plan.missing_groups": {
        "vi": "Chưa có nhóm đơn vị của {units}: chạy `provision deploy --tags directory` (vai trò directory tạo "
              "nhóm), rồi áp dụng lại để thêm thành viên.",
        "en": "No unit group yet for {units}: run `provision deploy --tags directory` (the directory role creates "
              "the groups), then apply again to add their members."},
    "accounts.plan.more": {"vi": "... và {n} thay đổi khác (xem --json hoặc --out)",
                           "en": "... and {n} more changes (see --json or --out)"},
    "accounts.apply.done": {"vi": "Đã áp dụng: {done}", "en": "Applied: {done}"},
    "accounts.apply.sheets": {"vi": "Phiếu mật khẩu (chỉ chủ sở hữu được đọc):",
                              "en": "Password sheets (owner-only):"},
    "accounts.purge.would": {
        "vi": "Sẽ xóa {n} tài khoản bị khóa trước {cutoff} cùng hộp thư (chưa xóa gì); {recent} tài khoản khóa gần "
              "đây hơn được giữ lại:",
        "en": "Would purge {n} account(s) disabled before {cutoff} with their mail (nothing deleted); {recent} "
              "disabled more recently kept:"},
    "accounts.purge.done": {
        "vi": "Đã xóa {n} tài khoản bị khóa trước {cutoff} cùng hộp thư (tên tài khoản vẫn được giữ, không cấp "
              "lại cho người khác); {recent} tài khoản khóa gần đây hơn được giữ lại",
        "en": "Purged {n} account(s) disabled before {cutoff} with their mail (the usernames stay reserved); "
              "{recent} disabled more recently kept"},
    "accounts.purge.failed": {"vi": "  thất bại: {what}", "en": "  failed: {what}"},
    "accounts.inactive.title": {"vi": "Tài khoản không đăng nhập từ {days} ngày (trước {cutoff})",
                                "en": "Accounts not signed in for {days} days (before {cutoff})"},
    "accounts.inactive.none": {"vi": "Không có tài khoản nào không đăng nhập từ {days} ngày.",
                               "en": "No account has gone {days} days without signing in."},
    "accounts.inactive.never": {"vi": "chưa từng", "en": "never"},
    "accounts.col.last": {"vi": "Đăng nhập gần nhất", "en": "Last sign-in"},
    "accounts.col.days": {"vi": "Số ngày", "en": "Days"},
    "accounts.apply.failed": {"vi": "{n} thay đổi thất bại; chạy lại apply để hoàn tất:",
                              "en": "{n} change(s) failed; run apply again to finish:"},
})


def _detail(c) -> str:
    parts = [f"{k}: {v[0] if v[0] not in (None, '') else '-'} -> {v[1]}" for k, v in c.changes.items()
             if c.action != "create" and isinstance(v, list)]
    if c.reason:
        parts.append(c.reason)
    return "; ".join(parts)


def render_plan(plan: Plan, lang: str) -> None:
    s = plan.summary
    if plan.empty:
        console.print(i18n.t("accounts.plan.none", lang))
        return
    cols = [i18n.t(f"accounts.col.{k}", lang) for k in ("action", "hr_id", "uid", "unit", "name", "detail")]
    rows = [(i18n.t(f"accounts.action.{c.action}", lang), c.hr_id, c.uid, c.unit, c.name, _detail(c))
            for c in plan.changes[:MAX_ROWS]]
    if rows:
        console.print(table(i18n.t("accounts.plan.title", lang), cols, rows), markup=False)
    if len(plan.changes) > MAX_ROWS:
        console.print(i18n.t("accounts.plan.more", lang, n=len(plan.changes) - MAX_ROWS))
    console.print(i18n.t("accounts.plan.summary", lang, rows=plan.roster_rows, eligible=plan.eligible, **s),
                  highlight=False)
    missing = [g.unit for g in plan.groups if g.missing]
    if missing:
        console.print(i18n.t("accounts.plan.missing_groups", lang, units=", ".join(missing)), style="yellow",
                      highlight=False, markup=False)
    if plan.converted_from:
        console.print(f"roster: {plan.converted_from} -> Unicode", highlight=False)


def _roster_problems(e: RosterError, json: bool, lang: str) -> int:
    if json:
        print_json({"valid": False, "file": str(e.path),
                    "problems": [{**asdict(p), "text": p.text(lang)} for p in e.problems]})
    else:
        err_console.print(roster_messages.where("header", lang, path=e.path, n=len(e.problems)), markup=False,
                          highlight=False)
        for p in e.problems:
            err_console.print(f"  {p.line(lang)}", markup=False, highlight=False)
    return errors.BAD_INPUT


@app.command("plan")
def plan_cmd(roster: Path = typer.Argument(..., help="HR roster: .csv (UTF-8, UTF-16, TCVN3/VNI) or .xlsx"),
             inventory: Path = InventoryOpt, json: bool = JsonOpt, out: Path = OutOpt, lang: str = LangOpt) -> int:
    """Show what apply would change. Changes nothing."""
    ctx = service.load(inventory)
    try:
        r = service.read(ctx, roster)
    except RosterError as e:
        return _roster_problems(e, json, lang)
    plan = service.make_plan(ctx, r)
    if out:
        service.write_json(service._private_dir(out) / "plan.json", plan)
    if json:
        print_json({"valid": True, "summary": plan.summary, "plan": plan})
    else:
        render_plan(plan, lang)
    return errors.OK


@app.command("apply")
def apply_cmd(roster: Path = typer.Argument(..., help="HR roster: .csv or .xlsx"),
              inventory: Path = InventoryOpt,
              yes: bool = typer.Option(False, "--yes",
                                       help="Confirm; with --max-disable, raise the mass-change guard."),
              max_disable: str = typer.Option(None, "--max-disable",
                                              help="Most accounts one run may disable: a count or N%% of enabled "
                                                   "ones (default: 5%% or 20, whichever is larger). Needs --yes."),
              out: Path = OutOpt, json: bool = JsonOpt, lang: str = LangOpt) -> int:
    """Make the directory and the mail store match the roster; write password sheets for new accounts."""
    ctx = service.load(inventory)
    try:
        r = service.read(ctx, roster)
    except RosterError as e:
        return _roster_problems(e, json, lang)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=err_console, transient=True, disable=json) as bar:
        tasks: dict[str, int] = {}

        def progress(step: ProgressStep) -> None:
            if step.phase not in tasks:
                tasks[step.phase] = bar.add_task(step.phase, total=step.total)
            bar.update(tasks[step.phase], completed=step.done)

        plan, result, rd = service.apply(ctx, r, yes=yes, max_disable=max_disable, out=out, lang=lang,
                                         progress=progress)
    if json:
        print_json({"summary": plan.summary, "plan": plan, "result": result, "run_dir": rd})
    else:
        render_plan(plan, lang)
        if result:
            console.print(i18n.t("accounts.apply.done", lang, done=", ".join(
                f"{i18n.t('accounts.action.' + k, lang)} {v}" for k, v in sorted(result.done.items())) or "-"),
                highlight=False)
            if result.sheets:
                console.print(i18n.t("accounts.apply.sheets", lang))
                for f in result.sheets:
                    console.print(f"  {f}", highlight=False, markup=False)
    if result and result.failed:
        err_console.print(i18n.t("accounts.apply.failed", lang, n=len(result.failed)), highlight=False)
        for f in result.failed[:20]:
            err_console.print(f"  {f.action} {f.uid} ({f.hr_id}): {f.error}", markup=False, highlight=False)
        return errors.FAILED
    return errors.OK


@app.command("show")
def show_cmd(key: str = typer.Argument(..., help="Username or hr_id"), inventory: Path = InventoryOpt,
             json: bool = JsonOpt) -> int:
    """One official's directory entry, groups and change history."""
    info = service.show(service.load(inventory), key)
    if json:
        print_json(info)
        return errors.OK
    rows = [(k, ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in sorted(info["entry"].items())]
    console.print(table(None, ["attribute", "value"], rows), markup=False)
    hist = [(r["time"], r["action"], r.get("unit") or "", r.get("operator", ""),
             ", ".join(sorted(r.get("changes", {})))) for r in info["history"]]
    if hist:
        console.print(table("history", ["time", "action", "unit", "operator", "attributes"], hist), markup=False)
    return errors.OK


@app.command("reset-password")
def reset_cmd(uid: str = typer.Argument(..., help="Username"), inventory: Path = InventoryOpt, out: Path = OutOpt,
              lang: str = LangOpt) -> int:
    """A new first password for one account (must change at first login); prints only the sheet's path."""
    path = service.reset_password(service.load(inventory), uid, out=out, lang=lang)
    console.print(i18n.t("accounts.apply.sheets", lang))
    console.print(f"  {path}", highlight=False, markup=False)
    return errors.OK


RoleArg = typer.Argument(..., help="province-hr, province-office or unit-admin")


def _grant(role: str, uid: str, unit: str | None, inventory: Path, json: bool, revoke: bool) -> int:
    res = service.grant(service.load(inventory), role, uid, unit, revoke=revoke)
    if json:
        print_json(res)
    else:
        verb = ("revoked" if revoke else "granted") if res.changed else "unchanged"
        console.print(f"{res.uid}: {res.role} {verb} ({res.group})", highlight=False)
    return 0


@app.command("grant")
def grant_cmd(role: str = RoleArg, uid: str = typer.Argument(..., help="Username"),
              unit: str = typer.Option(None, "--unit", help="Unit code (unit-admin only)"),
              inventory: Path = InventoryOpt, json: bool = JsonOpt) -> int:
    """Give an official a console role (membership of cn=province-hr, cn=province-office or cn=admins-UNIT)."""
    return _grant(role, uid, unit, inventory, json, revoke=False)


@app.command("revoke")
def revoke_cmd(role: str = RoleArg, uid: str = typer.Argument(..., help="Username"),
               unit: str = typer.Option(None, "--unit", help="Unit code (unit-admin only)"),
               inventory: Path = InventoryOpt, json: bool = JsonOpt) -> int:
    """Take a console role back."""
    return _grant(role, uid, unit, inventory, json, revoke=True)


@app.command("purge")
def purge_cmd(inventory: Path = InventoryOpt,
              older_than: int = typer.Option(None, "--older-than", help="Days since disabled (default: "
                                             "accounts.retention_days, 365)."),
              dry_run: bool = typer.Option(False, "--dry-run", help="Only list the accounts that would be purged."),
              json: bool = JsonOpt, lang: str = LangOpt) -> int:
    """Delete accounts disabled for longer than the retention, and their mail. Usernames stay reserved."""
    res = service.purge(service.load(inventory), older_than, dry_run=dry_run)
    if json:
        print_json(res)
        return errors.FAILED if res.failed else errors.OK
    if dry_run:
        text = i18n.t("accounts.purge.would", lang, n=len(res.would_purge), cutoff=res.cutoff, recent=res.kept_recent)
        console.print(text if res.would_purge else text.rstrip(":"), highlight=False, markup=False)
        for uid in res.would_purge:
            console.print(f"  {uid}", highlight=False, markup=False)
        return errors.OK
    console.print(i18n.t("accounts.purge.done", lang, n=len(res.purged), cutoff=res.cutoff, recent=res.kept_recent),
                  highlight=False, markup=False)
    for uid in res.purged:
        console.print(f"  {uid}", highlight=False, markup=False)
    for f in res.failed:
        err_console.print(i18n.t("accounts.purge.failed", lang, what=f), markup=False, highlight=False)
    return errors.FAILED if res.failed else errors.OK


@app.command("inactive")
def inactive_cmd(inventory: Path = InventoryOpt,
                 days: int = typer.Option(None, "--days", help="Days without a sign-in (default: "
                                          "accounts.inactive_days, 45)."),
                 json: bool = JsonOpt, lang: str = LangOpt) -> int:
    """Enabled accounts not signed in for N days (the directory's last-bind time), for review or disabling."""
    if days is not None and days < 0:
        raise errors.BadInput("--days must be 0 or more")
    res = service.inactive(service.load(inventory), days)
    if json:
        print_json(res)
        return errors.OK
    if not res.accounts:
        console.print(i18n.t("accounts.inactive.none", lang, days=res.days), highlight=False, markup=False)
        return errors.OK
    cols = [i18n.t(f"accounts.col.{c}", lang) for c in ("uid", "unit", "name", "last", "days")]
    rows = [(a.uid, a.unit, a.name, a.last_sign_in or i18n.t("accounts.inactive.never", lang), str(a.days))
            for a in res.accounts]
    console.print(table(i18n.t("accounts.inactive.title", lang, days=res.days, cutoff=res.cutoff), cols, rows),
                  markup=False)
    return errors.OK


@app.command("sample")
def sample_cmd(inventory: Path = InventoryOpt,
               count: int = typer.Option(300, "--count", min=1, help="Number of officials."),
               out: Path = typer.Option(..., "--out", help="roster.csv or roster.xlsx"),
               seed: int = typer.Option(2005, "--seed")) -> int:
    """Write a realistic sample roster for the province's units (Vietnamese names, leavers, clashes)."""
    province = load_province(inventory)
    path = sample_mod.write(sample_mod.generate(province, count, seed), out)
    console.print(f"{path}: {count} officials", highlight=False)
    return errors.OK
