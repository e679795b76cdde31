"""Shared test helpers. Lab tests need root; each module that needs lab hosts builds its own lab with
a distinct name, so tests never touch the operator's `lab`."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "inventory" / "example"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `provision` console command (as a user would) and capture its output."""
    exe = Path(sys.executable).with_name("provision")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd or ROOT,
                          env={**os.environ, **(env or {})}, timeout=900)


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="lab tests need root")
        for item in items:
            if "lab" in item.keywords:
                item.add_marker(skip)
    # Long scenarios (an in-place release upgrade) run only when asked for by name: `-m upgrade`.
    if "upgrade" not in (config.getoption("markexpr", "") or ""):
        skip = pytest.mark.skip(reason="long scenario: run it with `-m upgrade`")
        for item in items:
            if "upgrade" in item.keywords:
                item.add_marker(skip)
