"""The console over HTTP (Django's test client, the real directory and mail store): the route x role
matrix, CSRF, session expiry, the login rate limit, uploads, roster -> plan -> apply, officials,
forms and reports, and what reaches the journal."""
from __future__ import annotations

import io
import json
import os
import re
import time
import zipfile

import ldap3
import pytest
from console_env import BASE, PAH, PASSWORD, SNV, STC, VP, login, post, roster_csv, row

from provisioning.accounts import journal, service

MONTH = "2026-11"


def wait_apply(client, plan_url: str) -> str:
    """Poll the progress fragment as the page does (htmx) until it redirects to the result."""
    token = plan_url.rstrip("/").rsplit("/", 1)[1]
    for _ in range(600):
        r = client.get(f"/accounts/plans/{token}/progress")
        if r.status_code == 204:
            return r["HX-Redirect"]
        assert r.status_code == 200
        assert b"<progress" in r.content
        time.sleep(0.1)
    raise AssertionError("apply never finished")


def upload(client, data: bytes, name: str = "roster.csv"):
    f = io.BytesIO(data)
    f.name = name
    return post(client, "/accounts/plan", {"roster": f}, page="/accounts/")


def plan_token(r) -> str:
    m = re.search(r'action="/accounts/plans/([A-Za-z0-9_-]+)/apply"', r.content.decode())
    assert m, r.content.decode()[:2000]
    return m.group(1)


def people(console, filt="(objectClass=inetOrgPerson)") -> dict:
    conn = console.ldap_admin()
    conn.search(f"ou=People,{BASE}", filt, attributes=["uid", "cn", "departmentNumber", "pwdReset", "title"])
    out = {e["attributes"]["uid"][0]: e["attributes"] for e in conn.response if e["type"] == "searchResEntry"}
    conn.unbind()
    return out


def test_healthz_and_login_page(console, clients):
    r = clients["anon"].get("/healthz")
    assert r.status_code == 200 and r.content == b"ok"
    r = clients["anon"].get("/login")
    page = r.content.decode()
    assert r.status_code == 200
    assert 'name="username"' in page and 'name="password"' in page and 'name="csrfmiddlewaretoken"' in page
    assert "Đăng nhập" in page                                   # Vietnamese by default
    csp = r["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert "<script>" not in page and "onclick" not in page       # no inline script anywhere
    assert r.cookies["csrftoken"]["httponly"] and r.cookies["csrftoken"]["samesite"] == "Strict"


def test_htmx_is_served_by_the_console(clients):
    r = clients["anon"].get("/static/console/htmx.min.js")
    assert r.status_code == 200 and b"htmx" in b"".join(r.streaming_content)
    assert clients["anon"].get("/static/console/../../views.py").status_code == 404


ROUTES = {  # GET route -> roles allowed (anon is always sent to /login)
    "/me": {"hr", "admin", "office", "official"},
    "/accounts/": {"hr"},
    "/journal/": {"hr"},
    "/officials/?q=an": {"hr", "admin"},
    "/officials/annv": {"hr", "admin"},          # annv is in Sở Tài chính, binhpv's unit
    "/officials/lantt": {"hr"},                  # lantt is in phường An Hội
    f"/accounts/sheets/{STC}": {"hr", "admin"},
    f"/accounts/sheets/{PAH}": {"hr"},
    "/reports/": {"office"},
    f"/reports/{MONTH}": {"office"},
    f"/units/{STC}/forms/{MONTH}": {"admin", "office"},
    f"/units/{PAH}/forms/{MONTH}": {"office"},
}


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_for_every_role(clients, route):
    for role in ("anon", "official", "hr", "admin", "office"):
        r = clients[role].get(route)
        if role == "anon":
            assert r.status_code == 302 and r["Location"] == "/login", (route, role)
        elif role in ROUTES[route]:
            assert r.status_code == 200, (route, role, r.status_code)
        else:
            assert r.status_code == 403, (route, role, r.status_code)


POSTS = {  # POST route -> roles allowed
    "/officials/lantt/reset-password": {"hr"},
    "/officials/annv/reset-2fa": {"hr"},
    f"/units/{PAH}/forms/{MONTH}": set(),
}


@pytest.mark.parametrize("route", POSTS)
def test_state_changing_routes_refuse_other_roles(clients, route):
    for role in ("anon", "official", "admin", "office"):
        if role in POSTS[route]:
            continue
        r = post(clients[role], route, {"action": "draft"}, page="/login" if role == "anon" else "/me")
        assert r.status_code in (302, 403), (route, role)
        if role == "anon":
            assert r["Location"] == "/login"
        else:
            assert r.status_code == 403, (route, role)


def test_post_without_csrf_token_is_refused(clients, console):
    before = people(console)
    f = io.BytesIO(roster_csv([row("CSRF01", "Hồ", "Văn", "Giang", SNV)]))
    f.name = "r.csv"
    r = clients["hr"].post("/accounts/plan", {"roster": f})
    assert r.status_code == 403
    r = clients["admin"].post("/officials/annv/reset-password")
    assert r.status_code == 403
    r = clients["anon"].post("/login", {"username": "annv", "password": PASSWORD})
    assert r.status_code == 403
    assert people(console) == before


def test_expired_session_goes_back_to_login(console):
    from django.conf import settings
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    login(c, "lantt")
    assert c.get("/me").status_code == 200
    key = c.cookies[settings.SESSION_COOKIE_NAME].value
    assert re.fullmatch(r"[a-z0-9]{32}", key)
    path = os.path.join(settings.SESSION_FILE_PATH, settings.SESSION_COOKIE_NAME + key)
    old = time.time() - 16 * 60                      # past the 15 minutes of idle time
    os.utime(path, (old, old))
    r = c.get("/me")
    assert r.status_code == 302 and r["Location"] == "/login"


def test_idle_time_comes_from_the_province(console, monkeypatch):
    """province.yml `security.console_idle_minutes` decides when an idle session ends (the console's
    clock is moved, not waited for); the console's own settings can only shorten it."""
    from django.test import Client

    from provisioning.console import app, security

    st = app.state()
    prov = console.inventory / "province.yml"
    original = prov.read_text(encoding="utf-8")
    old_ctx = st.ctx
    now = [time.time()]
    monkeypatch.setattr(security, "clock", lambda: now[0])

    def province_idle(minutes: int) -> None:
        prov.write_text(original + f"security:\n  console_idle_minutes: {minutes}\n", encoding="utf-8")
        st.ctx = service.load(console.inventory)   # as a restarted console reads it

    try:
        for minutes in (7, 20):          # shorter and longer than the default (15)
            province_idle(minutes)
            c = Client(enforce_csrf_checks=True)
            login(c, "lantt")
            now[0] += minutes * 60 - 30
            assert c.get("/me").status_code == 200, minutes      # idle just under the limit: still in
            now[0] += minutes * 60 + 30
            r = c.get("/me")                                      # just over it (since the last request)
            assert r.status_code == 302 and r["Location"] == "/login", minutes
        monkeypatch.setattr(st.cfg, "admin_idle_minutes", 5)
        monkeypatch.setattr(st.cfg, "session_idle_minutes", 30)
        assert (st.idle_minutes(False), st.idle_minutes(True)) == (20, 5)
    finally:
        prov.write_text(original, encoding="utf-8")
        st.ctx = old_ctx


def test_login_messages_and_rate_limit_per_user(console):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    r = post(c, "/login", {"username": "khoadv", "password": "wrong-password"})
    assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in r.content.decode()
    for _ in range(4):
        post(c, "/login", {"username": "khoadv", "password": "wrong-password"})
    # the sixth attempt is refused before the directory is asked, even with the right password
    r = post(c, "/login", {"username": "khoadv", "password": PASSWORD})
    assert r.status_code == 429 and "Quá nhiều lần đăng nhập sai" in r.content.decode()
    # another official from the same address is not affected
    other = Client(enforce_csrf_checks=True)
    assert login(other, "lantt").status_code == 302


def test_uploads_that_are_not_rosters_are_refused(clients, console):
    before = people(console)
    r = upload(clients["hr"], b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "roster.xlsx")
    assert r.status_code == 400 and "không phải CSV, XLSX hay XLS" in r.content.decode()
    r = upload(clients["hr"], b"PK\x03\x04 not really a zip", "roster.xlsx")
    assert r.status_code == 400
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * (300 * 1024 * 1024))
    assert len(bomb.getvalue()) < 2 * 1024 * 1024
    r = upload(clients["hr"], bomb.getvalue(), "roster.xlsx")
    assert r.status_code == 400 and "dung lượng giải nén bất thường" in r.content.decode()
    r = upload(clients["hr"], b"a" * (21 * 1024 * 1024), "roster.csv")
    assert r.status_code == 413
    assert people(console) == before


def test_roster_with_errors_lists_them_in_vietnamese_and_writes_nothing(clients, console):
    before = people(console)
    bad = roster_csv([row("ER0001", "Hồ", "Văn", "Giang", "999.99.99.H09"),
                      row("ER0002", "Hồ", "Thị", "Mai", SNV, computer="Chắc"),
                      row("ER0002", "Lý", "", "Tú", SNV)])
    r = upload(clients["hr"], bad)
    page = r.content.decode()
    assert r.status_code == 400
    assert "Danh sách có 3 lỗi" in page
    assert "mã đơn vị không có trong danh sách đơn vị của tỉnh" in page
    assert "999.99.99.H09" in page and "Mã đơn vị" in page      # value and column
    assert "cần ghi Có hoặc Không" in page and "trùng mã cán bộ (đã có ở dòng 3)" in page
    assert people(console) == before


def test_roster_plan_apply_sheet_and_first_login(clients, console):
    hr = clients["hr"]
    rows = [row("NJ0001", "Hoàng", "Văn", "Dũng", SNV), row("NJ0002", "Bùi", "Thị", "Thu", PAH),
            row("CT0004", "Nguyễn", "Văn", "An", STC, position="Phó Giám đốc")]
    everyone = staff_rows(console)
    r = upload(hr, roster_csv([r_ for r_ in everyone if r_[0] != "CT0004"] + rows))
    page = r.content.decode()
    assert r.status_code == 200, page[:3000]
    assert "Hoàng Văn Dũng" in page and "Bùi Thị Thu" in page
    assert "dungvh" not in people(console)                      # nothing written before apply
    token = plan_token(r)
    other = hr.get(f"/accounts/plans/{token}?tab=other").content.decode()
    assert "Phó Giám đốc" in other                               # per-row change (title)
    r = post(hr, f"/accounts/plans/{token}/apply", page=f"/accounts/plans/{token}")
    assert r.status_code == 302
    result = wait_apply(hr, f"/accounts/plans/{token}")
    assert result.startswith("/accounts/runs/"), result
    page = hr.get(result).content.decode()
    links = re.findall(r'href="(/accounts/sheets/[^"]+)"', page)
    assert any(PAH in link for link in links) and any(SNV in link for link in links)
    sheet = hr.get(next(link for link in links if PAH in link).replace("&amp;", "&"))
    assert sheet.status_code == 200 and "Bùi Thị Thu" in sheet.content.decode()
    pw = re.search(r'<b>thubt</b>.*?<span class="pw">([^<]+)</span>', sheet.content.decode(), re.S).group(1)
    # the unit administrator of Sở Tài chính may not read phường An Hội's sheet
    assert clients["admin"].get(next(link for link in links if PAH in link).replace("&amp;", "&")).status_code == 403
    dir_ = people(console)
    assert "thubt" in dir_ and dir_["annv"]["title"] == ["Phó Giám đốc"]
    recs = [j for j in journal.read(console.inventory) if j.get("uid") == "thubt" and j["action"] == "create"]
    assert recs and recs[0]["operator"] == "honglt" and recs[0]["source"] == "127.0.0.1"
    assert any(j["action"] == "console-sheet-download" and j["unit"] == PAH for j in journal.read(console.inventory))

    # the new official logs in with the sheet's password and must change it first
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    r = post(c, "/login", {"username": "thubt", "password": pw})
    assert r.status_code == 302 and r["Location"] == "/password"
    assert c.get("/me").status_code == 302                       # nothing else before the change
    r = post(c, "/password", {"old_password": pw, "new_password": "Thu-moi-2026", "new_password2": "Thu-moi-2026"})
    assert r.status_code == 302 and r["Location"] == "/me"
    assert "Bùi Thị Thu" in c.get("/me").content.decode()
    assert not must_change(people(console)["thubt"])
    # the file shares' NT hash follows the new password (the directory's smbk5pwd, as for webmail)
    from provisioning.smb import nt_hash

    conn = console.ldap_admin()
    conn.search(f"uid=thubt,ou=People,{BASE}", "(objectClass=*)", search_scope=ldap3.BASE,
                attributes=["sambaNTPassword"])
    got = conn.response[0]["attributes"]["sambaNTPassword"]
    assert str(got[0] if isinstance(got, list) else got).upper() == nt_hash("Thu-moi-2026")  # slapd writes lower case
    conn.unbind()
    # no password, hash or session id in the journal or the console's files (sheets aside)
    session = c.cookies["console_session"].value
    for root, _, files in os.walk(console.data):
        for f in files:
            p = os.path.join(root, f)
            if "/sheets/" in p or "/sessions/" in p:
                continue
            text = open(p, "rb").read()
            for secret in (pw, "Thu-moi-2026", PASSWORD, session):
                assert secret.encode() not in text, (p, "holds a secret")


def must_change(attrs: dict) -> bool:
    return attrs.get("pwdReset") in (True, [True], "TRUE", ["TRUE"])


def staff_rows(console) -> list[list[str]]:
    """The roster as the directory stands (every active managed official), to which tests add rows."""
    ctx = service.load(console.inventory)
    st = service.observe(ctx).state
    out = []
    for p in st.people.values():
        if p.active and not (p.hr_id or "").startswith("XS"):   # the markup test's entry is not HR's
            middle = p.cn[len(p.sn):len(p.cn) - len(p.given_name)].strip()
            out.append(row(p.hr_id, p.sn, middle, p.given_name, p.unit, position=p.title or "Chuyên viên"))
    return out


def test_apply_refused_when_the_directory_changed_since_the_plan(clients, console):
    hr = clients["hr"]
    r = upload(hr, roster_csv(staff_rows(console) + [row("DC0001", "Mai", "Văn", "Sơn", VP)]))
    token = plan_token(r)
    conn = console.ldap_admin()   # someone changes the directory meanwhile
    assert conn.modify(f"uid=lantt,ou=People,{BASE}", {"title": [(ldap3.MODIFY_REPLACE, ["Kế toán"])]})
    conn.unbind()
    post(hr, f"/accounts/plans/{token}/apply", page=f"/accounts/plans/{token}")
    wait_apply(hr, f"/accounts/plans/{token}")
    page = hr.get(f"/accounts/plans/{token}").content.decode()
    assert "Thư mục đã thay đổi từ khi lập kế hoạch" in page
    assert "sonmv" not in people(console)


def test_mass_change_guard_needs_the_typed_number(clients, console):
    hr = clients["hr"]
    ctx = service.load(console.inventory)
    base = staff_rows(console)
    extra = [row(f"MG{i:04d}", "Đinh", "Văn", f"Tài {chr(65 + i)}", VP) for i in range(22)]
    f = console.tmp / "guard.csv"
    f.write_bytes(roster_csv(base + extra))
    service.apply(ctx, service.read(ctx, f))
    r = upload(hr, roster_csv(base))                 # the 22 left out: 22 accounts to disable
    page = r.content.decode()
    assert 'id="guard"' in page and 'name="confirm_disable"' in page
    token = plan_token(r)
    r = post(hr, f"/accounts/plans/{token}/apply", {"confirm_disable": "5"}, page=f"/accounts/plans/{token}")
    assert r.status_code == 400 and "nhập đúng số tài khoản sẽ bị khóa (22)" in r.content.decode()
    assert all(v.get("uid") for v in people(console, "(employeeNumber=MG*)").values())
    r = post(hr, f"/accounts/plans/{token}/apply", {"confirm_disable": "22"}, page=f"/accounts/plans/{token}")
    assert r.status_code == 302
    assert wait_apply(hr, f"/accounts/plans/{token}").startswith("/accounts/runs/")
    state = service.observe(ctx).state
    assert not any(p.active for p in state.people.values() if (p.hr_id or "").startswith("MG"))


def test_second_apply_is_told_who_holds_the_lock(clients, console):
    from provisioning.accounts.apply import apply_lock

    hr = clients["hr"]
    r = upload(hr, roster_csv(staff_rows(console) + [row("LK0001", "Tô", "Văn", "Lâm", VP)]))
    token = plan_token(r)
    with apply_lock(console.inventory, "binhpv (Phạm Văn Bình), console"):
        r = post(hr, f"/accounts/plans/{token}/apply", page=f"/accounts/plans/{token}")
        assert r.status_code == 409
        assert "binhpv (Phạm Văn Bình)" in r.content.decode()
    assert "lamtv" not in people(console)


def test_officials_search_with_or_without_diacritics_and_unit_limits(clients, console):
    for q in ("nguyen van an", "Nguyễn Văn An", "NGUYEN", "annv", "CT0004"):
        page = clients["hr"].get("/officials/", {"q": q}).content.decode()
        assert "/officials/annv" in page, q
    page = clients["admin"].get("/officials/", {"q": "tran thi lan"}).content.decode()
    assert "/officials/lantt" not in page                      # another unit's official
    page = clients["admin"].get("/officials/", {"q": "nguyen van an"}).content.decode()
    assert "/officials/annv" in page


def test_names_with_markup_are_shown_as_text(clients, console):
    conn = console.ldap_admin()
    conn.add(f"uid=xsstest,ou=People,{BASE}", ["inetOrgPerson", "govMailAccount"],
             {"uid": "xsstest", "cn": "<script>alert(1)</script> Hà", "sn": "X", "employeeNumber": "XS0001",
              "departmentNumber": STC, "mail": "xsstest@bentre.gov.vn", "mailEnabled": "TRUE",
              "govAccountState": "active"})
    conn.unbind()
    page = clients["hr"].get("/officials/", {"q": "ha"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hà" in page and "<script>alert" not in page
    page = clients["admin"].get("/officials/xsstest").content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    conn = console.ldap_admin()
    conn.delete(f"uid=xsstest,ou=People,{BASE}")
    conn.unbind()


def test_unit_admin_resets_a_password_of_their_unit(clients, console):
    r = post(clients["admin"], "/officials/annv/reset-password", page="/officials/annv")
    page = r.content.decode()
    assert r.status_code == 200 and 'id="reset-sheet"' in page
    link = re.search(r'href="(/accounts/sheets/[^"]+)" id="reset-sheet"', page).group(1).replace("&amp;", "&")
    sheet = clients["admin"].get(link).content.decode()
    assert "<b>annv</b>" in sheet
    assert must_change(people(console)["annv"])
    rec = [j for j in journal.read(console.inventory) if j["action"] == "reset-password" and j["uid"] == "annv"][-1]
    assert rec["operator"] == "binhpv" and rec["source"] == "127.0.0.1" and "password" not in json.dumps(
        rec["changes"]).replace('"userPassword": "new"', "").replace('"password": "issued"', "")
    set_back(console, "annv")


def set_back(console, uid):
    from console_env import set_password

    set_password(console, uid)


def test_plan_export_neutralises_formulas(clients, console):
    from provisioning.render.csv import to_csv

    text = to_csv(["a"], [["=HYPERLINK(\"http://x\")"], ["+1"], ["-2+3"], ["@SUM(A1)"], ["Nguyễn Văn An"], [-5]])
    assert text.splitlines()[1:] == ['"\'=HYPERLINK(""http://x"")"', "'+1", "'-2+3",
                                      "'@SUM(A1)", "Nguyễn Văn An", "-5"]
    # a position typed as a formula does not even reach a plan: the roster reader refuses it
    before = people(console)
    r = upload(clients["hr"], roster_csv(staff_rows(console) + [row("FX0001", "Hà", "Văn", "Phú", VP,
                                                                    position="=1+2")]))
    page = r.content.decode()
    assert r.status_code == 400 and "=1+2" in page and "Chức vụ" in page, page[-2000:]
    assert "công thức bảng tính" in page
    assert people(console) == before
    # the console's plan export goes through to_csv
    r = upload(clients["hr"], roster_csv(staff_rows(console) + [row("FX0001", "Hà", "Văn", "Phú", VP,
                                                                    position="Chuyên viên")]))
    token = plan_token(r)
    csv_text = clients["hr"].get(f"/accounts/plans/{token}/plan.csv").content.decode("utf-8-sig")
    assert "create,FX0001" in csv_text


def test_unit_form_draft_submit_and_the_office_sees_it_late(clients, console):
    admin, office = clients["admin"], clients["office"]
    url = f"/units/{STC}/forms/{MONTH}"
    r = post(admin, url, {"action": "draft", "reporter": "Phạm Văn Bình", "training_sessions": "abc"})
    assert r.status_code == 400                                 # not a number: nothing saved
    r = post(admin, url, {"action": "draft", "reporter": "Phạm Văn Bình", "training_sessions": "2"})
    assert r.status_code == 200 and 'id="saved"' in r.content.decode()
    # a draft is not a form: after the 25th the office sees the unit overdue
    assert re.search(rf'class="form-overdue" data-unit="{re.escape(STC)}"', office.get(f"/reports/{MONTH}").content.decode())
    r = post(admin, url, {"action": "submit", "reporter": "Phạm Văn Bình", "training_sessions": "2",
                          "trainees": "15", "drafting_signing": "yes", "sw_documents": "yes"})
    page = r.content.decode()
    assert r.status_code == 200 and "trễ hạn" in page           # November's form, sent in December
    assert post(office, url, {"action": "submit"}, page=url).status_code == 403   # read-only
    page = office.get(f"/reports/{MONTH}").content.decode()
    assert re.search(rf'class="form-late" data-unit="{re.escape(STC)}"', page)
    assert re.search(rf'class="form-overdue" data-unit="{re.escape(PAH)}"', page)
    # the next monthly report counts the submitted form
    from provisioning.model import load_province
    from provisioning.report import monthly
    from provisioning.report.period import Month

    inputs = monthly.gather(load_province(console.inventory), Month.parse(MONTH), offline=True)
    assert inputs.forms[STC].late and inputs.forms[STC].values["drafting_signing"] is True
    assert inputs.forms[STC].values["trainees"] == 15


def test_office_reads_the_monthly_report(clients, console):
    import subprocess
    import sys
    from pathlib import Path

    r = subprocess.run([str(Path(sys.executable).with_name("provision")), "report", "monthly", "--month", MONTH,
                        "-i", str(console.inventory), "--offline"], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PROVISION_DATA": str(console.data)})
    assert r.returncode == 0, r.stderr
    page = clients["office"].get("/reports/").content.decode()
    assert f'href="/reports/{MONTH}"' in page
    page = clients["office"].get(f"/reports/{MONTH}").content.decode()
    assert "report.pdf" in page and "report.xlsx" in page
    r = clients["office"].get(f"/reports/{MONTH}/report.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert clients["hr"].get(f"/reports/{MONTH}/report.xlsx").status_code == 403


def test_hr_resets_a_lost_second_factor(clients, console):
    from provisioning.console.app import state

    assert state().totp.secret("tamvm")
    r = post(clients["hr"], "/officials/tamvm/reset-2fa", page="/officials/tamvm")
    assert r.status_code == 302
    assert state().totp.secret("tamvm") is None
    rec = [j for j in journal.read(console.inventory) if j["action"] == "console-2fa-reset"][-1]
    assert rec["uid"] == "tamvm" and rec["operator"] == "honglt" and rec["source"] == "127.0.0.1"


def test_language_switch_stays_on_the_site(console):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    for evil in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        r = post(c, "/lang", {"lang": "vi", "next": evil}, page="/login")
        assert r["Location"] == "/", evil


def test_english_switch(console):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    r = post(c, "/lang", {"lang": "en", "next": "/login"}, page="/login")
    assert r.status_code == 302
    assert "Log in" in c.get("/login").content.decode()


def _cli(console, *args, **kw):
    import subprocess
    import sys
    from pathlib import Path

    return subprocess.run([str(Path(sys.executable).with_name("provision")), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PROVISION_DATA": str(console.data)}, **kw)


def test_grant_and_revoke_from_the_cli(console):
    inv = str(console.inventory)
    r = _cli(console, "accounts", "grant", "unit-admin", "lantt", "--unit", PAH, "-i", inv)
    assert r.returncode == 0, r.stderr
    conn = console.ldap_admin()
    conn.search(f"cn=admins-{PAH},ou=Groups,{BASE}", "(objectClass=*)", attributes=["member"])
    assert f"uid=lantt,ou=People,{BASE}" in conn.response[0]["attributes"]["member"]
    r = _cli(console, "accounts", "revoke", "unit-admin", "lantt", "--unit", PAH, "-i", inv)
    assert r.returncode == 0, r.stderr
    conn.search(f"cn=admins-{PAH},ou=Groups,{BASE}", "(objectClass=*)", attributes=["member"])
    members = conn.response[0]["attributes"]["member"]
    assert f"uid=lantt,ou=People,{BASE}" not in members and f"cn=admin,{BASE}" in members  # placeholder stays
    conn.unbind()
    assert _cli(console, "accounts", "grant", "unit-admin", "lantt", "-i", inv).returncode == 2
    assert _cli(console, "accounts", "grant", "province-hr", "nobody", "-i", inv).returncode == 2
    assert any(j["action"] == "revoke" and j["uid"] == "lantt" for j in journal.read(console.inventory))


def test_serve_command_answers_healthz(console):
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    from fixtures.mailstack import free_port, wait_port

    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("provision")), "console", "serve", "-i",
                             str(console.inventory), "--listen", f"127.0.0.1:{port}"],
                            env={**os.environ, "PROVISION_DATA": str(console.data)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_port(port, 60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            assert r.status == 200 and r.read() == b"ok"
        req = urllib.request.Request(f"http://127.0.0.1:{port}/accounts/")
        opener = urllib.request.build_opener(NoRedirect())
        try:
            opener.open(req, timeout=10)
            raise AssertionError("not redirected")
        except urllib.error.HTTPError as e:
            assert e.code == 302 and e.headers["Location"] == "/login"
    finally:
        proc.terminate()
        proc.wait(10)
    assert _cli(console, "console", "serve", "-i", str(console.inventory), "--listen", "nonsense").returncode == 2


import urllib.request  # noqa: E402


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def test_ppolicy_response_values():
    from provisioning.accounts.access import parse_ppolicy

    assert parse_ppolicy(bytes.fromhex("3003810102")) == ("must_change", None, None)      # changeAfterReset
    assert parse_ppolicy(bytes.fromhex("3003810101")) == ("locked", None, None)
    assert parse_ppolicy(bytes.fromhex("3005a003810102")) == (None, 2, None)              # 2 grace logins left
    assert parse_ppolicy(b"") == (None, None, None)


def test_unit_page_shows_the_latest_audit_and_verify_of_that_unit_only(clients, console):
    audit = console.data / console.inventory.name / "audit" / "2026-11-20T09-00-00"
    audit.mkdir(parents=True, exist_ok=True)
    (audit / "audit.json").write_text(json.dumps({"hosts": [
        {"host": "stc-pc01", "unit": STC, "role": "workstation", "status": "audited", "grade": "pass"},
        {"host": "stc-pc02", "unit": STC, "role": "workstation", "status": "audited", "grade": "fail"},
        {"host": "pah-pc01", "unit": PAH, "role": "workstation", "status": "unreachable", "grade": None}]}))
    verify = console.data / console.inventory.name / "verify"
    verify.mkdir(parents=True, exist_ok=True)
    (verify / "2026-11-21T09-00-00.json").write_text(json.dumps({"run": {}, "checks": [
        {"host": "stc-srv", "unit": STC, "service": "dns", "check": "resolve", "ok": False},
        {"host": "pah-srv", "unit": PAH, "service": "dns", "check": "resolve", "ok": True}]}))
    page = clients["admin"].get(f"/units/{STC}/").content.decode()
    assert "stc-pc02" in page and "pah-pc01" not in page
    assert "Máy cần khắc phục: 1" in page and "stc-srv: dns/resolve" in page
    assert clients["admin"].get(f"/units/{PAH}/").status_code == 403
    assert clients["official"].get(f"/units/{STC}/").status_code == 403
    assert clients["office"].get(f"/units/{PAH}/").status_code == 200


def test_plan_tables_are_paginated(clients, console):
    joiners = [row(f"PG{i:04d}", "Lương", "Văn", f"Phước {'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[i % 26]}{'abc'[i // 26]}", VP)
               for i in range(60)]
    r = upload(clients["hr"], roster_csv(staff_rows(console) + joiners))
    page = r.content.decode()
    token = plan_token(r)
    assert page.count("<tr><td>tạo mới</td>") == 50 and "Trang 1/2" in page
    page = clients["hr"].get(f"/accounts/plans/{token}", {"tab": "joiners", "page": "2"}).content.decode()
    assert page.count("<tr><td>tạo mới</td>") == 10 and "Trang 2/2" in page


def test_locked_and_expired_accounts(console):
    from console_env import set_password
    from django.test import Client

    ctx = service.load(console.inventory)
    f = console.tmp / "locked.csv"
    f.write_bytes(roster_csv(staff_rows(console) + [row("LC0001", "Ông", "Văn", "Khóa", PAH),
                                                    row("LC0002", "Ông", "Thị", "Hạn", PAH)]))
    service.apply(ctx, service.read(ctx, f))
    set_password(console, "khoaov")
    set_password(console, "hanot")
    conn = console.ldap_admin()
    assert conn.modify(f"uid=khoaov,ou=People,{BASE}",
                       {"pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, ["000001010000Z"])]})
    # a policy whose passwords expire after a second, with two grace logins
    assert conn.add(f"cn=short,ou=Policies,{BASE}", ["organizationalRole", "pwdPolicy"],
                    {"cn": "short", "pwdAttribute": "userPassword", "pwdMaxAge": "1", "pwdGraceAuthNLimit": "2",
                     "pwdAllowUserChange": "TRUE"})
    assert conn.modify(f"uid=hanot,ou=People,{BASE}",
                       {"pwdPolicySubentry": [(ldap3.MODIFY_REPLACE, [f"cn=short,ou=Policies,{BASE}"])]})
    conn.unbind()
    set_password(console, "hanot")
    c = Client(enforce_csrf_checks=True)
    r = post(c, "/login", {"username": "khoaov", "password": PASSWORD})
    assert r.status_code == 401 and "Tài khoản đang bị khóa" in r.content.decode()
    time.sleep(2)   # let the password expire (the policy's age is one second)
    r = post(c, "/login", {"username": "hanot", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/password"      # a grace login: change it now
    r = post(c, "/password", {"old_password": PASSWORD, "new_password": "Han-moi-2026", "new_password2": "Han-moi-2026"})
    assert r.status_code == 302 and r["Location"] == "/me"


def test_login_rate_limit_per_address(console):
    from django.test import Client

    from provisioning.console.app import state

    lim = state().cfg.login_limit
    old = lim.per_address
    lim.per_address = 3
    try:
        c = Client(enforce_csrf_checks=True, REMOTE_ADDR="127.0.0.9")
        for name in ("khongco1", "khongco2", "khongco3"):
            assert post(c, "/login", {"username": name, "password": "x"}).status_code == 401
        r = post(c, "/login", {"username": "lantt", "password": PASSWORD})
        assert r.status_code == 429
        other = Client(enforce_csrf_checks=True, REMOTE_ADDR="127.0.0.10")
        assert login(other, "lantt").status_code == 302
    finally:
        lim.per_address = old


def test_settings_file(console, tmp_path):
    from provisioning.console import config
    from provisioning.errors import BadInput

    f = tmp_path / "console.yml"
    f.write_text("inventory: inv/bentre\ndata_dir: var\nlisten: 127.0.0.1:8443\nsecure_cookies: true\n"
                 "trusted_proxies: [127.0.0.1]\nadmin_idle_minutes: 5\n", encoding="utf-8")
    cfg = config.load(f)
    assert cfg.inventory == tmp_path / "inv" / "bentre" and cfg.data_dir == tmp_path / "var"
    assert (cfg.host, cfg.port, cfg.secure_cookies, cfg.admin_idle_minutes) == ("127.0.0.1", 8443, True, 5)
    f.write_text("inventory: x\nlisten_on: 1\n", encoding="utf-8")
    with pytest.raises(BadInput, match="listen_on"):
        config.load(f)
    r = _cli(console, "console", "serve", "--config", str(f))
    assert r.returncode == 2 and "listen_on" in r.stderr
