"""Screenshots of the deployed console for the README (docs/console/*.png), taken with Debian's headless
chromium (Selenium + chromedriver) at https://console.<zone>/ on a deployed province (the lab):

    python scripts/console_screenshots.py -i inventory/lab [--out docs/console]

It makes a throwaway province-HR account (no HR id, so roster plans leave it out; removed at the
end) with a first password, then, in the browser: login, first-password change, second-factor
enrolment, the upload page, the plan of the sample roster (not applied). Chromium reaches the center's
address for the console's name and trusts only the center's certificate key (its SPKI hash), the one
the provincial CA signed; no certificate error is ignored wholesale. Pictures are scaled and
palette-reduced to stay small.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import secrets
import shutil
import ssl
import tempfile
from pathlib import Path

import pyotp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image

from pydantic import SecretStr

from provisioning.accounts import passwords, service
from provisioning.accounts.directory import connect
from provisioning.accounts.sample import generate, write
from provisioning.model import load_province

WIDTH = 900


def spki_hash(host: str, port: int = 443) -> str:
    pem = ssl.get_server_certificate((host, port))
    key = x509.load_pem_x509_certificate(pem.encode()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def shrink(src: Path, dst: Path) -> None:
    img = Image.open(src).convert("RGB")
    h = int(img.height * WIDTH / img.width)
    img = img.resize((WIDTH, h), Image.LANCZOS).quantize(colors=64)
    img.save(dst, optimize=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-i", "--inventory", required=True, type=Path)
    ap.add_argument("--out", type=Path, default=Path("docs/console"))
    a = ap.parse_args()
    province = load_province(a.inventory)
    name, address = f"console.{province.dns_zone}", province.center_server.address
    ctx = service.load(a.inventory)
    tmp = Path(tempfile.mkdtemp(prefix="console-shots-"))
    roster = tmp / "danh-sach-can-bo.csv"
    write(generate(ctx.province, 25, seed=7, leaver_share=0), roster)
    uid, first = _staff_account(ctx)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,800",
                 f"--user-data-dir={tmp / 'profile'}", f"--host-resolver-rules=MAP {name} {address}",
                 f"--ignore-certificate-errors-spki-list={spki_hash(address)}"):
        opts.add_argument(flag)
    b = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    b.implicitly_wait(10)
    a.out.mkdir(parents=True, exist_ok=True)

    def shot(file: str) -> None:
        raw = tmp / file
        b.save_screenshot(str(raw))
        shrink(raw, a.out / file)
        print(f"{a.out / file}: {b.current_url}")

    try:
        b.get(f"https://{name}/login")
        b.find_element(By.ID, "username").send_keys(uid)
        b.find_element(By.ID, "password").send_keys(first)
        shot("login.png")
        b.find_element(By.ID, "login-submit").click()
        new = secrets.token_urlsafe(12)
        b.find_element(By.NAME, "old_password").send_keys(first)
        b.find_element(By.NAME, "new_password").send_keys(new)
        b.find_element(By.NAME, "new_password2").send_keys(new)
        b.find_element(By.ID, "password-submit").click()
        secret = b.find_element(By.ID, "totp-secret").text.strip()
        shot("totp-enrol.png")
        b.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now())
        b.find_element(By.ID, "code-submit").click()
        b.find_element(By.ID, "roster")
        shot("upload.png")
        b.find_element(By.ID, "roster").send_keys(str(roster))
        b.find_element(By.ID, "plan-submit").click()
        if not b.find_elements(By.ID, "summary"):
            raise SystemExit(f"no plan page: {b.find_element(By.TAG_NAME, 'main').text[:500]}")
        shot("plan.png")
    finally:
        b.quit()
        shutil.rmtree(tmp, ignore_errors=True)
        service.grant(ctx, "province-hr", uid, revoke=True)
        conn = connect(ctx.target)
        conn.delete(ctx.target.person_dn(uid))
        conn.unbind()
    return 0


def _staff_account(ctx) -> tuple[str, str]:
    """A throwaway HR account for the pictures (no HR id: roster plans leave it out), with a first
    password (pwdReset) and the province-HR role; removed at the end."""
    uid = f"anhchup{secrets.randbelow(10 ** 4):04d}"
    first = secrets.token_urlsafe(12)
    domain = ctx.province.info.mail_domain
    conn = connect(ctx.target)
    try:
        ok = conn.add(ctx.target.person_dn(uid), ["inetOrgPerson", "govMailAccount"], {
            "uid": uid, "cn": "Nguyễn Thị Minh", "sn": "Nguyễn", "givenName": "Minh",
            "displayName": "Nguyễn Thị Minh", "departmentNumber": ctx.province.center.code,
            "mail": f"{uid}@{domain}", "mailEnabled": "TRUE", "mailQuotaMB": "10",
            "mailHomeDirectory": f"/var/vmail/{domain}/{uid}", "govAccountState": "active",
            "userPassword": passwords.sha512_crypt(SecretStr(first)), "pwdReset": "TRUE"})
        if not ok:
            raise SystemExit(f"cannot add {uid}: {conn.result.get('description')}")
    finally:
        conn.unbind()
    service.grant(ctx, "province-hr", uid)
    return uid, first


if __name__ == "__main__":
    raise SystemExit(main())
