"""Secrets vault and the facts the deploy hands to the roles (no lab needed)."""
import os
import stat

import pytest

from provisioning import secrets
from provisioning.deploy.runner import province_vars, servers
from provisioning.errors import BadInput, OperationFailed
from provisioning.model import load_province

from tests.conftest import EXAMPLE


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    return tmp_path / "var" / EXAMPLE.name


def test_secrets_generated_once_encrypted_and_owner_only(data):
    first = secrets.ensure_secrets(EXAMPLE)
    assert set(first) == set(secrets.KEYS)
    assert all(len(v) >= 24 for v in first.values())
    assert len(set(first.values())) == len(first), "every secret is different"
    assert secrets.ensure_secrets(EXAMPLE) == first, "a second call keeps the secrets"
    assert secrets.load_secrets(EXAMPLE) == first

    vault = data / "secrets" / "vault.yml"
    text = vault.read_text()
    assert text.startswith("$ANSIBLE_VAULT;1.1;AES256")
    assert not any(v in text for v in first.values())
    for p in (vault, data / "secrets" / ".vault-pass"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "secrets").stat().st_mode) == 0o700


def test_hashes_verify_the_passwords(data):
    plain = secrets.ensure_secrets(EXAMPLE)
    raw = secrets._read(EXAMPLE)
    for key in secrets.HASHED:
        h = raw[f"{key}_hash"]
        assert h.startswith("{CRYPT}$6$")
        assert secrets.verify_crypt(plain[key], h)
    assert "ca_passphrase_hash" not in raw


def test_load_without_deploy_and_lost_password_file(data):
    with pytest.raises(OperationFailed, match="provision deploy"):
        secrets.load_secrets(EXAMPLE)
    secrets.ensure_secrets(EXAMPLE)
    os.remove(data / "secrets" / ".vault-pass")
    with pytest.raises(OperationFailed, match="password file"):
        secrets.ensure_secrets(EXAMPLE)


def test_wrong_vault_password_names_the_file_not_the_content(data):
    secrets.ensure_secrets(EXAMPLE)
    (data / "secrets" / ".vault-pass").write_text("not-the-password\n")
    with pytest.raises(OperationFailed) as e:
        secrets.load_secrets(EXAMPLE)
    assert "vault.yml" in str(e.value) and "ANSIBLE_VAULT" not in str(e.value)


def test_province_vars_for_the_roles():
    p = load_province(EXAMPLE)
    v = province_vars(p)
    assert v["province_base_dn"] == "dc=bentre,dc=gov,dc=vn"
    assert v["province_dns_zone"] == "bentre.gov.vn"
    assert v["province_center_host"] == "tthdl-srv01"
    assert v["province_servers"]["snv-srv01"] == {"address": "10.20.2.10", "unit": "000.00.02.H09",
                                                  "fqdn": "snv-srv01.bentre.gov.vn"}
    assert "tthdl-ws01" not in v["province_servers"], "workstations are not deploy targets"
    units = {u["code"]: u for u in v["province_units"]}
    assert units["000.00.02.H09"]["servers"] == ["snv-srv01"]
    assert units["000.00.02.H09"]["wan"] == ["10.20.2.0/24"]
    assert units["000.00.02.H09"]["admitted"] == ["10.20.2.0/24", "10.20.0.0/24"]   # + the center's
    assert units["000.01.01.H09"]["admitted"] == ["10.20.0.0/24"]
    assert set(v["province_unit_servers"]) == {h for h in v["province_servers"] if h != "tthdl-srv01"}
    assert v["province_dkim_selector"] == "mail"          # province.yml's dkim_selector, by default
    assert v["province_log_retention_min_days"] == 90     # compliance.log_retention_days, by default


def test_limit_selects_servers_only():
    p = load_province(EXAMPLE)
    assert servers(p, "000.00.02.H09") == ["snv-srv01"]
    assert servers(p, "snv-*") == ["snv-srv01"]
    with pytest.raises(BadInput, match="selects no server"):
        servers(p, "tthdl-ws01")
    with pytest.raises(BadInput, match="matches no unit code"):
        servers(p, "no-such-unit")
