"""Build the console's wheelhouse on the control machine, for a server that has no package index.

    python wheelhouse.py --project ROOT --out DIR --python-version 3.11

DIR then holds, for CPython X.Y on x86_64 Linux (glibc, manylinux):
- the project's own wheel (`provisioning-<version>-py3-none-any.whl`), assembled here from ROOT's
  `provisioning/` and `pyproject.toml` with fixed timestamps, so the same sources give the same bytes
  (a deploy copies it again only when the code changed);
- every dependency as a binary wheel (`pip download --only-binary=:all: --platform ... --python-version`),
  pinned by ROOT's constraints.txt (the versions the tests passed with), plus pip's own wheel, which
  installs the others on the server (`python pip-*.whl/pip install --no-index --find-links DIR`);
- requirements.txt (the exact versions to install), MANIFEST (sha256 of every wheel: its digest names
  the server's virtualenv, so a changed wheelhouse gets a fresh one).

Dependencies are downloaded again only when the dependency list, the constraints or the Python version
changed (`deps.stamp`). Prints one JSON line: {"changed": bool, "digest": ..., "pip": <pip wheel name>}.
Standard library only (it runs under the control machine's Python that runs Ansible).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

EPOCH = (1980, 1, 1, 0, 0, 0)
SKIP_DIRS = {"__pycache__"}
SKIP_SUFFIXES = (".pyc", ".pyo")
# Debian 12 has glibc 2.36, Debian 13 glibc 2.41: any manylinux wheel up to 2.36 runs on both.
PLATFORMS = ["manylinux2014_x86_64"] + [f"manylinux_2_{n}_x86_64" for n in range(17, 37)] + ["linux_x86_64"]


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def project_wheel(root: Path) -> tuple[str, bytes]:
    """The project's wheel, deterministic: sorted entries, fixed dates and modes."""
    meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name, version = meta["name"], meta["version"]
    dist = f"{name}-{version}.dist-info"
    files: list[tuple[str, bytes]] = []
    pkg = root / "provisioning"
    for path in sorted(pkg.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or SKIP_DIRS & set(rel.parts) or path.name.endswith(SKIP_SUFFIXES):
            continue
        files.append((rel.as_posix(), path.read_bytes()))
    metadata = [f"Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
                f"Summary: {meta.get('description', '')}", f"Requires-Python: {meta.get('requires-python', '')}"]
    metadata += [f"Requires-Dist: {d}" for d in meta.get("dependencies", [])]
    files.append((f"{dist}/METADATA", ("\n".join(metadata) + "\n").encode()))
    files.append((f"{dist}/WHEEL", b"Wheel-Version: 1.0\nGenerator: provision-wheelhouse\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n"))
    scripts = meta.get("scripts", {})
    if scripts:
        ep = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in sorted(scripts.items()))
        files.append((f"{dist}/entry_points.txt", ep.encode()))
    record = "".join(f"{n},{_record_hash(d)},{len(d)}\n" for n, d in files) + f"{dist}/RECORD,,\n"
    files.append((f"{dist}/RECORD", record.encode()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files:
            info = zipfile.ZipInfo(n, EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, d)
    return f"{name}-{version}-py3-none-any.whl", buf.getvalue()


def download_deps(root: Path, out: Path, py: str) -> bool:
    """pip download of the dependencies for CPython `py`; skipped when nothing they depend on changed."""
    meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = list(meta.get("dependencies", [])) + ["pip"]
    constraints = root / "constraints.txt"
    stamp_text = json.dumps({"python": py, "deps": deps, "platforms": PLATFORMS,
                             "constraints": constraints.read_text() if constraints.exists() else ""})
    stamp = out / "deps.stamp"
    if stamp.exists() and stamp.read_text() == stamp_text:
        return False
    tag = py.replace(".", "")
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
           "--only-binary=:all:", "--implementation", "cp", "--python-version", py, "--abi", f"cp{tag}",
           "--find-links", str(out), "-d", str(out)]
    for p in PLATFORMS:
        cmd += ["--platform", p]
    pins = {}
    if constraints.exists():
        cmd += ["-c", str(constraints)]
        for line in constraints.read_text().splitlines():
            name, sep, version = line.strip().partition("==")
            if sep and not name.startswith("#"):
                pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    built: set[str] = set()
    for _ in range(10):
        r = subprocess.run(cmd + deps, capture_output=True, text=True)
        if r.returncode == 0:
            break
        # A pure-Python dependency published only as a source archive (dkimpy): build its wheel here
        # (py3-none-any, fit for any server) and try again with it in the wheelhouse.
        m = re.search(r"Cannot install ([A-Za-z0-9_.-]+?)[<>=!~ ]", r.stderr) or \
            re.search(r"No matching distribution found for ([A-Za-z0-9_.-]+)", r.stderr)
        name = re.sub(r"[-_.]+", "-", m.group(1)).lower() if m else ""
        if not name or name in built:
            sys.stderr.write(r.stderr[-3000:])
            raise SystemExit(f"pip download for Python {py} failed (exit {r.returncode})")
        spec = f"{name}=={pins[name]}" if name in pins else name
        w = subprocess.run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "--quiet",
                            "--no-deps", "--use-pep517", "-w", str(out), spec], capture_output=True, text=True)
        if w.returncode != 0 or not any(out.glob("*-py3-none-any.whl")):
            sys.stderr.write(w.stderr[-3000:])
            raise SystemExit(f"no wheel of {spec} for Python {py}, and building one failed")
        built.add(name)
    else:
        raise SystemExit(f"pip download for Python {py} failed")
    stamp.write_text(stamp_text)
    return True


def _dist_version(filename: str) -> tuple[str, str]:
    parts = filename[:-4].split("-")
    return re.sub(r"[-_.]+", "-", parts[0]).lower(), parts[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--python-version", required=True)
    a = ap.parse_args()
    if not re.fullmatch(r"3\.\d+", a.python_version):
        raise SystemExit(f"--python-version {a.python_version!r}: expected 3.X")
    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    changed = download_deps(a.project, out, a.python_version)
    name, data = project_wheel(a.project)
    target = out / name
    if not target.exists() or target.read_bytes() != data:
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        changed = True
    wheels = sorted(p for p in out.glob("*.whl"))
    # Newest version of each distribution (an older one may linger after the constraints moved on).
    newest: dict[str, tuple[str, Path]] = {}
    for w in wheels:
        dist, version = _dist_version(w.name)
        if dist not in newest or _key(version) > _key(newest[dist][0]):
            newest[dist] = (version, w)
    keep = sorted(p for _, p in newest.values())
    for w in set(wheels) - set(keep):
        w.unlink()
        changed = True
    reqs = "".join(f"{d}=={v}\n" for d, (v, _) in sorted(newest.items()) if d != "pip")
    manifest = "".join(f"{hashlib.sha256(w.read_bytes()).hexdigest()}  {w.name}\n" for w in keep)
    for fname, text in (("requirements.txt", reqs), ("MANIFEST", manifest)):
        f = out / fname
        if not f.exists() or f.read_text() != text:
            f.write_text(text)
            changed = True
    pip = newest.get("pip")
    print(json.dumps({"changed": changed, "digest": hashlib.sha256(manifest.encode()).hexdigest(),
                      "pip": pip[1].name if pip else "", "wheels": len(keep)}))
    return 0


def _key(version: str) -> tuple:
    return tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in re.split(r"[.+-]", version))


if __name__ == "__main__":
    sys.exit(main())
