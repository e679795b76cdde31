"""Run folders: every job's run gets its own folder (or file), even when two runs start in the same second."""
import datetime as dt
import stat
import threading

import pytest

from provisioning import paths

NOW = dt.datetime(2026, 12, 5, 10, 30, 5)


@pytest.fixture
def inv(tmp_path, monkeypatch):
    """An inventory `p1` whose data directory is tmp_path/var/p1."""
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    return tmp_path / "inventory" / "p1"


def test_two_runs_in_the_same_second_get_distinct_sortable_folders(inv, tmp_path):
    first = paths.new_run_dir(inv, "deploy", now=NOW)
    second = paths.new_run_dir(inv, "deploy", now=NOW)
    third = paths.new_run_dir(inv, "deploy", now=NOW)
    assert first == tmp_path / "var" / "p1" / "deploy" / "2026-12-05T10-30-05"
    assert second.name == "2026-12-05T10-30-05-2" and third.name == "2026-12-05T10-30-05-3"
    assert all(p.is_dir() and not any(p.iterdir()) for p in (first, second, third))
    assert sorted([third.name, first.name, second.name]) == [first.name, second.name, third.name]


def test_suffix_parent_and_private_folders(inv, tmp_path):
    a = paths.new_run_dir(inv, "deploy", "-check", now=NOW)
    b = paths.new_run_dir(inv, "deploy", "-check", now=NOW)
    assert (a.name, b.name) == ("2026-12-05T10-30-05-check", "2026-12-05T10-30-05-2-check")
    out = tmp_path / "out"
    c = paths.new_run_dir(inv, "accounts", parent=out, private=True, now=NOW)
    assert c.parent == out and stat.S_IMODE(c.stat().st_mode) == 0o700


def test_run_files_do_not_collide_either(inv, tmp_path):
    a = paths.new_run_file(inv, "verify", ".json", now=NOW)
    b = paths.new_run_file(inv, "verify", ".json", now=NOW)
    assert (a.name, b.name) == ("2026-12-05T10-30-05.json", "2026-12-05T10-30-05-2.json")
    assert a.is_file() and b.is_file()


def test_concurrent_runs_never_share_a_folder(inv, tmp_path):
    """Many runs racing for the same second: each claims a folder of its own (mkdir is the claim)."""
    got, start = [], threading.Barrier(16)

    def one():
        start.wait()
        got.append(paths.new_run_dir(inv, "backup", now=NOW))

    threads = [threading.Thread(target=one) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 16
