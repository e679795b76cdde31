"""Every user-facing text of the audit in Vietnamese and English, in one table: report headings, CSV
columns, statuses, grades, roles, fact labels, and the reasons a host could not be audited.

Reasons are stored in audit.json as a code plus parameters (and the English text), so that CSV and HTML
can explain them in the report's language.
"""
from __future__ import annotations

from ..render import i18n


class HostProblem(Exception):
    """A host that cannot be audited: its status, and a reason code of this table with its parameters."""

    status = "unreachable"

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(i18n.t(f"reason.{code}", "en", **params))


i18n.register({
    "reason.tcp_timeout": {"vi": "Không có phản hồi TCP từ {address}:{port} trong {seconds} giây (máy tắt, sai địa "
                                 "chỉ hoặc bị tường lửa chặn)",
                           "en": "no TCP answer from {address}:{port} within {seconds} s (host off, wrong address "
                                 "or filtered)"},
    "reason.tcp_error": {"vi": "Không kết nối được tới {address}:{port}: {error}",
                         "en": "cannot connect to {address}:{port}: {error}"},
    "reason.ssh_error": {"vi": "Phiên SSH bị lỗi: {error}", "en": "SSH session failed: {error}"},
    "reason.host_key": {"vi": "Khóa máy chủ SSH của {address} không khớp với known_hosts trong danh mục",
                        "en": "host key of {address} is not the one in the inventory's known_hosts"},
    "reason.host_key_unknown": {
        "vi": "Khóa máy chủ SSH của {address} chưa có trong known_hosts của danh mục: chưa gửi gì tới máy; kiểm "
              "tra khóa rồi thêm vào known_hosts (hoặc đặt ssh_first_contact: accept-new cho đơn vị khi kết nối "
              "lần đầu)",
        "en": "host key of {address} is not in the inventory's known_hosts: nothing was sent; check the key and "
              "add it (or set ssh_first_contact: accept-new on the unit for a first contact)"},
    "reason.login_password": {"vi": "Đăng nhập bị từ chối với tài khoản {user!r} (mật khẩu trong danh mục)",
                              "en": "login refused for user {user!r} (password from the inventory)"},
    "reason.login_key": {"vi": "Đăng nhập bị từ chối với tài khoản {user!r} (khóa SSH trong danh mục)",
                         "en": "login refused for user {user!r} (key from the inventory)"},
    "reason.enable": {"vi": "Đăng nhập được với tài khoản {user!r} nhưng mật khẩu enable trong danh mục bị từ chối",
                      "en": "logged in as {user!r} but the enable secret from the inventory was refused"},
    "reason.templated_secret": {
        "vi": "Mật khẩu trong danh mục là biểu thức Ansible ({{ ... }}); lệnh rà soát chỉ dùng giá trị trực tiếp",
        "en": "the inventory's password is an Ansible expression ({{ ... }}); the audit uses literal values only"},
    "reason.key_missing": {"vi": "Không tìm thấy tệp khóa {path}", "en": "key file {path} not found"},
    "reason.silent": {"vi": "Máy nhận kết nối TCP nhưng không trả lời đủ trong {seconds} giây ({error})",
                      "en": "TCP connection accepted but no complete answer within {seconds} s ({error})"},
    "reason.windows": {"vi": "Máy Windows: chưa có bộ thu thập (dự kiến qua WinRM); vẫn liệt kê để đủ số máy của "
                             "đơn vị",
                       "en": "Windows host: no collector yet (planned over WinRM); listed so that the unit's count "
                             "of machines is complete"},
    "reason.device_type": {"vi": "Chưa có bộ thu thập cho loại thiết bị {device_type!r} (đã có: {have})",
                           "en": "no network collector for device_type {device_type!r} yet (have: {have})"},
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
    "audit.sheet_units": {"vi": "Theo đơn vị", "en": "Per unit"},
    "audit.sheet_uniformity": {"vi": "Đồng bộ thiết bị", "en": "Uniformity"},
    "audit.sheet_hosts": {"vi": "Từng máy", "en": "Per host"},
    "audit.chart": {"vi": "Tỷ lệ máy đạt chuẩn tối thiểu theo đơn vị (%)",
                    "en": "Hosts meeting the baseline per unit (%)"},
    "audit.compliant_pct": {"vi": "Tỷ lệ đạt", "en": "% compliant"},
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
    "audit.disk": {"vi": "Đĩa", "en": "Disk"},
    "audit.free": {"vi": "còn trống {free}/{size} GB", "en": "{free} of {size} GB free"},
    "audit.one_of": {"vi": "một trong: {values}", "en": "one of: {values}"},
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
    # the terminal (`provision audit`, `provision audit diff`)
    "audit.cli.units": {"vi": "Rà soát theo đơn vị", "en": "Audit per unit"},
    "audit.cli.name": {"vi": "Tên đơn vị", "en": "Name"},
    "audit.cli.to_look_at": {"vi": "Các máy cần xem xét", "en": "Hosts to look at"},
    "audit.cli.reason_or_failed": {"vi": "Lý do / tiêu chí không đạt", "en": "Reason / failed checks"},
    "audit.cli.totals": {"vi": "{compliant}/{hosts} máy đạt chuẩn tối thiểu ({percent}%), đã rà soát {audited} máy trong "
                         "{seconds} giây",
                   "en": "{compliant}/{hosts} hosts meet the baseline ({percent}%), {audited} audited in {seconds} s"},
    "audit.cli.below": {"vi": "Tỷ lệ đạt {percent}% thấp hơn mức --fail-under {limit}%",
                  "en": "compliance {percent}% is below --fail-under {limit}%"},
    "audit.cli.diff_title": {"vi": "So sánh lượt rà soát {old} -> {new}", "en": "audit {old} -> {new}"},
    "audit.cli.no_changes": {"vi": "Không có thay đổi", "en": "no changes"},
    "audit.cli.added_removed": {"vi": "Máy thêm mới / không còn", "en": "Hosts added / removed"},
    "audit.cli.change": {"vi": "Thay đổi", "en": "Change"},
    "audit.cli.added": {"vi": "thêm mới", "en": "added"},
    "audit.cli.removed": {"vi": "không còn", "en": "removed"},
    "audit.cli.state_changed": {"vi": "Trạng thái hoặc đánh giá thay đổi", "en": "Status or grade changed"},
    "audit.cli.before": {"vi": "Trước", "en": "Before"},
    "audit.cli.now": {"vi": "Nay", "en": "Now"},
    "audit.cli.units_changed": {"vi": "Tỷ lệ đạt của đơn vị thay đổi (%)", "en": "Unit compliance changed (%)"},
    "audit.cli.facts_changed": {"vi": "Thông tin phần cứng, phần mềm thay đổi", "en": "Facts changed"},
    "audit.cli.fact": {"vi": "Thông tin", "en": "Fact"},
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
