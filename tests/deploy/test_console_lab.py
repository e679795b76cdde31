"""The web console as `provision deploy` puts it on the shared lab (`deployed_lab`): https://console.<zone>/
through the center's nginx with the provincial certificate, run as its own unprivileged user from the
virtualenv installed offline; a real HR official logs in through it (first password, second factor),
uploads a roster and applies it (mailboxes made through the one sudo rule), a new official logs in
with the sheet's password; verify's console checks pass, and fail while the service is stopped.

Run with $PROVISION_TEST_LAB set to a lab name of one's own (tests/deploy/conftest.py)."""
from __future__ import annotations

import re
import ssl
import time

import pytest

from provisioning.accounts import service
from provisioning.console.client import Client, ConsoleError
from provisioning.deploy.runner import deploy
from provisioning.verify import verify
from tests.conftest import run_cli

pytestmark = [pytest.mark.lab, pytest.mark.slow]

CA = "/usr/local/share/ca-certificates/provision-ca.crt"
KEY_DIR = "/etc/ssl/provision"
USER = "provision-console"
NEW_PASSWORD = "Mật-khẩu-mới-2026"


@pytest.fixture(scope="module")
def ca_file(deployed_lab, tmp_path_factory):
    pem = deployed_lab.lab.ssh(deployed_lab.center.name, f"cat {CA}", check=True).stdout
    f = tmp_path_factory.mktemp("ca") / "ca.crt"
    f.write_text(pem)
    return f


@pytest.fixture(scope="module")
def name(deployed_lab):
    return f"console.{deployed_lab.province.dns_zone}"


def client(deployed_lab, name, ca_file) -> Client:
    return Client(name, address=deployed_lab.center.address, ca_file=ca_file)


def sh(deployed_lab, cmd: str, check: bool = True):
    return deployed_lab.lab.ssh(deployed_lab.center.name, cmd, check=check)


def test_the_deploy_converged(deployed_lab):
    assert deployed_lab.first.ok, [(h.host, h.error) for h in deployed_lab.first.hosts if h.error]


def test_healthz_through_nginx_with_the_provincial_certificate(deployed_lab, name, ca_file):
    c = client(deployed_lab, name, ca_file)
    assert c.get("/healthz") == (200, "ok")
    status, page = c.get("/login")
    assert status == 200 and 'name="username"' in page and 'name="csrfmiddlewaretoken"' in page
    # the certificate is the provincial CA's: a client trusting only the public roots refuses it
    with pytest.raises(ssl.SSLCertVerificationError):
        Client(name, address=deployed_lab.center.address).get("/healthz")


def test_the_console_runs_unprivileged_from_its_offline_virtualenv(deployed_lab):
    pid = sh(deployed_lab, "cat /run/provision-console.pid").stdout.strip()
    assert sh(deployed_lab, f"ps -o user= -p {pid}").stdout.strip() == USER
    fqdn = f"{deployed_lab.center.name}.{deployed_lab.province.dns_zone}"
    # nginx holds the TLS key; the console's user cannot read it, nor write its own code
    assert sh(deployed_lab, f"runuser -u {USER} -- test -r {KEY_DIR}/{fqdn}.key", check=False).returncode != 0
    assert sh(deployed_lab, f"runuser -u {USER} -- test -w /opt/provision-console/venv/bin", check=False).returncode != 0
    # the only privilege: one command, as the mail store's owner
    rules = sh(deployed_lab, f"sudo -l -U {USER}").stdout
    assert "(vmail) NOPASSWD: /usr/local/lib/provision-console/maildir-ops --only-under" in rules
    assert "(root)" not in rules and "ALL\n" not in rules.split("may run")[-1]


def test_the_mailbox_command_stays_in_the_mail_domain(deployed_lab):
    domain = deployed_lab.province.info.mail_domain
    cmd = (f"echo '{{\"op\": \"remove\", \"homes\": [\"/var/vmail/{domain}/../x\"]}}' | runuser -u {USER} -- "
           f"sudo -n -u vmail /usr/local/lib/provision-console/maildir-ops --only-under /var/vmail/{domain}")
    r = sh(deployed_lab, cmd, check=False)
    assert r.returncode != 0 and "refused" in r.stderr
    # any other command or argument is refused by sudo itself
    r = sh(deployed_lab, f"runuser -u {USER} -- sudo -n -u vmail /bin/true", check=False)
    assert r.returncode != 0


def _wait_applied(c: Client, token: str) -> str:
    for _ in range(120):
        status, headers, _ = c.request("GET", f"/accounts/plans/{token}/progress")
        if status == 204:
            return headers.get("hx-redirect", "")
        time.sleep(1)
    raise AssertionError("apply did not finish")


def test_hr_official_uploads_applies_and_a_new_official_logs_in(deployed_lab, name, ca_file, tmp_path):
    inv = deployed_lab.inventory
    ctx = service.load(inv)
    roster = tmp_path / "roster.csv"
    assert run_cli("accounts", "sample", "-i", str(inv), "--count", "4", "--out", str(roster)).returncode == 0
    lines = roster.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    first = tmp_path / "hr.csv"
    first.write_text("".join(lines[:2]), encoding="utf-8")
    # the HR official exists first (CLI), then gets the role and a first-password sheet
    service.apply(ctx, service.read(ctx, first), yes=True)
    hr_uid = _only_official(ctx)
    service.grant(ctx, "province-hr", hr_uid)
    sheet = service.reset_password(ctx, hr_uid, out=tmp_path / "reset")
    password = re.search(r'class="pw">([^<]+)<', sheet.read_text(encoding="utf-8")).group(1)

    c = client(deployed_lab, name, ca_file)
    with pytest.raises(ConsoleError):      # a wrong password is refused
        c.login(hr_uid, "not-the-password")
    landed = c.login(hr_uid, password, new_password=NEW_PASSWORD)
    assert landed == "/accounts/" and c.totp_secret
    status, _, page = c.upload("/accounts/plan", "roster", roster)
    assert status == 200, page[-500:]
    action = re.search(r'action="/accounts/plans/([^/"]+)/apply"', page)
    assert action, page[-1500:]
    token = action.group(1)
    status, location = c.post(f"/accounts/plans/{token}/apply", {}, token_from=f"/accounts/plans/{token}")
    assert status == 302
    run = _wait_applied(c, token)
    assert run.startswith("/accounts/runs/"), (run, re.sub(r"\s+", " ", c.get(run)[1])[-2000:])
    status, run_page = c.get(run)
    assert status == 200

    # the new officials' mailboxes were made on the center, as vmail, through the sudo rule
    new = [r for r in _uids(ctx) if r != hr_uid]
    assert len(new) == 3
    domain = deployed_lab.province.info.mail_domain
    owners = sh(deployed_lab, "stat -c %U " + " ".join(f"/var/vmail/{domain}/{u}/Maildir/subscriptions"
                                                        for u in new)).stdout.split()
    assert owners == ["vmail"] * 3
    journal = sh(deployed_lab, "cat /var/lib/provision-console/*/accounts/journal.jsonl").stdout
    assert f'"operator": "{hr_uid}"' in journal.replace('":"', '": "') or hr_uid in journal
    assert password not in journal and NEW_PASSWORD not in journal

    # a new official logs in through the console with the password on the unit's sheet
    unit = _unit_of(ctx, new[0])
    status, sheet_page = c.get(f"/accounts/sheets/{unit}")
    assert status == 200
    slips = re.findall(r"<b>([a-z0-9._-]+)</b>.*?class=\"pw\">([^<]+)<", sheet_page, re.S)
    uid, first_password = next((u, p) for u, p in slips if u in new)
    official = client(deployed_lab, name, ca_file)
    assert official.login(uid, first_password, new_password=NEW_PASSWORD) == "/me"
    status, me = official.get("/me")
    assert status == 200 and uid in me


def _uids(ctx) -> list[str]:
    from provisioning.accounts.directory import connect

    conn = connect(ctx.target)
    try:
        conn.search(ctx.target.people, "(&(employeeNumber=*)(govAccountState=active))", attributes=["uid"])
        return sorted(str(e["attributes"]["uid"][0]) for e in conn.response if e.get("type") == "searchResEntry")
    finally:
        conn.unbind()


def _only_official(ctx) -> str:
    uids = _uids(ctx)
    assert len(uids) == 1, uids
    return uids[0]


def _unit_of(ctx, uid: str) -> str:
    entry = service.show(ctx, uid)["entry"]
    unit = entry.get("departmentNumber")
    return unit[0] if isinstance(unit, list) else unit


def _console_checks(deployed_lab) -> dict[str, tuple[bool, str]]:
    run = verify(deployed_lab.inventory, limit=deployed_lab.center.name)
    return {c.check: (c.ok, c.detail) for c in run.checks if c.service == "console"}


def _wait_healthz(deployed_lab, name, ca_file) -> None:
    """Until waitress listens again after a start (the init script returns before it does)."""
    c = client(deployed_lab, name, ca_file)
    for _ in range(60):
        try:
            if c.get("/healthz") == (200, "ok"):
                return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError("the console did not answer again after its start")


def test_verify_checks_the_console_and_sees_it_stopped(deployed_lab, name, ca_file):
    checks = _console_checks(deployed_lab)
    assert set(checks) == {"https-login-page", "login"}
    assert all(ok for ok, _ in checks.values()), checks
    sh(deployed_lab, "service provision-console stop")
    try:
        checks = _console_checks(deployed_lab)
        assert checks and not any(ok for ok, _ in checks.values()), checks
        assert "502" in checks["https-login-page"][1]
    finally:
        sh(deployed_lab, "service provision-console start")
    assert sh(deployed_lab, "service provision-console status", check=False).returncode == 0
    _wait_healthz(deployed_lab, name, ca_file)
    checks = _console_checks(deployed_lab)
    assert all(ok for ok, _ in checks.values()), checks


def test_report_monthly_counts_a_form_submitted_on_the_console(deployed_lab):
    """A unit's form submitted on the console (its own code, as its own user, on the center) is in the
    console's data folder there; `report monthly` on the control machine copies it over SSH, where the
    role's published fact says, and counts it; the next run copies nothing."""
    import json as json_

    from provisioning.report import monthly
    from provisioning.report.period import Month

    prov = deployed_lab.province
    fact = json_.loads(sh(deployed_lab, "cat /etc/ansible/facts.d/console.fact").stdout)
    unit = next(u for u in prov.units.values() if u.kind != "integration_center").code
    month = Month.parse("2026-10")
    inventory = f"/etc/provision/console/inventory/{fact['report_dir'].rstrip('/').split('/')[-2]}"
    remote = f"{fact['report_dir']}/{month}/forms/{unit}.yml"
    local = monthly.report_dir(prov, month) / "forms" / f"{unit}.yml"
    submit = (f"cd / && runuser -u {USER} -- env PROVISION_DATA=$(dirname $(dirname {fact['report_dir']})) "
              f"{fact['venv']}/bin/python -c \"import datetime as dt; "
              "from provisioning.model import load_province; from provisioning.report import forms; "
              "from provisioning.report.period import Month; "
              f"p = load_province('{inventory}'); "
              f"f, bad = forms.submit(p, Month.parse('{month}'), p.units['{unit}'], "
              "{'reporter': 'Lab', 'training_sessions': '4', 'trainees': '9', 'drafting_signing': 'Có'}, "
              "today=dt.date(2026, 10, 20)); assert f and not bad, bad\"")
    try:
        sh(deployed_lab, submit)
        inputs = monthly.gather(prov, month)
        assert not [f for f in inputs.failed if f.startswith("console forms")], inputs.failed
        assert inputs.forms[unit].values["training_sessions"] == 4 and not inputs.forms[unit].late
        assert inputs.sources["console_forms"] == [f"{deployed_lab.center.name}: 1 copied, 0 unchanged"]
        again = monthly.gather(prov, month)
        assert again.sources["console_forms"] == [f"{deployed_lab.center.name}: 0 copied, 1 unchanged"]
    finally:   # as the lab was: no form for that month on either side
        sh(deployed_lab, f"rm -f {remote}", check=False)
        local.unlink(missing_ok=True)


def test_a_second_console_deploy_changes_nothing(deployed_lab):
    again = deploy(deployed_lab.inventory, limit=deployed_lab.center.name, tags="console")
    assert again.ok and again.changed == 0, [(h.host, h.changed, h.error) for h in again.hosts]
