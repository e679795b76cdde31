"""A small HTTPS client of the console's HTTP contract (README.md), as a script or a test drives it:
the page's CSRF token, cookies, the Origin header Django checks over HTTPS, the first-password change
and the TOTP second factor (RFC 6238, from the secret the enrolment page shows in `id="totp-secret"`).

    c = Client("console.bentre.gov.vn", address="10.20.0.10", ca_file="ca.crt")
    c.login("annv", "first password", new_password="...")   # -> the page the console lands on
    status, page = c.upload("/accounts/plan", "roster", Path("roster.csv"))

The name is sent as SNI and Host while the connection goes to `address` (a lab has no DNS on the
operator's machine); the certificate must chain to `ca_file` and carry the name.
"""
from __future__ import annotations

import http.client
import re
import socket
import ssl
import time
import urllib.parse
import uuid
from pathlib import Path

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOTP_SECRET = re.compile(r'id="totp-secret"[^>]*>\s*([A-Z2-7]+)\s*<')


class ConsoleError(Exception):
    pass


class _Conn(http.client.HTTPSConnection):
    def __init__(self, name: str, address: str, ctx: ssl.SSLContext, timeout: float):
        self._address = address
        super().__init__(name, 443, context=ctx, timeout=timeout)

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Client:
    def __init__(self, name: str, address: str | None = None, ca_file: str | Path | None = None,
                 timeout: float = 30.0):
        self.name, self.address, self.timeout = name, address or name, timeout
        self.tls = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self.tls.minimum_version = ssl.TLSVersion.TLSv1_2
        self.cookies: dict[str, str] = {}
        self.totp_secret: str | None = None

    @property
    def origin(self) -> str:
        return f"https://{self.name}"

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None) -> tuple[int, dict, str]:
        conn = _Conn(self.name, self.address, self.tls, self.timeout)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if method == "POST":
            headers.update({"Origin": self.origin, "Referer": self.origin + path})
        if content_type:
            headers["Content-Type"] = content_type
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie":
                name, _, value = v.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text

    def get(self, path: str) -> tuple[int, str]:
        status, _, text = self.request("GET", path)
        return status, text

    def token(self, path: str) -> str:
        status, page = self.get(path)
        m = TOKEN.search(page)
        if status != 200 or not m:
            raise ConsoleError(f"{self.origin}{path}: {status}, no form")
        return m.group(1)

    def post(self, path: str, form: dict, token_from: str | None = None) -> tuple[int, str]:
        """POST a form with the CSRF token of the page `token_from` (default: the same path)."""
        data = {"csrfmiddlewaretoken": self.token(token_from or path), **form}
        status, headers, _ = self.request("POST", path, urllib.parse.urlencode(data).encode(),
                                          "application/x-www-form-urlencoded")
        return status, headers.get("location", "")

    def login(self, uid: str, password: str, new_password: str | None = None) -> str:
        """Password, then (when asked) a new first password, then (when asked) the second factor,
        enrolled at the first login. Returns the path the console lands on."""
        status, location = self.post("/login", {"username": uid, "password": password})
        if status != 302 or location.startswith("/login?") or location == "/login":
            raise ConsoleError(f"login as {uid} refused ({status})")
        if location == "/password":
            if not new_password:
                raise ConsoleError(f"{uid} must change the first password: give new_password")
            status, location = self.post("/password", {"old_password": password, "new_password": new_password,
                                                       "new_password2": new_password})
            if status != 302:
                raise ConsoleError(f"first-password change for {uid} refused ({status})")
        if location == "/login/2fa":
            location = self.second_factor()
        return location

    def second_factor(self) -> str:
        import pyotp

        status, page = self.get("/login/2fa")
        m = TOTP_SECRET.search(page)
        if m:   # enrolment: the secret an authenticator app would scan from the QR code
            self.totp_secret = m.group(1)
        if not self.totp_secret:
            raise ConsoleError("second factor asked, but no TOTP secret is known for this account")
        totp = pyotp.TOTP(self.totp_secret)
        if totp.interval - time.time() % totp.interval < 3:   # not a code about to expire
            time.sleep(3)
        status, location = self.post("/login/2fa", {"code": totp.now()})
        if status != 302:
            raise ConsoleError(f"second factor refused ({status})")
        return location

    def upload(self, path: str, field: str, file: Path, token_from: str = "/accounts/") -> tuple[int, str, str]:
        """A multipart upload (the roster form): (status, location, page)."""
        token = self.token(token_from)
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
                 .encode(),
                 f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{file.name}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + file.read_bytes() + b"\r\n",
                 f"--{boundary}--\r\n".encode()]
        status, headers, page = self.request("POST", path, b"".join(parts),
                                             f"multipart/form-data; boundary={boundary}")
        return status, headers.get("location", ""), page
