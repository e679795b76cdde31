"""The `provision` command's documented exit codes: 0 ok, 2 bad input (flags, commands, inventory)."""
import pytest

from provisioning.cli import main
from tests.conftest import EXAMPLE


@pytest.mark.parametrize("argv", [
    ["nosuch"],                                            # unknown command
    ["inventory", "check", "--nosuch-flag"],               # unknown flag
    ["audit", "-i", str(EXAMPLE), "--workers", "abc"],     # a value of the wrong type
    ["lab", "up", "--name", "x", "--units", "999"],        # out of range
    ["lab", "status", "--name", "Lấb"],                    # a lab name that cannot name a namespace
    ["inventory", "check", "-i", "/nonexistent/province"],  # no such inventory
])
def test_bad_input_exits_2(argv, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.strip()  # and says why


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for job in ("inventory", "lab", "audit", "deploy", "verify", "accounts", "report"):
        assert job in out
