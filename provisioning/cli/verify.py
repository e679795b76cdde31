"""`provision verify`: prove the deployed services work, from outside, as a user would."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from .. import errors
from ..verify import VerifyRun, verify
from ..render.console import console, print_json, table
from ..render.i18n import register, t
from .common import InventoryOpt, JsonOpt, LangOpt, LimitOpt

register({
    "verify.title": {"vi": "Kiểm tra dịch vụ {inventory}: {passed}/{total} đạt",
                     "en": "Service checks of {inventory}: {passed}/{total} passed"},
    "verify.col.host": {"vi": "Máy chủ", "en": "Host"},
    "verify.col.unit": {"vi": "Đơn vị", "en": "Unit"},
    "verify.col.service": {"vi": "Dịch vụ", "en": "Service"},
    "verify.col.check": {"vi": "Kiểm tra", "en": "Check"},
    "verify.col.result": {"vi": "Kết quả", "en": "Result"},
    "verify.col.detail": {"vi": "Chi tiết", "en": "Detail"},
    "verify.pass": {"vi": "đạt", "en": "pass"},
    "verify.fail": {"vi": "LỖI", "en": "FAIL"},
    "verify.saved": {"vi": "Đã lưu kết quả: {path}", "en": "Results saved: {path}"},
    "verify.all_ok": {"vi": "Mọi dịch vụ hoạt động đúng.", "en": "Every service works."},
    "verify.failed": {"vi": "{n} kiểm tra không đạt.", "en": "{n} check(s) failed."},
})


def run(inventory: Path = InventoryOpt, limit: str = LimitOpt, json: bool = JsonOpt,
        lang: str = LangOpt,
        timeout: float = typer.Option(5.0, "--timeout", help="Seconds to wait for each network answer.")) -> int:
    """Check every deployed service from this machine: LDAP, replicas, SMTP, submission, IMAP, DNS,
    HTTPS portal, NTP. Saves var/<inventory>/verify/<run>.json. Exit 0 when every check passed, 1 otherwise."""
    result = verify(inventory, limit=limit, timeout=timeout)
    if json:
        print_json({**result.document(), "ok": result.ok, "saved": result.saved})
    else:
        _show(result, lang)
    return errors.OK if result.ok else errors.FAILED


def _show(r: VerifyRun, lang: str) -> None:
    passed = sum(c.ok for c in r.checks)
    cols = [t(f"verify.col.{c}", lang) for c in ("host", "unit", "service", "check", "result", "detail")]
    rows = [(c.host, c.unit, c.service, c.check,
             f"[green]{t('verify.pass', lang)}[/]" if c.ok else f"[bold red]{t('verify.fail', lang)}[/]",
             escape(c.detail)) for c in r.checks]
    console.print(table(t("verify.title", lang, inventory=r.inventory, passed=passed, total=len(r.checks)),
                        cols, rows))
    failed = len(r.checks) - passed
    console.print(t("verify.all_ok", lang) if not failed else f"[bold red]{t('verify.failed', lang, n=failed)}[/]")
    console.print(t("verify.saved", lang, path=r.saved), highlight=False)
