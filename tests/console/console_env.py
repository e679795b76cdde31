"""The console against a real slapd + Dovecot + Postfix on loopback (tests/fixtures/mailstack.py), one
province for the whole session: officials with each role, logged in once each (a TOTP code is good
once), reused by the tests through Django's test client; the browser tests use a real server."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import ldap3
import pytest

from fixtures.mailstack import MailStack
from fixtures.province_stack import BASE, DOMAIN, PAH, SNV, STC, TT, UNITS, VP, mail_stack, write_inventory  # noqa: F401

HEADERS = ["Mã cán bộ", "Họ", "Tên đệm", "Tên", "Mã đơn vị", "Chức vụ", "Dùng máy tính", "Trạng thái"]
PASSWORD = "Console-Test-pw1"
# (hr_id, family, middle, given, unit) -> usernames the accounts job gives them
STAFF = [
    ("CT0001", "Lê", "Thị", "Hồng", SNV),     # honglt: province HR
    ("CT0002", "Phạm", "Văn", "Bình", STC),   # binhpv: administrator of Sở Tài chính
    ("CT0003", "Võ", "Minh", "Tâm", VP),      # tamvm: provincial office
    ("CT0004", "Nguyễn", "Văn", "An", STC),   # annv: a plain official of Sở Tài chính
    ("CT0005", "Trần", "Thị", "Lan", PAH),    # lantt: a plain official of phường An Hội
    ("CT0006", "Đỗ", "Văn", "Khoa", STC),     # khoadv: the login rate limit's victim
]


@dataclass
class Console:
    stack: MailStack
    inventory: Path
    data: Path
    tmp: Path
    app: object = None
    clients: dict = field(default_factory=dict)

    def ldap_admin(self) -> ldap3.Connection:
        s = self.stack.slapd
        return ldap3.Connection(ldap3.Server(s.url), s.admin_dn, s.admin_password, auto_bind=True)


def roster_csv(rows: list[list[str]]) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADERS)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def row(hr, family, middle, given, unit, position="Chuyên viên", computer="Có", status="Đang công tác"):
    return [hr, family, middle, given, unit, position, computer, status]


def set_password(c: Console, uid: str, password: str = PASSWORD) -> None:
    """A known password without pwdReset (as after the official changed it)."""
    conn = c.ldap_admin()
    dn = f"uid={uid},ou=People,{BASE}"
    assert conn.modify(dn, {"userPassword": [(ldap3.MODIFY_REPLACE, [password])]}), conn.result
    assert conn.modify(dn, {"pwdReset": [(ldap3.MODIFY_DELETE, [])]}) or conn.result["result"] == 16, conn.result
    conn.unbind()


@pytest.fixture(scope="session")
def console():
    if os.geteuid() != 0:
        pytest.skip("the mail store is owned by vmail (uid 5000): needs root")
    old = os.environ.get("PROVISION_DATA")
    with mail_stack("console-stack-") as stack:
        work = stack.extra["work"]
        try:
            data = work / "var"
            os.environ["PROVISION_DATA"] = str(data)
            inv = write_inventory(work / "inventory" / "bentre", stack)
            c = Console(stack, inv, data, work)
            _staff(c)
            from provisioning.console.app import build
            from provisioning.console.config import ConsoleConfig

            c.app = build(ConsoleConfig(inventory=inv, allowed_hosts=["testserver", "127.0.0.1", "localhost"],
                                        login_limit={"per_address": 1000, "per_user": 5, "window_minutes": 15}))
            yield c
        finally:
            if old is None:
                os.environ.pop("PROVISION_DATA", None)
            else:
                os.environ["PROVISION_DATA"] = old


def _staff(c: Console) -> None:
    from provisioning.accounts import service

    ctx = service.load(c.inventory)
    f = c.tmp / "staff.csv"
    f.write_bytes(roster_csv([row(*s) for s in STAFF]))
    service.apply(ctx, service.read(ctx, f))
    for uid in ("honglt", "binhpv", "tamvm", "annv", "lantt", "khoadv"):
        set_password(c, uid)
    service.grant(ctx, "province-hr", "honglt")
    service.grant(ctx, "unit-admin", "binhpv", STC)
    service.grant(ctx, "province-office", "tamvm")


# --- talking to the console ------------------------------------------------------------------------

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf(client, url: str = "/login") -> str:
    r = client.get(url)
    m = TOKEN.search(r.content.decode())
    assert m, f"no CSRF token on {url} ({r.status_code})"
    return m.group(1)


def post(client, url: str, data: dict | None = None, page: str | None = None, **kw):
    token = csrf(client, page or url)
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": token}, **kw)


def login(client, uid: str, password: str = PASSWORD, secrets_: dict | None = None):
    """Log in through the forms (password, then the second factor when the role needs one)."""
    import pyotp

    r = post(client, "/login", {"username": uid, "password": password})
    assert r.status_code == 302, r.content.decode()[:500]
    if r["Location"] == "/login/2fa":
        page = client.get("/login/2fa").content.decode()
        m = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
        assert m, "the first login shows the secret to enroll"
        r = post(client, "/login/2fa", {"code": pyotp.TOTP(m.group(1)).now()})
        assert r.status_code == 302, r.content.decode()[:500]
        if secrets_ is not None:
            secrets_[uid] = m.group(1)
    return r


@pytest.fixture(scope="session")
def clients(console):
    """Logged-in clients by role: hr, admin (Sở Tài chính), office, official (plain), anon."""
    from django.test import Client

    if not console.clients:
        secrets_: dict = {}
        for role, uid in (("hr", "honglt"), ("admin", "binhpv"), ("office", "tamvm"), ("official", "annv")):
            cl = Client(enforce_csrf_checks=True)
            login(cl, uid, secrets_=secrets_)
            console.clients[role] = cl
        console.clients["anon"] = Client(enforce_csrf_checks=True)
        console.clients["_secrets"] = secrets_
    return console.clients
