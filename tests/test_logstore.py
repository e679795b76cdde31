"""provisioning.logstore: the central log store's settings and disk use, as compliance, verify and the
monthly report read them."""
from __future__ import annotations

from provisioning import logstore

SETTINGS = '{\n  "center": "c-srv01", "store": "/var/log/central", "retention_days": 180, "disk_warn_percent": 80\n}\n'
DF = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda3 100000000 42000000 58000000 42% /var/log\n"


def test_used_percent_is_the_last_df_line():
    assert logstore.used_percent(DF) == 42
    assert logstore.used_percent("/dev/sda3  100000000  91000000  9000000  91% /\n") == 91
    assert logstore.used_percent("") is None
    assert logstore.used_percent("df: /nowhere: No such file or directory\n") is None


def test_the_store_and_its_threshold_from_one_command():
    use = logstore.from_output("c-srv01", SETTINGS + "==provision-logstore-df==\n" + DF)
    assert use == logstore.StoreUse("c-srv01", "/var/log/central", 42, 80, 180)
    assert not use.full
    full = logstore.from_output("c-srv01", SETTINGS + "==provision-logstore-df==\n/dev/sda3 1 1 0 80% /\n")
    assert full.full, "at the threshold is past it"


def test_no_settings_no_store():
    assert logstore.from_output("u-srv01", "==provision-logstore-df==\n") is None
    assert logstore.from_output("u-srv01", "[1, 2]\n==provision-logstore-df==\n" + DF) is None
    unreadable = logstore.from_output("c-srv01", SETTINGS + "==provision-logstore-df==\n")
    assert unreadable.used_percent is None and not unreadable.full


def test_the_command_names_the_store_quoted():
    assert logstore.disk_command("/var/log/central") == "df -P /var/log/central 2>/dev/null | tail -1"
    assert logstore.disk_command("/srv/my logs") == "df -P '/srv/my logs' 2>/dev/null | tail -1"
    assert logstore.SETTINGS in logstore.disk_command()
