"""`provision pki ...`: the provincial CA's certificates, their revocation and the CRL."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from .. import errors
from ..pki import REASONS, PkiStatus, refresh_crl, revoke, status
from ..render.console import console, print_json, table
from ..render.i18n import t
from .common import InventoryOpt, JsonOpt, LangOpt

app = typer.Typer(help="The provincial CA: issued certificates, revocation, the revocation list (CRL).",
                  no_args_is_help=True)


def _crl_line(s: PkiStatus, lang: str) -> str:
    c = s.crl
    if c.state == "missing":
        return t("pki.crl.none", lang)
    return t("pki.crl", lang, url=c.url, number=c.number, revoked=len(c.revoked), this_update=c.this_update,
             next_update=c.next_update, state=t(f"pki.crl.state.{c.state}", lang))


def _status(inventory: Path, json: bool, lang: str) -> int:
    s = status(inventory)
    if json:
        print_json({"inventory": s.inventory, "ca_host": s.ca_host, "certificates": s.certificates, "crl": s.crl,
                    "ok": s.ok})
        return errors.OK if s.ok else errors.FAILED
    colour = {"valid": "green", "revoked": "bold red", "expired": "dim"}
    cols = [t(f"pki.col.{c}", lang) for c in ("host", "serial", "expires", "state", "current", "revoked_at", "reason")]
    rows = [(c.host or c.fqdn, c.serial, c.expires[:10],
             f"[{colour.get(c.state, 'dim')}]{t(f'pki.state.{c.state}', lang)}[/]",
             t("pki.yes", lang) if c.current else "", c.revoked_at[:16], c.reason) for c in s.certificates]
    console.print(table(t("pki.status.title", lang, province=inventory), cols, rows))
    console.print(escape(_crl_line(s, lang)), highlight=False)
    return errors.OK if s.ok else errors.FAILED


@app.command("status")
def status_(inventory: Path = InventoryOpt, json: bool = JsonOpt, lang: str = LangOpt) -> int:
    """Every certificate the provincial CA issued (serial, server, expiry, valid/revoked/expired, the current
    one of each server) and the CRL's number and nextUpdate. Exit 1 when the CRL needs signing."""
    return _status(inventory, json, lang)


@app.command("list")
def list_(inventory: Path = InventoryOpt, json: bool = JsonOpt, lang: str = LangOpt) -> int:
    """The same as `provision pki status`."""
    return _status(inventory, json, lang)


@app.command("revoke")
def revoke_(host: str = typer.Argument(..., help="Server whose certificate is revoked (inventory host name)."),
            reason: str = typer.Option("unspecified", "--reason",
                                       help=f"CRL reason: {', '.join(REASONS)}."),
            inventory: Path = InventoryOpt, json: bool = JsonOpt, lang: str = LangOpt) -> int:
    """Revoke the certificates of a retired or compromised server and publish the new CRL at once. The
    next `provision deploy` gives the server a new key and certificate (run it, or retire the server)."""
    r = revoke(inventory, host, reason)
    if json:
        print_json({**{k: getattr(r, k) for k in ("host", "fqdn", "reason", "revoked", "crl_number",
                                                    "next_update", "error")}, "ok": r.ok, "changed": r.changed})
    elif not r.revoked:
        console.print(t("pki.revoke.none", lang, host=r.host), highlight=False)
    else:
        console.print(t("pki.revoke.done", lang, n=len(r.revoked), host=r.host, serials=", ".join(r.revoked),
                        reason=r.reason, number=r.crl_number, next_update=r.next_update), highlight=False)
    if r.error and not json:
        console.print(f"[red]{escape(r.error)}[/]")
    return errors.OK if r.ok else errors.FAILED


@app.command("crl")
def crl_(force: bool = typer.Option(False, "--force", help="Sign a new CRL even when the current one is not due."),
         inventory: Path = InventoryOpt, json: bool = JsonOpt, lang: str = LangOpt) -> int:
    """Sign and publish a new CRL when it is due (each deploy does the same); for a cron job on the
    control machine, which holds the CA passphrase: e.g. `0 3 * * * provision pki crl -i inventory/NAME`."""
    r = refresh_crl(inventory, force)
    if json:
        print_json(r)
    else:
        key = "pki.crl.signed" if r.changed else "pki.crl.kept"
        state = t(f"pki.crl.state.{r.state}", lang) if r.state else ""
        console.print(t(key, lang, number=r.number, next_update=r.next_update, state=state), highlight=False)
    return errors.OK
