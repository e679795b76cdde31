"""A loopback sshd playing three servers of a small province (see fixtures/sshd.py)."""
from __future__ import annotations

import shutil

import pytest

from fixtures.sshd import CHANGED, KNOWN, UNKNOWN, start_sshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    d = tmp_path_factory.mktemp("verifysshd")
    s = start_sshd(d, [KNOWN, UNKNOWN, CHANGED])
    yield s
    s.stop()
    shutil.rmtree(d, ignore_errors=True)
