"""The lab's base images and offline package repositories, one of each per Debian release, shared by every
lab on the machine.

- rootfs(codename): a debootstrapped Debian minbase of that release (the lower layer of every lab host of
  that release). Built once (about a minute); never modified while labs run.
- repo(codename): a flat apt repository of that release holding the base image's own packages (so that an
  older release's host can be upgraded in place from it) plus LAB_PACKAGES and their dependencies. Lab hosts
  see every release's repository read-only at the same path, and their apt uses their own release's only,
  so they install packages without any network access.

Both are made from this machine's Debian mirror whatever release the machine itself runs: the repository
is filled by apt with a private configuration (its own sources, lists and cache) that never touches the
machine's own apt state.
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
from .packages import LAB_PACKAGES, ROOTFS_INCLUDE, ROOTFS_LATER, for_release

BASE = Path(os.environ.get("PROVISION_LAB_BASE", "/var/lib/provision"))
REPO_BASE = Path(os.environ.get("PROVISION_LAB_REPO_BASE", "/srv"))
# Debian major version -> codename, oldest first
RELEASES = {"12": "bookworm", "13": "trixie"}
VERSIONS = {c: v for v, c in RELEASES.items()}
# Single-release paths of labs made before per-release images (still used to repair such labs)
LEGACY_ROOTFS = BASE / "rootfs"
LEGACY_REPO = Path("/srv/provision-repo")
LOCK = BASE / ".image.lock"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

Log = Callable[[str], None]


def rootfs(codename: str) -> Path:
    return BASE / f"rootfs-{codename}"


def repo(codename: str) -> Path:
    return REPO_BASE / f"provision-repo-{codename}"


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


def _apt_sources() -> list[tuple[str, str]]:
    """(URI, first suite) of each source of this machine's apt, in its order (deb822 or one-line format)."""
    found: list[tuple[str, str]] = []
    deb822 = Path("/etc/apt/sources.list.d/debian.sources")
    if deb822.exists():
        for stanza in re.split(r"\n\s*\n", deb822.read_text()):
            uri = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suite = re.search(r"^Suites:\s*(\S+)", stanza, re.M)
            if uri and suite:
                found.append((uri.group(1), suite.group(1)))
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for m in re.finditer(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", legacy.read_text(), re.M):
            found.append((m.group(1), m.group(2)))
    return found


def debian_mirror() -> str:
    """The mirror this machine's apt already uses (read, not hard-coded)."""
    for uri, suite in _apt_sources():
        if "security" not in suite:
            return uri
    raise OperationFailed("cannot find this machine's Debian mirror in /etc/apt (needed once to build the lab image)")


def security_mirror() -> str | None:
    for uri, suite in _apt_sources():
        if suite.endswith("-security") or suite.endswith("/updates"):
            return uri
    return None


def codename() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    return "bookworm"


def ensure_rootfs(release: str, log: Log, in_use: bool) -> float:
    """Build the base image of `release` (a codename) unless it is current. Returns the seconds spent."""
    import time
    root = rootfs(release)
    marker = root / ".provision-rootfs"
    include, later = for_release(ROOTFS_INCLUDE, release), for_release(ROOTFS_LATER, release)
    want = _digest(include + [f"{n} (apt)" for n in later])
    if marker.exists() and marker.read_text().strip() == want:
        return 0.0
    if in_use and marker.exists():
        raise OperationFailed(f"the lab's {release} image's package list changed: run `provision lab down` for "
                              f"every lab that uses {release} first")
    if not shutil.which("debootstrap"):
        raise OperationFailed("debootstrap is missing: run `bash scripts/bootstrap.sh` (it installs the lab's tools)")
    t0 = time.monotonic()
    log(f"building the lab's {release} base image (debootstrap, about a minute, once per machine)")
    tmp = BASE / f"rootfs-{release}.new"
    shutil.rmtree(tmp, ignore_errors=True)
    _run(["debootstrap", "--variant=minbase", f"--keyring={KEYRING}", "--include=" + ",".join(include), release,
          str(tmp), debian_mirror()], f"debootstrap {release}")
    if later:  # from the mirror debootstrap configured in the image
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        _run(["chroot", str(tmp), "apt-get", "update", "-qq"], f"apt-get update in the {release} image", env=env)
        _run(["chroot", str(tmp), "apt-get", "install", "-y", "-qq", "--no-install-recommends", *later],
             f"installing {', '.join(later)} in the {release} image", env=env)
    for f in tmp.glob("var/lib/apt/lists/*"):
        if f.is_file():
            f.unlink()
    # Lab hosts get packages only from their release's offline repository.
    for f in [tmp / "etc/apt/sources.list", *tmp.glob("etc/apt/sources.list.d/*")]:
        f.unlink(missing_ok=True)
    # The image's own packages go to the repository (an in-place upgrade needs the new base system).
    base = repo(release) / "base"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    for f in tmp.glob("var/cache/apt/archives/*.deb"):
        shutil.move(str(f), base / f.name)
    (repo(release) / ".packages").unlink(missing_ok=True)  # its index must be rebuilt
    (tmp / "etc/apt/sources.list.d/provision-lab.list").write_text(f"deb [trusted=yes] file:{repo(release)} ./\n")
    # The man-db trigger costs ~5 s per apt run and nobody reads man pages in a lab host.
    (tmp / "var/lib/man-db/auto-update").unlink(missing_ok=True)
    for c in RELEASES.values():  # every release's repository is mounted in every host
        (tmp / str(repo(c)).lstrip("/")).mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    marker.write_text(want + "\n")
    return time.monotonic() - t0


def _private_apt(release: str) -> list[str]:
    """apt-get options that make it use only `release`'s sources from this machine's mirror, with lists and
    caches of its own (the machine's apt state is never touched)."""
    d = BASE / f"apt-{release}"
    (d / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (d / "cache").mkdir(parents=True, exist_ok=True)
    (d / "sources.list.d").mkdir(parents=True, exist_ok=True)
    lines = [f"deb [signed-by={KEYRING}] {debian_mirror()} {release} main",
             f"deb [signed-by={KEYRING}] {debian_mirror()} {release}-updates main"]
    sec = security_mirror()
    if sec:
        lines.append(f"deb [signed-by={KEYRING}] {sec} {release}-security main")
    (d / "sources.list").write_text("\n".join(lines) + "\n")
    return ["-o", f"Dir::Etc::SourceList={d / 'sources.list'}", "-o", f"Dir::Etc::SourceParts={d / 'sources.list.d'}",
            "-o", f"Dir::State::Lists={d / 'lists'}", "-o", f"Dir::Cache={d / 'cache'}",
            "-o", f"Dir::State::status={rootfs(release)}/var/lib/dpkg/status",
            "-o", "APT::Get::List-Cleanup=false"]


def ensure_repo(release: str, log: Log) -> float:
    """Fill `release`'s offline repository unless it is current. Returns the seconds spent."""
    import time
    path = repo(release)
    marker = path / ".packages"
    packages = for_release(LAB_PACKAGES, release)
    want = _digest(packages)
    if marker.exists() and marker.read_text().strip() == want and (path / "Packages").exists():
        return 0.0
    t0 = time.monotonic()
    log(f"filling the lab's {release} offline package repository {path} ({len(packages)} packages + dependencies)")
    path.mkdir(parents=True, exist_ok=True)
    # Same-release files the previous single-release repository already holds are not downloaded again.
    if release == "bookworm" and LEGACY_REPO.is_dir() and not any(path.glob("*.deb")):
        for f in LEGACY_REPO.glob("*.deb"):
            try:
                os.link(f, path / f.name)
            except OSError:
                shutil.copy2(f, path / f.name)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt = ["apt-get", "-qq", *_private_apt(release)]
    _run([*apt, "update"], f"apt-get update ({release}, private lists)", env=env)
    _run([*apt, "install", "-y", "--download-only", "-o", "APT::Install-Recommends=true",
          "-o", f"Dir::Cache::archives={path}/", *packages], f"downloading the lab's {release} packages", env=env)
    if not any((path / "base").glob("*.deb")):  # the image was built by an older version: fetch its packages
        (path / "base").mkdir(exist_ok=True)
        names = _run(["dpkg-query", f"--admindir={rootfs(release)}/var/lib/dpkg", "-W", "-f", "${Package}\n"],
                     "dpkg-query").stdout.split()
        _run([*apt, "download", *names], f"downloading the {release} image's packages", cwd=path / "base", env=env)
    shutil.rmtree(path / "partial", ignore_errors=True)
    (path / "lock").unlink(missing_ok=True)
    index = _run(["dpkg-scanpackages", "--multiversion", "."], "dpkg-scanpackages", cwd=path).stdout
    (path / "Packages").write_text(index)
    marker.write_text(want + "\n")
    return time.monotonic() - t0


def ensure_all(log: Log, in_use: Callable[[str], bool]) -> dict[str, dict[str, float]]:
    """Every release's image and repository (a lab of one release still serves the other from its center's
    package mirror, and hosts are upgraded in place from the newer one). Returns build seconds per release."""
    spent = {}
    with image_lock():
        for release in RELEASES.values():
            spent[release] = {"rootfs_s": ensure_rootfs(release, log, in_use(release)),
                              "repo_s": ensure_repo(release, log)}
    return spent
