"""`provision verify` refuses bad input (exit 2) and a never-deployed province (exit 1) before sending
any packet: these run on the example province, whose addresses must never be contacted."""
import shutil

from tests.conftest import EXAMPLE, run_cli


def _province(tmp_path):
    inv = tmp_path / "inventory" / "example"
    shutil.copytree(EXAMPLE, inv)
    return inv, {"PROVISION_DATA": str(tmp_path / "var")}


def test_never_deployed_province_fails_without_contacting_it(tmp_path):
    inv, env = _province(tmp_path)
    r = run_cli("verify", "-i", str(inv), env=env)
    assert r.returncode == 1
    assert "provision deploy" in r.stderr and "no secrets" in r.stderr
    assert not (tmp_path / "var" / "example" / "verify").exists()


def test_limit_matching_nothing_is_bad_input(tmp_path):
    inv, env = _province(tmp_path)
    r = run_cli("verify", "-i", str(inv), "--limit", "khong-co-may-nay", env=env)
    assert r.returncode == 2 and "khong-co-may-nay" in r.stderr


def test_limit_selecting_no_server_is_bad_input(tmp_path):
    inv, env = _province(tmp_path)
    r = run_cli("verify", "-i", str(inv), "--limit", "*-ws*", env=env)
    assert r.returncode == 2 and "no server" in r.stderr


def test_unknown_language_is_bad_input(tmp_path):
    inv, env = _province(tmp_path)
    r = run_cli("verify", "-i", str(inv), "--lang", "fr", env=env)
    assert r.returncode == 2 and "fr" in r.stderr
