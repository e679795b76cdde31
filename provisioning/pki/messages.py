"""Texts of `provision pki` (Vietnamese first, English with --lang en)."""
from ..render.i18n import register

register({
    "pki.status.title": {"vi": "Chứng thư số do CA nội bộ của tỉnh cấp: {province}",
                         "en": "Certificates issued by the provincial CA: {province}"},
    "pki.col.host": {"vi": "Máy chủ", "en": "Server"},
    "pki.col.serial": {"vi": "Số hiệu", "en": "Serial"},
    "pki.col.expires": {"vi": "Hết hạn", "en": "Expires"},
    "pki.col.state": {"vi": "Trạng thái", "en": "State"},
    "pki.col.current": {"vi": "Đang dùng", "en": "Current"},
    "pki.col.revoked_at": {"vi": "Thu hồi lúc", "en": "Revoked at"},
    "pki.col.reason": {"vi": "Lý do", "en": "Reason"},
    "pki.state.valid": {"vi": "còn hiệu lực", "en": "valid"},
    "pki.state.revoked": {"vi": "ĐÃ THU HỒI", "en": "REVOKED"},
    "pki.state.expired": {"vi": "hết hạn", "en": "expired"},
    "pki.yes": {"vi": "có", "en": "yes"},
    "pki.crl": {"vi": "Danh sách thu hồi (CRL) {url}: số {number}, {revoked} chứng thư bị thu hồi, "
                      "cập nhật {this_update}, lần cập nhật tiếp theo (nextUpdate) {next_update}, {state}.",
                "en": "Revocation list (CRL) {url}: number {number}, {revoked} revoked, issued {this_update}, "
                      "nextUpdate {next_update}, {state}."},
    "pki.crl.none": {"vi": "Chưa có danh sách thu hồi (CRL): chạy provision deploy.",
                     "en": "No revocation list (CRL) yet: run provision deploy."},
    "pki.crl.state.ok": {"vi": "hợp lệ", "en": "current"},
    "pki.crl.state.due": {"vi": "sắp hết hạn, cần ký lại (provision pki crl)",
                          "en": "due for renewal (provision pki crl)"},
    "pki.crl.state.changed": {"vi": "thiếu chứng thư vừa thu hồi (provision pki crl)",
                              "en": "misses a revocation (provision pki crl)"},
    "pki.crl.state.unpublished": {"vi": "chưa được công bố (provision pki crl)",
                                  "en": "not published (provision pki crl)"},
    "pki.crl.state.other-ca": {"vi": "KHÔNG do CA của tỉnh ký", "en": "NOT signed by the provincial CA"},
    "pki.crl.state.missing": {"vi": "chưa có", "en": "missing"},
    "pki.revoke.done": {"vi": "Đã thu hồi {n} chứng thư của {host} ({serials}), lý do {reason}. "
                              "CRL số {number} đã công bố, nextUpdate {next_update}. "
                              "Lần provision deploy tiếp theo cấp khóa và chứng thư mới cho {host}.",
                        "en": "Revoked {n} certificate(s) of {host} ({serials}), reason {reason}. "
                              "CRL number {number} published, nextUpdate {next_update}. "
                              "The next provision deploy gives {host} a new key and certificate."},
    "pki.revoke.none": {"vi": "{host} không có chứng thư nào còn hiệu lực: không có gì để thu hồi.",
                        "en": "{host} has no valid certificate: nothing to revoke."},
    "pki.crl.signed": {"vi": "Đã ký và công bố CRL số {number} ({state}), nextUpdate {next_update}.",
                       "en": "Signed and published CRL number {number} ({state}), nextUpdate {next_update}."},
    "pki.crl.kept": {"vi": "CRL số {number} vẫn hợp lệ, nextUpdate {next_update}: không ký lại.",
                     "en": "CRL number {number} is current, nextUpdate {next_update}: not re-signed."},
})
