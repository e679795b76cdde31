"""A realistic sample HR roster for a province: Vietnamese names with diacritics (family names in
their real proportions), positions per kind of unit, some officials who do not use a computer,
some leavers, and a few people with the same full name in different units (username clashes).
Deterministic for a given seed; used by the README demo and the benchmark."""
from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from ..model import Province, UnitKind
from ..roster import DEFAULT_HEADERS, FIELDS

# Share of the population (approximate, per common demographic summaries).
FAMILY = [("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Huỳnh", 5), ("Hoàng", 3), ("Phan", 4.5),
          ("Võ", 3.9), ("Vũ", 2), ("Đặng", 2.1), ("Bùi", 2), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3),
          ("Dương", 1), ("Lý", 0.5), ("Trương", 1), ("Đinh", 0.7), ("Lương", 0.4), ("Tạ", 0.3)]
MIDDLE_M = ["Văn", "Minh", "Thanh", "Hữu", "Đức", "Quốc", "Công", "Ngọc", "Tấn", "Thành", "Hoàng", "Quang"]
MIDDLE_F = ["Thị", "Thị", "Thị", "Ngọc", "Thanh", "Thu", "Mỹ", "Kim", "Hồng", "Thùy", "Bích", "Phương"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đức", "Hùng", "Hải", "Hiếu", "Khoa", "Long", "Minh", "Nam", "Phúc",
           "Quân", "Sơn", "Tâm", "Thắng", "Trung", "Tuấn", "Việt", "Vinh", "Lộc", "Nhân", "Bảo", "Đạt"]
GIVEN_F = ["Anh", "Ánh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Mai",
           "Ngân", "Nhung", "Oanh", "Phượng", "Thảo", "Trang", "Tuyết", "Vân", "Yến", "Thủy", "Xuân", "Diệp"]
POSITIONS = {
    UnitKind.department: [("Giám đốc", 1, True), ("Phó Giám đốc", 2, True), ("Chánh Văn phòng", 1, True),
                          ("Trưởng phòng", 4, True), ("Phó Trưởng phòng", 5, True), ("Chuyên viên chính", 8, True),
                          ("Chuyên viên", 30, True), ("Kế toán", 2, True), ("Văn thư", 2, True),
                          ("Lái xe", 2, False), ("Bảo vệ", 2, False), ("Tạp vụ", 1, False)],
    UnitKind.commune: [("Chủ tịch UBND", 1, True), ("Phó Chủ tịch UBND", 2, True), ("Công chức", 14, True),
                       ("Văn thư", 1, True), ("Kế toán", 1, True), ("Bảo vệ", 1, False)],
}
POSITIONS[UnitKind.integration_center] = POSITIONS[UnitKind.department]
POSITIONS[UnitKind.other] = POSITIONS[UnitKind.department]
LEAVING = ["Nghỉ việc", "Nghỉ hưu", "Chuyển công tác"]
CLASH = ("Nguyễn", "Văn", "An")


def _pick(rng: random.Random, weighted):
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def generate(province: Province, count: int, seed: int = 2005, leaver_share: float = 0.04) -> list[dict[str, str]]:
    rng = random.Random(seed)
    units = list(province.units.values())
    rows = []
    for n in range(count):
        unit = units[n % len(units)] if n < len(units) else rng.choice(units)
        female = rng.random() < 0.5
        pos = _pick(rng, [(p, w) for p, w, _ in POSITIONS[unit.kind]])
        computer = next(c for p, _, c in POSITIONS[unit.kind] if p == pos)
        mid = rng.choice(MIDDLE_F if female else MIDDLE_M)
        if rng.random() < 0.15:  # two middle names: Trần Thị Thu Hà
            mid += " " + rng.choice([m for m in (MIDDLE_F if female else MIDDLE_M) if m != mid])
        rows.append({
            "hr_id": f"CB{100000 + n}", "family_name": _pick(rng, FAMILY), "middle_name": mid,
            "given_name": rng.choice(GIVEN_F if female else GIVEN_M), "unit": unit.code, "position": pos,
            "uses_computer": "Có" if computer else "Không",
            "status": rng.choice(LEAVING) if rng.random() < leaver_share else "Đang công tác",
        })
    # A few officials with exactly the same full name in different units: annv, annv2, annv3.
    for i, row in enumerate(rows[: min(3, len(rows))]):
        row.update(family_name=CLASH[0], middle_name=CLASH[1], given_name=CLASH[2], uses_computer="Có",
                   status="Đang công tác", position="Chuyên viên", unit=units[i % len(units)].code)
    return rows


def write(rows: list[dict[str, str]], path: Path) -> Path:
    headers = [DEFAULT_HEADERS[f][0] for f in FIELDS]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Danh sách cán bộ")
        ws.append(headers)
        for r in rows:
            ws.append([r[f] for f in FIELDS])
        wb.save(path)
        return path
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    w.writerows([r[f] for f in FIELDS] for r in rows)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")  # with BOM: Excel opens it as UTF-8
    return path
