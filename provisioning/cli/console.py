"""`provision console serve`: the web console for HR staff, unit administrators and the provincial office."""
from __future__ import annotations

from pathlib import Path

import typer

from ..errors import BadInput
from .common import InventoryOpt

app = typer.Typer(help="The web console (roster upload, officials, password sheets, unit forms, reports).",
                  no_args_is_help=True)


@app.command("serve")
def serve(inventory: Path = InventoryOpt,
          listen: str = typer.Option(None, "--listen", help="HOST:PORT to listen on (default 127.0.0.1:8080)"),
          config: Path = typer.Option(None, "--config", help="Console settings file (YAML): inventory, data_dir, "
                                                             "listen, secure_cookies, trusted_proxies..."),
          ) -> int:
    """Serve the console (waitress, plain HTTP: put it behind nginx with TLS, or use it on loopback)."""
    from ..console import config as cfg_mod
    from ..console.app import serve as run

    if config:
        cfg = cfg_mod.load(config)
        if listen:
            cfg.listen = listen
    else:
        try:
            cfg = cfg_mod.ConsoleConfig(inventory=inventory, listen=listen or "127.0.0.1:8080")
        except ValueError as e:
            raise BadInput(f"--listen {listen!r}: expected HOST:PORT") from None
    print(f"console: http://{cfg.listen}/ (inventory {cfg.inventory})", flush=True)
    run(cfg)
    return 0
