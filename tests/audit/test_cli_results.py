"""`provision audit` as an operator runs it: outputs (JSON schema, CSV in Excel, HTML in vi/en), history
folders, exit codes, bad input with nothing written, secrets kept out, and `provision audit diff`."""
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.cli import main
from audit_fakes import PASSWORD, SW_ENABLE, SW_PASSWORD, FakeFleet, SilentListener, Switches, write_inventory

ROOT = Path(__file__).resolve().parents[2]


def provision(*args, data: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("provision")
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "PROVISION_DATA": str(data), "COLUMNS": "200"})


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    with FakeFleet(8) as fleet, Switches(1, tmp) as sw:
        linux = {p["hostname"]: port for p, port in zip(fleet.profiles, fleet.ports)}
        inv = write_inventory(tmp / "tinh", linux, {"sw000": sw.ports[0]}, extra={
            "pc-windows": {"group": "workstations", "ansible_host": "127.0.0.1", "ansible_port": 9,
                           "os_family": "windows"}}, host_pub=fleet.host_pub, switch_pub=sw.host_pub)
        yield {"tmp": tmp, "inv": inv, "fleet": fleet, "data": tmp / "var"}


def run_dirs(data: Path) -> list[Path]:
    d = data / "tinh" / "audit"
    return sorted(d.iterdir()) if d.exists() else []


def test_audit_writes_dated_history_with_json_csv_html(setup):
    r = provision("audit", "-i", setup["inv"], data=setup["data"])
    assert r.returncode == 0, r.stderr
    runs = run_dirs(setup["data"])
    assert len(runs) == 1 and (runs[0] / "audit.json").exists()
    data = json.loads((runs[0] / "audit.json").read_text(encoding="utf-8"))
    assert data["run"]["schema"] == "provision-audit/1" and data["run"]["id"] == runs[0].name
    assert set(data) == {"run", "units", "hosts", "totals"}
    assert data["totals"]["hosts"] == 10
    by = {h["host"]: h for h in data["hosts"]}
    assert by["pc-windows"]["status"] == "unsupported" and by["pc-windows"]["grade"] is None
    assert by["sw000"]["facts"]["config_saved"] is True
    for h in data["hosts"]:
        assert set(h) == {"host", "unit", "role", "address", "status", "reason", "reason_code", "reason_params",
                          "facts", "checks", "grade", "duration_s", "host_key"}
    for u in data["units"]:
        assert u["hosts"] == sum(u["statuses"].values())
        assert u["percent"] == round(100 * u["compliant"] / u["hosts"], 1)
    # nothing secret in any output or on the terminal
    for f in runs[0].iterdir():
        text = xlsx_text(f) if f.suffix == ".xlsx" else f.read_text(encoding="utf-8-sig")
        for secret in (PASSWORD, SW_PASSWORD, SW_ENABLE):
            assert secret not in text, f.name
    assert PASSWORD not in r.stdout + r.stderr

    # a second run the same month goes into its own folder: history accumulates
    r2 = provision("audit", "-i", setup["inv"], "--limit", "sw000", "--json", data=setup["data"])
    assert r2.returncode == 0, r2.stderr
    assert len(run_dirs(setup["data"])) == 2
    assert [h["host"] for h in json.loads(r2.stdout)["hosts"]] == ["sw000"]


def test_csv_opens_in_excel_with_vietnamese_intact(setup, tmp_path):
    out = tmp_path / "out"
    assert provision("audit", "-i", setup["inv"], "--out", out, data=setup["data"]).returncode == 0
    raw = (out / "audit.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")   # the BOM that makes Excel read UTF-8
    assert b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header = rows[0]
    assert header[:3] == ["Mã đơn vị", "Đơn vị", "Tên máy"]
    names = {r[1] for r in rows[1:]}
    assert "Trung tâm Tích hợp dữ liệu tỉnh" in names
    assert len(rows) == 1 + 10 and all(len(r) == len(header) for r in rows)
    win = next(r for r in rows if r[2] == "pc-windows")
    assert win[header.index("Trạng thái")] == "Chưa hỗ trợ"
    assert win[header.index("Lý do")].startswith("Máy Windows: chưa có bộ thu thập")
    import unicodedata
    assert raw.decode("utf-8-sig") == unicodedata.normalize("NFC", raw.decode("utf-8-sig"))


def xlsx_text(path) -> str:
    """Every cell of a workbook, as text."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)


def test_xlsx_has_units_uniformity_and_hosts_in_either_language(setup, tmp_path):
    from openpyxl import load_workbook

    for lang, sheets in (("vi", ["Theo đơn vị", "Đồng bộ thiết bị", "Từng máy"]),
                         ("en", ["Per unit", "Uniformity", "Per host"])):
        out = tmp_path / lang
        assert provision("audit", "-i", setup["inv"], "--out", out, "--lang", lang, data=setup["data"]).returncode == 0
        data = json.loads((out / "audit.json").read_text(encoding="utf-8"))
        wb = load_workbook(out / "audit.xlsx")
        assert wb.sheetnames == sheets
        units, uniform, hosts = (list(ws.iter_rows(values_only=True)) for ws in wb)
        # per unit: title, blank, header, one row per unit, the total, then the run's note
        header = units[2]
        table = units[3:3 + len(data["units"]) + 1]
        assert [r[0] for r in table[:-1]] == [u["unit"] for u in data["units"]]
        assert table[-1][2] == data["totals"]["hosts"] == 10
        pct = header.index("Tỷ lệ đạt" if lang == "vi" else "% compliant")
        assert table[-1][pct] == pytest.approx(data["totals"]["percent"] / 100)
        assert wb[sheets[0]].cell(row=4 + len(data["units"]), column=pct + 1).number_format == "0.0%"
        # uniformity: a row per unit, CPU models with counts
        cpus = {p["cpu_model"] for p in setup["fleet"].profiles}
        assert any(c and any(f"{m} × " in c for m in cpus) for r in uniform[3:] for c in r if isinstance(c, str))
        # per host: the CSV's rows, same header, Vietnamese intact (NFC)
        csv_rows = list(csv.reader(io.StringIO((out / "audit.csv").read_text(encoding="utf-8-sig"), newline="")))
        assert list(hosts[2]) == csv_rows[0]
        assert [r[2] for r in hosts[3:3 + 10]] == [r[2] for r in csv_rows[1:]]
    assert "Trung tâm Tích hợp dữ liệu tỉnh" in xlsx_text(tmp_path / "vi" / "audit.xlsx")


def test_html_vietnamese_by_default_english_on_request(setup, tmp_path):
    assert provision("audit", "-i", setup["inv"], "--out", tmp_path / "vi", data=setup["data"]).returncode == 0
    assert provision("audit", "-i", setup["inv"], "--out", tmp_path / "en", "--lang", "en",
                     data=setup["data"]).returncode == 0
    vi = (tmp_path / "vi" / "audit.html").read_text(encoding="utf-8")
    en = (tmp_path / "en" / "audit.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in vi and "Mức độ đồng bộ thiết bị" in vi and "Tỷ lệ đạt" in vi
    assert '<html lang="en">' in en and "How uniform each unit" in en and "Sở Nội vụ" in en
    assert "một trong: x86_64, aarch64" in vi and "one of: x86_64, aarch64" in en
    # the heterogeneity view lists each unit's CPU models with counts
    cpus = {p["cpu_model"] for p in setup["fleet"].profiles}
    assert any(f"{c} × " in vi for c in cpus)
    assert "<script" not in vi and "http://" not in vi.replace("http://www.w3.org/2000/svg", "")


def test_fail_under_and_bad_input_exit_codes(setup, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PROVISION_DATA", str(setup["data"]))
    r = provision("audit", "-i", setup["inv"], "--fail-under", "100", "--out", tmp_path / "a", data=setup["data"])
    assert r.returncode == 1 and "thấp hơn mức --fail-under 100%" in r.stdout      # Vietnamese by default
    r = provision("audit", "-i", setup["inv"], "--fail-under", "100", "--lang", "en", "--out", tmp_path / "en",
                  data=setup["data"])
    assert r.returncode == 1 and "is below --fail-under 100%" in r.stdout
    assert provision("audit", "-i", setup["inv"], "--fail-under", "0", "--out", tmp_path / "b",
                     data=setup["data"]).returncode == 0

    before = run_dirs(setup["data"])
    bad = tmp_path / "baseline.yml"
    bad.write_text("roles:\n  workstation:\n    ram_mb: '=>4096'\n", encoding="utf-8")
    bad_range = tmp_path / "range.yml"
    bad_range.write_text("roles:\n  server:\n    cpu_cores: {range: 5}\n", encoding="utf-8")
    for args, needle in (
        (("--limit", "000.99.99.H09"), "matches no unit code"),
        (("--baseline", bad), "roles.workstation.ram_mb: unknown operator '=>'"),
        (("--baseline", tmp_path / "none.yml"), "baseline file not found"),
        (("--baseline", bad_range), "roles.server.cpu_cores.range: a range is 'A-B', [min, max] or"),
        (("--lang", "fr"), "--lang 'fr'"),
        (("--workers", "0"), "--workers 0: must be between 1 and 500"),
        (("--timeout", "0.1"), "--timeout 0.1"),
        (("--fail-under", "101"), "--fail-under 101"),
    ):
        # in-process (same entry point as the console script): nine interpreter starts are slow in CI
        rc = main(["audit", "-i", str(setup["inv"]), *map(str, args)])
        err = capsys.readouterr().err
        assert rc == 2, (args, err)
        assert needle in " ".join(err.split()), (args, err)
    assert run_dirs(setup["data"]) == before   # nothing written on bad input


def test_diff_shows_added_removed_grade_and_fact_changes(setup, tmp_path):
    fleet, inv = setup["fleet"], setup["inv"]
    saved = dict(fleet.profiles[0])
    # h000 (the center's server, on Debian 13) is fine except for its 2 GB of RAM
    fleet.profiles[0].update(cpu_cores=2, ram_mb=2048, root_free_gb=40, disk_gb=250, os_id="debian",
                             os_version="13", os_name="Debian GNU/Linux 13 (trixie)", arch="x86_64")
    old, new = tmp_path / "old", tmp_path / "new"
    new_inv = tmp_path / "tinh"
    try:
        assert provision("audit", "-i", inv, "--out", old, data=setup["data"]).returncode == 0
        # a month later: h000's RAM was upgraded, a PC left the inventory, a new one arrived
        fleet.profiles[0]["ram_mb"] = 16384
        new_inv.mkdir()
        (new_inv / "province.yml").write_text((inv / "province.yml").read_text(encoding="utf-8"), encoding="utf-8")
        (new_inv / "hosts.yml").write_text((inv / "hosts.yml").read_text(encoding="utf-8").replace("h007:", "h099:"),
                                           encoding="utf-8")
        assert provision("audit", "-i", new_inv, "--out", new, data=setup["data"]).returncode == 0
    finally:
        fleet.profiles[0].clear()
        fleet.profiles[0].update(saved)
    r = provision("audit", "diff", old, new, "--json", data=setup["data"])
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["added"] == ["h099"] and d["removed"] == ["h007"]
    assert {"host": "h000", "fact": "ram_mb", "old": 2048, "new": 16384} in d["facts"]
    assert {"host": "h000", "unit": "000.01.01.H09", "old": "audited/fail", "new": "audited/pass"} in d["changed"]
    center = next(u for u in d["units"] if u["unit"] == "000.01.01.H09")
    assert (center["old_percent"], center["new_percent"]) == (0.0, 100.0)
    # facts that move by themselves are not reported as changes
    assert [f["host"] for f in d["facts"]] == ["h000"]
    text = provision("audit", "diff", old, new, data=setup["data"])
    assert text.returncode == 0 and "h099" in text.stdout and "ram_mb" in text.stdout
    # the network admin reads it in Vietnamese by default: labels, statuses and grades, decimal comma
    vi = " ".join(text.stdout.split())   # table titles wrap to the table's width
    assert "Máy thêm mới / không còn" in vi and "RAM (MB) [ram_mb]" in vi
    assert "Đã rà soát/Không đạt" in vi and "Đã rà soát/Đạt" in vi
    en = provision("audit", "diff", old, new, "--lang", "en", data=setup["data"])
    en_text = " ".join(en.stdout.split())
    assert en.returncode == 0 and "Hosts added / removed" in en_text and "Audited/Fail" in en_text
    assert provision("audit", "diff", old, new, "--lang", "fr", data=setup["data"]).returncode == 2
    # without arguments: the two latest runs of the inventory's history
    for _ in range(2):
        assert provision("audit", "-i", setup["inv"], "--limit", "h001", data=setup["data"]).returncode == 0
    latest = provision("audit", "diff", "-i", setup["inv"], "--json", data=setup["data"])
    runs = run_dirs(setup["data"])
    assert latest.returncode == 0 and json.loads(latest.stdout)["new_run"] == runs[-1].name
    assert json.loads(latest.stdout)["old_run"] == runs[-2].name
    bad = provision("audit", "diff", old, tmp_path / "nothing", data=setup["data"])
    assert bad.returncode == 2 and "no such audit result" in bad.stderr


def test_province_audit_section_sets_defaults_and_is_validated(setup, tmp_path):
    import yaml
    inv = tmp_path / "tinh"
    inv.mkdir()
    (inv / "hosts.yml").write_text((setup["inv"] / "hosts.yml").read_text(encoding="utf-8"), encoding="utf-8")
    prov = yaml.safe_load((setup["inv"] / "province.yml").read_text(encoding="utf-8"))
    # a province that only cares about RAM, set in its own baseline next to the inventory
    (inv / "tinh-baseline.yml").write_text("roles:\n  workstation:\n    ram_mb: '>=1'\n", encoding="utf-8")
    prov["audit"] = {"baseline": "tinh-baseline.yml", "timeout": 5}
    (inv / "province.yml").write_text(yaml.safe_dump(prov, allow_unicode=True), encoding="utf-8")
    r = provision("audit", "-i", inv, "--json", "--out", tmp_path / "o", data=setup["data"])
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["run"]["baseline"].endswith("tinh-baseline.yml") and data["run"]["timeout_s"] == 5
    assert all(h["grade"] == "pass" for h in data["hosts"] if h["role"] == "workstation" and h["grade"])
    assert all(not h["checks"] for h in data["hosts"] if h["role"] == "server")   # no server rules: nothing graded
    prov["audit"] = {"basline": "x.yml"}
    (inv / "province.yml").write_text(yaml.safe_dump(prov, allow_unicode=True), encoding="utf-8")
    r = provision("audit", "-i", inv, data=setup["data"])
    assert r.returncode == 2 and "audit.basline: unknown key" in r.stderr


def test_a_host_cut_off_at_its_deadline_is_a_status_not_a_traceback(setup, tmp_path):
    with SilentListener() as silent:
        inv = write_inventory(tmp_path / "tinh", {"h000": setup["fleet"].ports[0]}, extra={
            "pc-hung": {"group": "workstations", "ansible_host": "127.0.0.1", "ansible_port": silent.port}},
            host_pub=setup["fleet"].host_pub)
        r = provision("audit", "-i", inv, "--timeout", "1", "--json", "--out", tmp_path / "o", data=setup["data"])
    assert r.returncode == 0, r.stderr
    assert {h["host"]: h["status"] for h in json.loads(r.stdout)["hosts"]} == {"h000": "audited", "pc-hung": "timeout"}
    assert "Traceback" not in r.stderr and "Exception" not in r.stderr
