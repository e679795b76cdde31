"""The main job's console step: a province HR official uploads the roster at https://console.<zone>/.

    python scripts/console_demo.py -i inventory/lab --uid UID --sheet SHEET.html --roster FILE [--totp-file F]

UID's first password comes from the password sheet HR hands out (`provision accounts reset-password`
prints its path); the console asks for a new one first, then enrols the second factor: the code is
computed with pyotp from the secret the enrolment page shows beside the QR code, as an authenticator
app would. Then the roster is uploaded and the plan page's summary printed. Nothing is applied here
(`provision accounts apply` follows in the main job). Prints what it did, never a password.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import secrets
import sys
from pathlib import Path

from provisioning.console.client import Client, ConsoleError
from provisioning.model import load_province
from provisioning.transport import ca


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-i", "--inventory", required=True, type=Path)
    ap.add_argument("--uid", required=True)
    ap.add_argument("--sheet", required=True, type=Path, help="the official's first-password sheet (HTML)")
    ap.add_argument("--roster", required=True, type=Path)
    ap.add_argument("--totp-file", type=Path, help="keeps the second factor's secret between runs "
                                                   "(what an authenticator app keeps); owner-only")
    a = ap.parse_args()
    province = load_province(a.inventory)
    name = f"console.{province.dns_zone}"
    m = re.search(r'class="pw">([^<]+)<', a.sheet.read_text(encoding="utf-8"))
    if not m:
        print(f"{a.sheet}: no password on the sheet", file=sys.stderr)
        return 2
    client = Client(name, address=province.center_server.address, ca_file=ca.ca_file(province))
    if a.totp_file and a.totp_file.exists():
        client.totp_secret = a.totp_file.read_text().strip()
    print(f"console: https://{name}/ (nginx on {province.center_server.name}, provincial certificate checked)")
    try:
        landed = client.login(a.uid, html.unescape(m.group(1)), new_password=secrets.token_urlsafe(12))
        print(f"logged in as {a.uid}: first password changed, second factor (TOTP) -> {landed}")
        if a.totp_file and client.totp_secret:
            fd = os.open(a.totp_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(client.totp_secret + "\n")
        status, _, page = client.upload("/accounts/plan", "roster", a.roster)
    except ConsoleError as e:
        print(f"console: {e}", file=sys.stderr)
        return 1
    summary = re.search(r'<p id="summary">(.*?)</p>', page, re.S)
    action = re.search(r'action="(/accounts/plans/[^"]+/apply)"', page)
    if status != 200 or not summary:
        print(f"upload of {a.roster.name}: {status}, no plan page", file=sys.stderr)
        return 1
    print(f"uploaded {a.roster.name}: plan page {status}")
    print("  " + html.unescape(re.sub(r"<[^>]+>", "", summary.group(1))).strip())
    if action:
        print(f"  apply form: POST {action.group(1)} (not pressed: the CLI applies next)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
