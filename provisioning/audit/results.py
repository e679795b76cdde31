"""Write an audit's results: audit.json (the record, schema in README.md), audit.csv (one row per host,
UTF-8 with BOM so Excel on Vietnamese Windows shows the diacritics) and audit.html (per-unit summary,
per-host detail, heterogeneity of each unit). Reports are Vietnamese by default, English with lang="en".

Secrets never reach these files: results hold facts and checks only, and `to_plain` masks SecretStr.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..render import i18n
from ..render.console import to_plain
from ..render.csv import to_csv
from ..render.files import write_text
from ..render.html import render_html
from .runner import SCHEMA, AuditReport

TEMPLATES = Path(__file__).with_name("templates")

i18n.register({
    "audit.title": {"vi": "Kết quả rà soát hạ tầng mạng LAN các đơn vị", "en": "Audit of the units' LAN hardware"},
    "audit.subtitle": {"vi": "{province} · lượt rà soát {run} · chuẩn tối thiểu: {baseline}",
                       "en": "{province} · run {run} · baseline: {baseline}"},
    "audit.summary": {"vi": "Tổng hợp theo đơn vị", "en": "Summary per unit"},
    "audit.heterogeneity": {"vi": "Mức độ đồng bộ thiết bị của từng đơn vị",
                            "en": "How uniform each unit's machines are"},
    "audit.heterogeneity_hint": {
        "vi": "Số cấu hình khác nhau (CPU, RAM, hệ điều hành) trên tổng số máy đã rà soát; càng ít càng đồng bộ.",
        "en": "Distinct configurations (CPU, RAM, OS) among the audited machines; fewer means more uniform."},
    "audit.details": {"vi": "Chi tiết từng máy", "en": "Detail per host"},
    "audit.chart": {"vi": "Tỷ lệ máy đạt chuẩn tối thiểu theo đơn vị (%)",
                    "en": "Hosts meeting the baseline per unit (%)"},
    "audit.compliant_pct": {"vi": "Tỷ lệ đạt", "en": "Compliant"},
    "audit.hosts": {"vi": "Số máy", "en": "Hosts"},
    "audit.audited": {"vi": "Đã rà soát", "en": "Audited"},
    "audit.compliant": {"vi": "Đạt chuẩn", "en": "Compliant"},
    "audit.not_audited": {"vi": "Chưa rà soát được", "en": "Not audited"},
    "audit.configs": {"vi": "Số cấu hình khác nhau", "en": "Distinct configurations"},
    "audit.cpu": {"vi": "CPU", "en": "CPU"},
    "audit.ram": {"vi": "RAM", "en": "RAM"},
    "audit.os": {"vi": "Hệ điều hành", "en": "Operating system"},
    "audit.net_models": {"vi": "Thiết bị mạng", "en": "Network devices"},
    "audit.check": {"vi": "Tiêu chí", "en": "Check"},
    "audit.expected": {"vi": "Yêu cầu", "en": "Expected"},
    "audit.actual": {"vi": "Thực tế", "en": "Actual"},
    "audit.result": {"vi": "Kết quả", "en": "Result"},
    "audit.why": {"vi": "Lý do", "en": "Why"},
    "audit.required": {"vi": "bắt buộc", "en": "required"},
    "audit.recommended": {"vi": "khuyến nghị", "en": "recommended"},
    "audit.missing": {"vi": "không đọc được", "en": "missing"},
    "audit.facts": {"vi": "Thông tin thu thập", "en": "Collected facts"},
    "audit.duration": {"vi": "Thời gian rà soát: {s} giây, {n} máy", "en": "Audit time: {s} s, {n} hosts"},
    "col.unit_code": {"vi": "Mã đơn vị", "en": "Unit code"},
    "col.unit": {"vi": "Đơn vị", "en": "Unit"},
    "col.host": {"vi": "Tên máy", "en": "Host"},
    "col.role": {"vi": "Loại", "en": "Role"},
    "col.address": {"vi": "Địa chỉ", "en": "Address"},
    "col.status": {"vi": "Trạng thái", "en": "Status"},
    "col.reason": {"vi": "Lý do", "en": "Reason"},
    "col.grade": {"vi": "Đánh giá", "en": "Grade"},
    "col.checks": {"vi": "Tiêu chí đạt", "en": "Checks passed"},
    "col.failed": {"vi": "Tiêu chí không đạt", "en": "Failed checks"},
    "col.vendor": {"vi": "Hãng", "en": "Vendor"},
    "col.model": {"vi": "Model", "en": "Model"},
    "col.serial": {"vi": "Số sê-ri", "en": "Serial"},
    "col.cpu_model": {"vi": "CPU", "en": "CPU"},
    "col.cpu_cores": {"vi": "Số lõi CPU", "en": "CPU cores"},
    "col.ram_mb": {"vi": "RAM (MB)", "en": "RAM (MB)"},
    "col.disk_total_gb": {"vi": "Tổng dung lượng đĩa (GB)", "en": "Disk total (GB)"},
    "col.root_free_gb": {"vi": "Còn trống / (GB)", "en": "Free on / (GB)"},
    "col.os": {"vi": "Hệ điều hành / phần mềm", "en": "OS / software"},
    "col.kernel": {"vi": "Nhân", "en": "Kernel"},
    "col.ipv4": {"vi": "IPv4", "en": "IPv4"},
    "col.uptime_days": {"vi": "Thời gian chạy (ngày)", "en": "Uptime (days)"},
    "col.config_saved": {"vi": "Cấu hình đã lưu", "en": "Config saved"},
    "col.interfaces_up": {"vi": "Cổng đang lên", "en": "Ports up"},
    "col.vlan_count": {"vi": "Số VLAN", "en": "VLANs"},
    "status.audited": {"vi": "Đã rà soát", "en": "Audited"},
    "status.unreachable": {"vi": "Không kết nối được", "en": "Unreachable"},
    "status.auth_failed": {"vi": "Sai thông tin đăng nhập", "en": "Authentication failed"},
    "status.timeout": {"vi": "Quá thời gian chờ", "en": "Timed out"},
    "status.unsupported": {"vi": "Chưa hỗ trợ", "en": "Not supported yet"},
    "grade.pass": {"vi": "Đạt", "en": "Pass"},
    "grade.warn": {"vi": "Đạt, có khuyến nghị", "en": "Pass with advice"},
    "grade.fail": {"vi": "Không đạt", "en": "Fail"},
    "role.server": {"vi": "Máy chủ", "en": "Server"},
    "role.workstation": {"vi": "Máy trạm", "en": "Workstation"},
    "role.switch": {"vi": "Bộ chuyển mạch", "en": "Switch"},
    "role.router": {"vi": "Bộ định tuyến", "en": "Router"},
})

FACT_LABELS = {
    "hostname": ("Tên máy", "Host name"), "vendor": ("Hãng", "Vendor"), "model": ("Model", "Model"),
    "serial": ("Số sê-ri", "Serial number"), "cpu_model": ("Loại CPU", "CPU model"),
    "cpu_cores": ("Số lõi CPU", "CPU cores"), "ram_mb": ("RAM (MB)", "RAM (MB)"),
    "disk_total_gb": ("Tổng dung lượng đĩa (GB)", "Total disk (GB)"),
    "root_free_gb": ("Dung lượng trống phân vùng gốc (GB)", "Free space on / (GB)"),
    "var_free_gb": ("Dung lượng trống cho /var (GB)", "Free space for /var (GB)"),
    "os_id": ("Bản phân phối", "Distribution"), "os_name": ("Hệ điều hành", "Operating system"),
    "os_version": ("Phiên bản", "Version"), "os_version_major": ("Phiên bản chính", "Major version"),
    "kernel": ("Nhân Linux", "Kernel"), "arch": ("Kiến trúc", "Architecture"),
    "nic_count": ("Số card mạng", "Network cards"), "nic_max_speed_mbps": ("Tốc độ card mạng (Mb/s)", "NIC speed (Mb/s)"),
    "uptime_s": ("Thời gian chạy (giây)", "Uptime (s)"), "uptime_days": ("Thời gian chạy (ngày)", "Uptime (days)"),
    "interfaces_up": ("Số cổng đang lên", "Ports up"), "interfaces_down": ("Số cổng không hoạt động", "Ports down"),
    "vlan_count": ("Số VLAN", "VLANs"), "config_saved": ("Cấu hình đã được lưu", "Configuration saved"),
    "config_unsaved_lines": ("Số dòng cấu hình chưa lưu", "Unsaved configuration lines"),
    "running_config_sha256": ("Mã băm cấu hình", "Configuration hash"),
}
i18n.register({f"fact.{k}": {"vi": vi, "en": en} for k, (vi, en) in FACT_LABELS.items()})

CSV_COLUMNS = ("unit_code", "unit", "host", "role", "address", "status", "reason", "grade", "checks", "failed",
               "vendor", "model", "serial", "cpu_model", "cpu_cores", "ram_mb", "disk_total_gb", "root_free_gb",
               "os", "kernel", "ipv4", "uptime_days", "config_saved", "interfaces_up", "vlan_count")
# RAM as bought (MemTotal reads a little below the installed size): upper bound in MB -> label.
RAM_BUCKETS = ((1900, "< 2 GB"), (3800, "2–4 GB"), (7600, "4–8 GB"), (15200, "8–16 GB"), (None, "≥ 16 GB"))


def ram_bucket(mb: int | None) -> str | None:
    if mb is None:
        return None
    return next(label for top, label in RAM_BUCKETS if top is None or mb < top)


def report_data(report: AuditReport | dict) -> dict[str, Any]:
    """The JSON-ready record (what audit.json holds)."""
    return to_plain(report) if not isinstance(report, dict) else report


def load_json(path: str | Path) -> dict[str, Any]:
    """Read an audit.json (or the run folder holding one); BadInput if it is not an audit record."""
    p = Path(path)
    if p.is_dir():
        p = p / "audit.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{p}: no such audit result") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInput(f"{p}: not an audit.json ({e})") from None
    if not isinstance(data, dict) or data.get("run", {}).get("schema") != SCHEMA:
        raise BadInput(f"{p}: not an audit.json of schema {SCHEMA}")
    return data


def _fmt(value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return i18n.fmt_bool(value, lang)
    if isinstance(value, float):
        return i18n.fmt_number(value, lang, 1)
    if isinstance(value, int):
        return i18n.fmt_number(value, lang)
    return str(value)


def _os_text(f: dict) -> str | None:
    if f.get("os_name"):
        return f["os_name"]
    if f.get("os_version"):
        return " ".join(x for x in (f.get("vendor"), f["os_version"]) if x)
    return None


def csv_rows(data: dict, lang: str) -> list[list[Any]]:
    names = {u["unit"]: u["name"] for u in data["units"]}
    rows = []
    for h in data["hosts"]:
        f = h.get("facts") or {}
        checks = h.get("checks") or []
        ipv4 = [a.split("/")[0] for n in f.get("nics") or [] for a in n.get("ipv4") or []]
        row = {
            "unit_code": h["unit"], "unit": names.get(h["unit"], h["unit"]), "host": h["host"],
            "role": i18n.t(f"role.{h['role']}", lang), "address": h["address"],
            "status": i18n.t(f"status.{h['status']}", lang), "reason": h.get("reason") or "",
            "grade": i18n.t(f"grade.{h['grade']}", lang) if h.get("grade") else "",
            "checks": f"{sum(c['passed'] for c in checks)}/{len(checks)}" if h["status"] == "audited" else "",
            "failed": "; ".join(i18n.t(f"fact.{c['name']}", lang) for c in checks if not c["passed"]),
            "os": _os_text(f), "ipv4": " ".join(ipv4),
            "config_saved": ("" if f.get("config_saved") is None else i18n.fmt_bool(f["config_saved"], lang)),
        }
        rows.append([row.get(c, f.get(c)) for c in CSV_COLUMNS])
    return rows


def heterogeneity(data: dict) -> list[dict[str, Any]]:
    """Per unit: distribution of CPU model, RAM size class and OS over its audited PCs and servers, the
    number of distinct (CPU, RAM, OS) configurations, and the network device models."""
    out = []
    for u in data["units"]:
        hosts = [h for h in data["hosts"] if h["unit"] == u["unit"] and h["status"] == "audited"]
        pcs = [h["facts"] for h in hosts if h["role"] in ("server", "workstation")]
        net = [h["facts"] for h in hosts if h["role"] in ("switch", "router")]
        cpu = Counter(f.get("cpu_model") or "?" for f in pcs)
        ram = Counter(ram_bucket(f.get("ram_mb")) or "?" for f in pcs)
        os_ = Counter(f.get("os_name") or "?" for f in pcs)
        configs = {(f.get("cpu_model"), ram_bucket(f.get("ram_mb")), f.get("os_name")) for f in pcs}
        out.append({"unit": u["unit"], "name": u["name"], "machines": len(pcs), "configs": len(configs),
                    "cpu": cpu.most_common(), "ram": sorted(ram.items(), key=lambda kv: _ram_order(kv[0])),
                    "os": os_.most_common(),
                    "net": Counter(" ".join(x for x in (f.get("vendor"), f.get("model")) if x) or "?"
                                   for f in net).most_common()})
    return out


def _ram_order(label: str) -> int:
    labels = [lbl for _, lbl in RAM_BUCKETS]
    return labels.index(label) if label in labels else len(labels)


def render_report_html(data: dict, lang: str) -> str:
    units = data["units"]
    names = {u["unit"]: u["name"] for u in units}
    by_unit = [(u, [h for h in data["hosts"] if h["unit"] == u["unit"]]) for u in units]
    ctx = {
        "title": i18n.t("audit.title", lang), "run": data["run"], "totals": data["totals"], "units": units,
        "by_unit": by_unit, "names": names, "het": heterogeneity(data),
        "fmt": lambda v: _fmt(v, lang), "ram_bucket": ram_bucket,
    }
    return render_html("audit.html.j2", ctx, lang=lang, search_path=[TEMPLATES])


def write_all(report: AuditReport, out_dir: Path, lang: str = i18n.DEFAULT_LANG) -> dict[str, Path]:
    """audit.json, audit.csv and audit.html in `out_dir`. All three are rendered before the first is
    written, so a rendering error leaves no partial run folder behind."""
    i18n.check_lang(lang)
    data = report_data(report)
    texts = {"json": json.dumps(data, ensure_ascii=False, indent=2) + "\n",
             "csv": to_csv([i18n.t(f"col.{c}", lang) for c in CSV_COLUMNS], csv_rows(data, lang)),
             "html": render_report_html(data, lang)}
    return {kind: write_text(out_dir / f"audit.{kind}", text, bom=(kind == "csv")) for kind, text in texts.items()}
