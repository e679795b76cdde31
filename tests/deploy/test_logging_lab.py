"""Central logs on the deployed lab (role logging): every server forwards to the center over mutual TLS.

- a line logged on each unit server (Debian 12 and 13) lands in the center's store, and verify's logs
  checks pass (the marker, the listener's TLS floor probed from each unit server, the store's disk use;
  and that one fails on a store past its threshold);
- with the WAN cut (the unit server's packets to the center dropped, Lab.cut_link), lines logged during
  the cut, before and after a restart of the sender's rsyslog, arrive once the link is back: none lost,
  none twice;
- a sender without a certificate of the provincial CA (none, or one of another CA for the same name) is
  refused: its lines never reach the store, while the same lines from a province certificate do;
- the listener refuses TLS 1.0 and 1.1 handshakes (with a province certificate) and takes TLS 1.2.
Every module of the deployed lab leaves it as found: the link is restored whatever happens."""
from __future__ import annotations

import datetime as dt
import json
import shlex
import socket
import ssl
import subprocess
import time
from collections import Counter

import pytest

from provisioning import secrets as vault
from provisioning.transport import ca
from provisioning.verify.checks import logs
from provisioning.verify.context import Context, RoleFacts, server

pytestmark = pytest.mark.lab

ARRIVAL_WAIT = 240.0     # seconds: a TCP connection held through an outage resumes after its backoff


def _facts(deployed_lab, host) -> dict:
    out = deployed_lab.lab.ssh(host.name, "cat /etc/ansible/facts.d/logging.fact", check=True).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def store(deployed_lab) -> dict:
    """The center's published store, and the name each server's logs are filed under."""
    center = _facts(deployed_lab, deployed_lab.center)
    names = {h.name: _facts(deployed_lab, h)["name"] for h in deployed_lab.units}
    return {"path": center["store"], "port": int(center["port"]), "warn": center["disk_warn_percent"],
            "names": names}


def _count(deployed_lab, store: dict, name: str, token: str) -> int:
    """Lines holding `token` in the center's store, in the folder of `name`."""
    folder = shlex.quote(f"{store['path']}/{name}")
    r = deployed_lab.lab.ssh(deployed_lab.center.name, f"cat {folder}/*.log 2>/dev/null | grep -cF -- {shlex.quote(token)}")
    return int(r.stdout.strip() or 0)


def _lines(deployed_lab, store: dict, name: str, token: str) -> list[str]:
    folder = shlex.quote(f"{store['path']}/{name}")
    r = deployed_lab.lab.ssh(deployed_lab.center.name, f"cat {folder}/*.log 2>/dev/null | grep -F -- {shlex.quote(token)}")
    return r.stdout.splitlines()


def _wait_for(deployed_lab, store: dict, name: str, token: str, want: int) -> int:
    deadline = time.monotonic() + ARRIVAL_WAIT
    while (got := _count(deployed_lab, store, name, token)) < want and time.monotonic() < deadline:
        time.sleep(2)
    return got


def _center_day(deployed_lab) -> str:
    return deployed_lab.lab.ssh(deployed_lab.center.name, "date +%F", check=True).stdout.strip()


def test_a_line_logged_on_each_unit_server_reaches_the_center(deployed_lab, store):
    lab = deployed_lab.lab
    first_day = _center_day(deployed_lab)
    tokens = {}
    for unit in deployed_lab.units:
        tokens[unit.name] = f"reach{time.monotonic_ns()}"
        lab.ssh(unit.name, f"logger -t provision-test {tokens[unit.name]}", check=True)
    for unit in deployed_lab.units:
        got = _wait_for(deployed_lab, store, store["names"][unit.name], tokens[unit.name], 1)
        assert got == 1, f"{unit.name} (Debian {deployed_lab.releases[unit.name]}): {got} copies at the center"
        line = _lines(deployed_lab, store, store["names"][unit.name], tokens[unit.name])[0]
        assert f" {store['names'][unit.name]} provision-test" in line, line    # filed under the sender's name
    listing = lab.ssh(deployed_lab.center.name, f"ls -l {store['path']}/*/", check=True).stdout
    # The file is named by the center's local day (the province's time zone, not this machine's UTC);
    # a run across the center's midnight may find either day.
    days = {first_day, _center_day(deployed_lab)}
    assert any(f"{day}.log" in listing for day in days) and "adm" in listing, (days, listing)


def _context(deployed_lab) -> Context:
    province = deployed_lab.province
    return Context(province, ca.provincial_ca(province), vault.load_secrets(deployed_lab.inventory), 5.0,
                   RoleFacts(province, 5.0))


def test_verify_checks_the_marker_and_the_store_threshold(deployed_lab, store):
    ctx = _context(deployed_lab)
    for unit in deployed_lab.units:
        seen = logs.check_marker(ctx, server(deployed_lab.province, unit))
        assert seen.startswith("marker provision-verify-") and f"/{store['names'][unit.name]}/" in seen, seen
        floor = logs.check_center_floor(ctx, server(deployed_lab.province, unit))
        assert floor.endswith("TLS 1.2 with this server's certificate, TLS 1.0/1.1 refused"), floor
    center = server(deployed_lab.province, deployed_lab.center)
    assert "full (warning at" in logs.check_store_disk(ctx, center)

    # The same store with a threshold at its current use: verify fails and says so.
    lab, fact = deployed_lab.lab, "/etc/ansible/facts.d/logging.fact"
    used = int(lab.ssh(center.name, f"df -P {store['path']} | tail -1", check=True).stdout.split()[4].rstrip("%"))
    low = {**_facts(deployed_lab, deployed_lab.center), "disk_warn_percent": max(used, 1)}
    saved = lab.ssh(center.name, f"cat {fact}", check=True).stdout
    try:
        lab.ssh(center.name, f"cat > {fact}", input=json.dumps(low), check=True)
        with pytest.raises(AssertionError, match=r"full \(warning at \d+%\)"):
            logs.check_store_disk(_context(deployed_lab), center)
    finally:
        lab.ssh(center.name, f"cat > {fact}", input=saved, check=True)


def test_lines_logged_while_the_wan_is_cut_arrive_once_the_link_is_back(deployed_lab, store):
    """Half the lines before and half after a restart of the sender's rsyslog, all during the cut."""
    lab, center, unit = deployed_lab.lab, deployed_lab.center, deployed_lab.units[0]
    name, token, n = store["names"][unit.name], f"cut{time.monotonic_ns()}", 200
    log = "for i in $(seq -f %03g {} {}); do logger -t provision-test \"{} $i\"; done"
    lab.cut_link(unit.name, center.address)
    try:
        probe = lab.ssh(unit.name, f"timeout 3 bash -c '</dev/tcp/{center.address}/{store['port']}'")
        assert probe.returncode != 0, "the cut let a connection through"
        lab.ssh(unit.name, log.format(1, n // 2, token), check=True)
        lab.ssh(unit.name, "service rsyslog restart >/dev/null 2>&1 </dev/null", check=True)
        lab.ssh(unit.name, log.format(n // 2 + 1, n, token), check=True)
        assert _count(deployed_lab, store, name, token) == 0, "lines crossed a cut link"
    finally:
        lab.restore_link(unit.name)
    got = _wait_for(deployed_lab, store, name, token, n)
    numbers = Counter(line.rsplit(token, 1)[1].split()[0] for line in _lines(deployed_lab, store, name, token))
    expected = {f"{i:03d}" for i in range(1, n + 1)}
    assert got == n and set(numbers) == expected, f"{got} of {n} lines; missing {sorted(expected - set(numbers))[:10]}"
    assert max(numbers.values()) == 1, [k for k, v in numbers.items() if v > 1][:10]


def _pem_files(deployed_lab, tmp_path, host) -> tuple[str, str]:
    """The host's certificate and key (pki role), copied to a private temporary folder."""
    fqdn = deployed_lab.province.fqdn(host)
    paths = []
    for ext in ("crt", "key"):
        pem = deployed_lab.lab.ssh(host.name, f"cat /etc/ssl/provision/{fqdn}.{ext}", check=True).stdout
        f = tmp_path / f"{host.name}.{ext}"
        f.touch(mode=0o600)
        f.write_text(pem)
        paths.append(str(f))
    return paths[0], paths[1]


def _foreign(tmp_path, fqdn: str) -> tuple[str, str]:
    """A certificate for the same name from a CA that is not the province's (self-signed)."""
    crt, key = tmp_path / "foreign.crt", tmp_path / "foreign.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", f"/CN={fqdn}", "-addext", f"subjectAltName=DNS:{fqdn}", "-days", "1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return str(crt), str(key)


def _send(deployed_lab, store: dict, cert: tuple[str, str] | None, hostname: str, text: str) -> str:
    """One RFC 5424 message (octet-counted) to the center's listener: what happened, for the message."""
    center = deployed_lab.center
    ctx = ssl.create_default_context(cadata=ca.provincial_ca(deployed_lab.province))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert:
        ctx.load_cert_chain(*cert)
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    msg = f"<14>1 {stamp} {hostname} provision-test - - - {text}".encode()
    try:
        with socket.create_connection((center.address, store["port"]), timeout=10) as raw, \
                ctx.wrap_socket(raw, server_hostname=deployed_lab.province.fqdn(center)) as s:
            s.sendall(str(len(msg)).encode() + b" " + msg)
            s.settimeout(5)
            try:
                return "closed by the center" if s.recv(1) == b"" else "answered"
            except TimeoutError:
                return "kept open"
    except (ssl.SSLError, OSError) as e:
        return f"{type(e).__name__}: {e}"


def test_only_senders_with_a_province_certificate_are_heard(deployed_lab, store, tmp_path):
    unit = deployed_lab.units[1]
    name = store["names"][unit.name]
    token = f"peer{time.monotonic_ns()}"
    refused = {"none": _send(deployed_lab, store, None, name, f"{token} without-certificate"),
               "foreign": _send(deployed_lab, store, _foreign(tmp_path, deployed_lab.province.fqdn(unit)), name,
                                f"{token} foreign-ca")}
    heard = _send(deployed_lab, store, _pem_files(deployed_lab, tmp_path, unit), name, f"{token} province-ca")
    assert _wait_for(deployed_lab, store, name, f"{token} province-ca", 1) == 1, heard
    # The province's certificate was heard; the other two, sent before it, never were.
    assert _count(deployed_lab, store, name, token) == 1, (refused, _lines(deployed_lab, store, name, token))


def _handshake(deployed_lab, store: dict, cert: tuple[str, str], *options: str) -> tuple[bool, str]:
    center = deployed_lab.center
    ca_file = ca.ca_file(deployed_lab.province)
    r = subprocess.run(["openssl", "s_client", "-connect", f"{center.address}:{store['port']}",
                        "-servername", deployed_lab.province.fqdn(center), "-CAfile", str(ca_file),
                        "-verify_return_error", "-cert", cert[0], "-key", cert[1], *options],
                       input=b"", capture_output=True, timeout=30)
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    return r.returncode == 0 and "Cipher is (NONE)" not in out and "New, " in out, out


def test_the_listener_takes_tls_1_2_and_refuses_1_0_and_1_1(deployed_lab, store, tmp_path):
    cert = _pem_files(deployed_lab, tmp_path, deployed_lab.units[0])
    ok, out = _handshake(deployed_lab, store, cert, "-tls1_2")
    assert ok and "New, TLSv1.2" in out, out[-600:]
    for flag in ("-tls1", "-tls1_1"):
        ok, out = _handshake(deployed_lab, store, cert, flag, "-cipher", "DEFAULT:@SECLEVEL=0")
        assert not ok, f"{flag} accepted: {out[-600:]}"
