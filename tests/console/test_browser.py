"""The console driven in a real browser (Debian's chromium + chromedriver through Selenium; no browser is
ever downloaded), served by waitress as `provision console serve` does, on the real directory and mail
store. Screenshots of the main pages are written to $CONSOLE_SCREENSHOTS or the test's data folder."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pyotp
import pytest
from console_env import PAH, PASSWORD, SNV, STC, VP, roster_csv, row, set_password

from provisioning.accounts import service

CHROMEDRIVER = "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(not (os.path.exists(CHROMEDRIVER) and shutil.which("chromium")),
                                reason="needs Debian's chromium and chromium-driver")


@pytest.fixture(scope="module")
def server(console):
    """The console on a free loopback port (waitress, as `provision console serve`), and fresh officials
    with each role (their second factor is enrolled in the browser)."""
    from waitress.server import create_server

    from fixtures.mailstack import free_port

    ctx = service.load(console.inventory)
    from test_http import staff_rows

    f = console.tmp / "browser-staff.csv"
    f.write_bytes(roster_csv(staff_rows(console) + [row("BR0001", "Lâm", "Thị", "Ngọc", SNV),
                                                    row("BR0002", "Châu", "Văn", "Phúc", PAH),
                                                    row("BR0003", "Quách", "Thị", "Vân", VP)]))
    service.apply(ctx, service.read(ctx, f))
    for uid in ("ngoclt", "phuccv", "vanqt"):
        set_password(console, uid)
    service.grant(ctx, "province-hr", "ngoclt")
    service.grant(ctx, "unit-admin", "phuccv", PAH)
    service.grant(ctx, "province-office", "vanqt")
    port = free_port()
    srv = create_server(console.app, host="127.0.0.1", port=port, threads=4)
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{port}"
    srv.close()


@pytest.fixture(scope="module")
def shots(console):
    d = Path(os.environ.get("CONSOLE_SCREENSHOTS") or console.data / "screenshots")
    d.mkdir(parents=True, exist_ok=True)
    yield d
    print(f"\nconsole screenshots: {d}")
    keep = Path(tempfile.gettempdir()) / "console-screenshots"
    if not os.environ.get("CONSOLE_SCREENSHOTS"):
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(d, keep)
        print(f"console screenshots kept in {keep}")


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.implicitly_wait(5)
    yield drv
    drv.quit()


def by_id(b, ident):
    from selenium.webdriver.common.by import By

    return b.find_element(By.ID, ident)


def wait_for(b, ident, seconds=60):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(b, seconds).until(ec.presence_of_element_located((By.ID, ident)))


def login(b, url, uid, password=PASSWORD, shots=None, name=None):
    b.get(url + "/login")
    by_id(b, "username").send_keys(uid)
    by_id(b, "password").send_keys(password)
    if shots and name:
        b.save_screenshot(str(shots / f"{name}-login.png"))
    by_id(b, "login-submit").click()
    if b.current_url.endswith("/login/2fa"):
        secret = by_id(b, "totp-secret").text.strip()
        assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
        assert b.find_element("css selector", ".qr svg")
        if shots and name:
            b.save_screenshot(str(shots / f"{name}-totp-enrol.png"))
        by_id(b, "code").send_keys(pyotp.TOTP(secret).now())
        by_id(b, "code-submit").click()


def test_hr_uploads_plans_applies_and_the_new_official_changes_the_password(console, server, browser, shots, tmp_path):
    b = browser
    login(b, server, "ngoclt", shots=shots, name="hr")
    assert b.current_url.endswith("/accounts/")
    b.save_screenshot(str(shots / "hr-upload.png"))
    bad = tmp_path / "co-loi.csv"
    bad.write_bytes(roster_csv([row("BX0001", "Hà", "Văn", "Long", "999.99.99.H09")]))
    by_id(b, "roster").send_keys(str(bad))
    by_id(b, "plan-submit").click()
    problems = by_id(b, "problems").text
    assert "999.99.99.H09" in problems and "mã đơn vị không có" in problems
    b.save_screenshot(str(shots / "hr-roster-errors.png"))
    assert "longhv" not in service.observe(service.load(console.inventory)).state.people

    from test_http import staff_rows

    good = tmp_path / "danh-sach.csv"
    good.write_bytes(roster_csv(staff_rows(console) + [row("BR0100", "Kiều", "Thị", "Oanh", PAH)]))
    by_id(b, "roster").send_keys(str(good))
    by_id(b, "plan-submit").click()
    assert "Kiều Thị Oanh" in by_id(b, "changes").text
    b.save_screenshot(str(shots / "hr-plan.png"))
    by_id(b, "apply-submit").click()
    wait_for(b, "sheets")       # htmx polled the progress and followed HX-Redirect to the result
    # htmx ran under the Content-Security-Policy without being refused anything
    refused = [e["message"] for e in b.get_log("browser") if "Content Security Policy" in e["message"]
               or "Refused" in e["message"]]
    assert not refused, refused
    b.save_screenshot(str(shots / "hr-result.png"))
    link = b.find_element("css selector", f'a.sheet[data-unit="{PAH}"]').get_attribute("href")
    b.get(link)
    html = b.page_source
    m = re.search(r"<b>oanhkt</b>.*?<span class=\"pw\">([^<]+)</span>", html, re.S)
    assert m, "the sheet shows the new official's first password"
    b.save_screenshot(str(shots / "hr-sheet.png"))
    first = m.group(1)
    b.delete_all_cookies()
    login(b, server, "oanhkt", first)
    assert b.current_url.endswith("/password")
    assert by_id(b, "forced")
    b.save_screenshot(str(shots / "official-forced-change.png"))
    by_id(b, "old_password").send_keys(first)
    by_id(b, "new_password").send_keys("Oanh-moi-2026!")
    by_id(b, "new_password2").send_keys("Oanh-moi-2026!")
    by_id(b, "password-submit").click()
    assert b.current_url.endswith("/me")
    assert "Kiều Thị Oanh" in by_id(b, "me").text
    b.save_screenshot(str(shots / "official-me.png"))


def test_unit_admin_sees_only_their_unit_and_submits_the_form(console, server, browser, shots):
    b = browser
    login(b, server, "phuccv", shots=shots, name="unit-admin")
    assert b.current_url.endswith("/officials/")
    by_id(b, "q").send_keys("tran thi lan")
    by_id(b, "search-submit").click()
    assert "Trần Thị Lan" in by_id(b, "hits").text              # lantt is in their unit
    b.save_screenshot(str(shots / "unit-admin-search.png"))
    b.get(server + "/officials/annv")                          # Sở Tài chính: not theirs
    assert "Bạn không có quyền" in by_id(b, "error").text
    b.get(server + f"/accounts/sheets/{STC}")
    assert "Bạn không có quyền" in by_id(b, "error").text
    month = time.strftime("%Y-%m")
    b.get(server + f"/units/{PAH}/forms/{month}")
    by_id(b, "reporter").send_keys("Châu Văn Phúc")
    by_id(b, "training_sessions").send_keys("1")
    by_id(b, "trainees").send_keys("12")
    from selenium.webdriver.support.ui import Select

    Select(by_id(b, "drafting_signing")).select_by_value("yes")
    by_id(b, "form-submit").click()
    assert by_id(b, "saved").text
    b.save_screenshot(str(shots / "unit-form.png"))
    from provisioning.model import load_province
    from provisioning.report import forms
    from provisioning.report.period import Month

    st = forms.unit_state(load_province(console.inventory), Month.parse(month), load_province(console.inventory).units[PAH])
    assert st.status in ("on_time", "late") and st.values["trainees"] == 12


def test_office_reads_a_report_and_sees_a_late_unit(console, server, browser, shots):
    b = browser
    login(b, server, "vanqt", shots=shots, name="office")
    assert b.current_url.endswith("/reports/")
    b.save_screenshot(str(shots / "office-reports.png"))
    b.get(server + "/reports/2026-11")
    rows = b.find_elements("css selector", "#forms tr.form-late, #forms tr.form-overdue")
    assert rows, "November's late or missing units are marked"
    b.save_screenshot(str(shots / "office-report-month.png"))
