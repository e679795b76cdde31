"""`provision accounts inactive`: enabled accounts without a sign-in for N days, from the directory's own
last-bind time (slapd's lastbind overlay, as roles/directory configures it on the center)."""
from __future__ import annotations

import datetime as dt
import json

import ldap3
from acct_helpers import cli, sheet_passwords
from conftest import BASE
from test_lifecycle import BASIC, apply

from provisioning.accounts import service


def test_a_sign_in_is_recorded_and_accounts_without_one_are_reported(env):
    _, result = apply(env, BASIC)
    pw = sheet_passwords(result.sheets)
    c = ldap3.Connection(env.stack.slapd.url, f"uid=annv,ou=People,{BASE}", pw["annv"], auto_bind=True)
    c.unbind()
    ctx = service.load(env.inventory)
    assert service.inactive(ctx, 1).accounts == []            # both made today
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=46)
    res = service.inactive(ctx, None, now=later)              # accounts.inactive_days (45) later
    assert res.days == 45
    seen = {a.uid: a for a in res.accounts}
    assert set(seen) == {"annv", "hattt"}
    assert seen["annv"].last_sign_in and seen["annv"].last_sign_in[:10] == dt.date.today().isoformat()
    assert seen["hattt"].last_sign_in is None and seen["hattt"].days >= 45   # never signed in since created
    # a disabled account is not "inactive": it is already closed
    left = [list(r) for r in BASIC]
    left[1][7] = "Nghỉ việc"
    apply(env, left, "left.csv")
    assert {a.uid for a in service.inactive(ctx, None, now=later).accounts} == {"annv"}


def test_cli_inactive_json_and_bad_days(env):
    apply(env, BASIC)
    r = cli("accounts", "inactive", "-i", str(env.inventory), "--days", "0", "--json", env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["days"] == 0 and {a["uid"] for a in out["accounts"]} == {"annv", "hattt"}
    assert all(a["last_sign_in"] is None for a in out["accounts"])
    r = cli("accounts", "inactive", "-i", str(env.inventory), "--days", "0", "--lang", "en", env=env)
    assert r.returncode == 0 and "never" in r.stdout and "annv" in r.stdout
    r = cli("accounts", "inactive", "-i", str(env.inventory), "--days", "-3", env=env)
    assert r.returncode == 2 and "--days" in r.stderr and "Traceback" not in r.stderr
