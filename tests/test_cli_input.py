"""Bad --lang and --limit values on every command that has them: exit 2, one line naming the flag and the
value, nothing written. The commands are listed from the typer app itself, so a new one is covered too."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer

from provisioning.cli import app
from tests.conftest import EXAMPLE, run_cli

# A value for each required parameter a command may have, so that only the flag under test is wrong.
REQUIRED = {"roster": "roster.csv", "month": "2026-11", "key": "annv", "uid": "annv", "host": "snv-srv01",
            "source": "latest", "out": "out.csv"}


# typer may bring its own copy of click's classes: commands and groups are recognised by what they have.
def _commands(cmd, path: tuple[str, ...] = ()):
    """(argv prefix, command) for every command and every group that runs by itself (`provision audit`)."""
    group = hasattr(cmd, "commands")
    if not group or cmd.invoke_without_command:
        yield path, cmd
    if group:
        for name, sub in sorted(cmd.commands.items()):
            yield from _commands(sub, path + (name,))


COMMANDS = list(_commands(typer.main.get_command(app)))


def _with(flag: str) -> list:
    return [(path, cmd) for path, cmd in COMMANDS if any(flag in p.opts for p in cmd.params)]


def _argv(path: tuple[str, ...], cmd, inventory: Path, flag: str, value: str) -> list[str]:
    argv = list(path)
    for p in cmd.params:
        if p.name == "inventory":
            argv += ["-i", str(inventory)]
        elif p.required:
            assert p.name in REQUIRED, f"`provision {' '.join(path)}`: give the test a value for {p.name}"
            argv += [REQUIRED[p.name]] if p.param_type_name == "argument" else [p.opts[0], REQUIRED[p.name]]
    return argv + [flag, value]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() if f.is_file() else b"/" for f in sorted(root.rglob("*"))}


def test_the_walk_finds_the_commands_with_each_flag():
    lang = {" ".join(p) for p, _ in _with("--lang")}
    limit = {" ".join(p) for p, _ in _with("--limit")}
    assert {"audit", "audit diff", "verify", "accounts plan", "accounts apply", "report monthly"} <= lang
    assert {"audit", "deploy", "verify", "backup run", "backup list", "report form"} <= limit


def _bad(tmp_path: Path, path, cmd, flag: str, value: str) -> None:
    inventory = tmp_path / "tinh"
    shutil.copytree(EXAMPLE, inventory)
    data = tmp_path / "var"
    data.mkdir()
    before = _tree(tmp_path)
    r = run_cli(*_argv(path, cmd, inventory, flag, value), cwd=tmp_path, env={"PROVISION_DATA": str(data)})
    lines = [line for line in (r.stdout + r.stderr).splitlines() if line.strip()]
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert len(lines) == 1 and flag in lines[0] and repr(value) in lines[0], lines
    assert "Traceback" not in r.stderr
    assert _tree(tmp_path) == before                       # no run folder, no journal, no secrets, nothing


@pytest.mark.parametrize("path,cmd", _with("--lang"), ids=[" ".join(p) for p, _ in _with("--lang")])
def test_bad_lang_exits_2_with_one_line_and_changes_nothing(tmp_path, path, cmd):
    _bad(tmp_path, path, cmd, "--lang", "fr")


@pytest.mark.parametrize("value", ["no-such-unit", "*-nothing-matches", ","])
@pytest.mark.parametrize("path,cmd", _with("--limit"), ids=[" ".join(p) for p, _ in _with("--limit")])
def test_bad_limit_exits_2_with_one_line_and_changes_nothing(tmp_path, path, cmd, value):
    _bad(tmp_path, path, cmd, "--limit", value)
