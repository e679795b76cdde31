"""The lab's base image and offline package repository, both shared by every lab on the machine.

- ROOTFS: a debootstrapped Debian minbase (the lower layer of every lab host's overlay). Built once
  (about 40 s); never modified while labs run, so the machine's own apt can change freely.
- REPO: a flat apt repository holding LAB_PACKAGES and their dependencies (what the rootfs lacks),
  downloaded by the machine's apt. Lab hosts see it read-only at the same path, so they install
  packages without any network access.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..errors import OperationFailed
from .packages import LAB_PACKAGES, ROOTFS_INCLUDE

BASE = Path(os.environ.get("PROVISION_LAB_BASE", "/var/lib/provision"))
ROOTFS = BASE / "rootfs"
REPO = Path("/srv/provision-repo")
LOCK = BASE / ".image.lock"

Log = Callable[[str], None]


def _digest(items: list[str]) -> str:
    return hashlib.sha256(" ".join(sorted(items)).encode()).hexdigest()[:16]


@contextmanager
def image_lock() -> Iterator[None]:
    """Serialize image builds between concurrent `lab up` runs."""
    BASE.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(cmd: list[str], what: str, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-15:]
        raise OperationFailed(f"{what} failed (exit {r.returncode}):\n  " + "\n  ".join(tail))
    return r


def debian_mirror() -> str:
    """The mirror this machine's apt already uses (read, not hard-coded)."""
    deb822 = Path("/etc/apt/sources.list.d/debian.sources")
    if deb822.exists():
        m = re.search(r"^URIs:\s*(\S+)", deb822.read_text(), re.M)
        if m:
            return m.group(1)
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        m = re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", legacy.read_text(), re.M)
        if m:
            return m.group(1)
    raise OperationFailed("cannot find this machine's Debian mirror in /etc/apt (needed once to build the lab image)")


def codename() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    return "bookworm"


def ensure_rootfs(log: Log, labs_running: bool) -> None:
    marker = ROOTFS / ".provision-rootfs"
    want = _digest(ROOTFS_INCLUDE)
    if marker.exists() and marker.read_text().strip() == want:
        return
    if labs_running and marker.exists():
        raise OperationFailed("the lab image's package list changed: run `provision lab down` for every lab first")
    if not shutil.which("debootstrap"):
        raise OperationFailed("debootstrap is missing: run `bash scripts/bootstrap.sh` (it installs the lab's tools)")
    log("building the lab base image (debootstrap, about a minute, once per machine)")
    tmp = BASE / "rootfs.new"
    shutil.rmtree(tmp, ignore_errors=True)
    _run(["debootstrap", "--variant=minbase", "--include=" + ",".join(ROOTFS_INCLUDE), codename(), str(tmp),
          debian_mirror()], "debootstrap")
    # Lab hosts get packages only from the offline repository.
    for f in [tmp / "etc/apt/sources.list", *tmp.glob("etc/apt/sources.list.d/*")]:
        f.unlink(missing_ok=True)
    for f in tmp.glob("var/cache/apt/archives/*.deb"):
        f.unlink()
    (tmp / "etc/apt/sources.list.d/provision-lab.list").write_text(f"deb [trusted=yes] file:{REPO} ./\n")
    # The man-db trigger costs ~5 s per apt run and nobody reads man pages in a lab host.
    (tmp / "var/lib/man-db/auto-update").unlink(missing_ok=True)
    (tmp / "srv/provision-repo").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(ROOTFS, ignore_errors=True)
    tmp.rename(ROOTFS)
    marker.write_text(want + "\n")


def ensure_repo(log: Log) -> None:
    marker = REPO / ".packages"
    want = _digest(LAB_PACKAGES)
    if marker.exists() and marker.read_text().strip() == want and (REPO / "Packages").exists():
        return
    log(f"filling the lab's offline package repository {REPO} ({len(LAB_PACKAGES)} packages + dependencies)")
    REPO.mkdir(parents=True, exist_ok=True)
    cmd = ["apt-get", "install", "-y", "-qq", "--download-only", "-o", "APT::Install-Recommends=true",
           "-o", f"Dir::State::status={ROOTFS}/var/lib/dpkg/status",
           "-o", f"Dir::Cache::archives={REPO}/", *LAB_PACKAGES]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:  # the machine's package lists may be missing or stale: refresh once
        _run(["apt-get", "update", "-qq"], "apt-get update")
        _run(cmd, "downloading the lab packages", env=env)
    shutil.rmtree(REPO / "partial", ignore_errors=True)
    (REPO / "lock").unlink(missing_ok=True)
    packages = _run(["dpkg-scanpackages", "--multiversion", "."], "dpkg-scanpackages", cwd=REPO).stdout
    (REPO / "Packages").write_text(packages)
    marker.write_text(want + "\n")
