"""The accounts: section of province.yml and the sample roster generator (no services needed)."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from provisioning.accounts import naming, sample
from provisioning.roster import read_roster
from provisioning.errors import BadInput
from provisioning.model import load_province

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory" / "example"


def province_with(tmp_path, accounts_yaml: str):
    inv = tmp_path / "prov"
    shutil.copytree(EXAMPLE, inv)
    with open(inv / "province.yml", "a", encoding="utf-8") as fh:
        fh.write("\naccounts:\n" + accounts_yaml)
    return load_province(inv)


def test_defaults_and_quota_by_position(tmp_path):
    s = province_with(tmp_path, '  quota_mb: {default: 2048, positions: {"Giám đốc": 8192}}\n').settings.accounts
    assert s.username_pattern == naming.DEFAULT_PATTERN and s.retention_days == 365
    assert s.quota_for("giám đốc") == 8192 and s.quota_for("Chuyên viên") == 2048


def test_every_bad_key_is_named(tmp_path):
    with pytest.raises(BadInput) as e:   # the province does not load: the section is typed in the model
        province_with(tmp_path, "  username_pattern: '{ten}'\n  retention_days: -1\n  colour: blue\n"
                                "  quota_mb: {default: 0}\n  headers: {hr: ['Số hiệu']}\n")
    msg = str(e.value)
    for key in ("accounts.username_pattern", "accounts.retention_days", "accounts.colour",
                "accounts.quota_mb.default", "accounts.headers"):
        assert key in msg, key
    assert "unknown placeholder" in msg and "province.yml" in msg


def test_mail_store_host_must_be_in_the_inventory(tmp_path):
    with pytest.raises(BadInput, match="accounts.mail_store.host"):
        province_with(tmp_path, "  mail_store: {host: nowhere-srv01}\n")


def test_sample_roster_is_realistic_and_valid(tmp_path):
    province = load_province(EXAMPLE)
    rows = sample.generate(province, 400)
    for ext in ("csv", "xlsx"):
        r = read_roster(sample.write(rows, tmp_path / f"roster.{ext}"), province.units)
        assert len(r.officials) == 400
    officials = r.officials
    assert {o.unit for o in officials} == set(province.units)               # every unit has officials
    assert any(not o.uses_computer for o in officials)                       # drivers, guards
    assert any(not o.active for o in officials)                              # leavers
    assert any(any(c in o.full_name for c in "ĐđươăâêôĂÂÊÔƠƯ") for o in officials)
    same = [o for o in officials if o.full_name == "Nguyễn Văn An"]
    assert len(same) >= 3 and len({o.unit for o in same}) >= 3              # username clashes
    assert sample.generate(province, 400) == rows                            # deterministic


@pytest.mark.parametrize("text, expected", [
    ("20261125114135Z", dt.datetime(2026, 11, 25, 11, 41, 35, tzinfo=dt.timezone.utc)),
    ("20261125235959Z", dt.datetime(2026, 11, 25, 23, 59, 59, tzinfo=dt.timezone.utc)),
    ("20261125000001.5Z", dt.datetime(2026, 11, 25, 0, 0, 1, tzinfo=dt.timezone.utc)),
    ("2026-11-25T11:41:35+00:00", dt.datetime(2026, 11, 25, 11, 41, 35, tzinfo=dt.timezone.utc)),
    ("not a time", None),
])
def test_disabled_time_reads_generalized_time_at_any_hour(text, expected):
    # Python 3.11's fromisoformat reads "20261125114135Z" as 14:13: a purge at 11:41 then found the
    # official disabled "in the future" and kept him.
    from provisioning.accounts.service import _parse_gt

    assert _parse_gt(text) == expected


@pytest.mark.parametrize("text,limit", [("50", 50), ("10%", 100), ("2,5%", 25), ("2.5%", 25), ("100%", 1000)])
def test_mass_change_guard_accepts_counts_and_percentages(text, limit):
    from provisioning.accounts.plan import guard_limit
    assert guard_limit(1000, text) == limit


@pytest.mark.parametrize("text", ["inf%", "nan%", "-5", "-5%", "101%", "1e9", "", "5 %x", "99999999999"])
def test_mass_change_guard_refuses_what_is_not_a_limit(text):
    """`--max-disable 'inf%'` crashed with a traceback and a negative limit was accepted."""
    from provisioning.accounts.plan import guard_limit
    with pytest.raises(ValueError):
        guard_limit(1000, text)
