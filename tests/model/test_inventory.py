"""The province model: the example is valid; each kind of broken inventory fails with a message
naming the file, the unit or host, and the field."""
import json
import shutil

import pytest
import yaml

from provisioning.errors import BadInput
from provisioning.model import HostRole, InventoryError, UnitKind, load_province
from tests.conftest import EXAMPLE, run_cli


def test_example_is_valid_and_realistic():
    p = load_province(EXAMPLE)
    assert p.info.mail_domain == "bentre.gov.vn"
    assert p.center.kind == UnitKind.integration_center
    assert 10 <= len(p.units) <= 14
    kinds = {u.kind for u in p.units.values()}
    assert {UnitKind.department, UnitKind.commune, UnitKind.integration_center} <= kinds
    assert any("ư" in u.name or "ộ" in u.name for u in p.units.values())  # Vietnamese diacritics kept
    roles = {h.role for h in p.hosts.values()}
    assert roles == {HostRole.server, HostRole.workstation, HostRole.switch}
    assert all(h.device_type == "cisco_ios" for h in p.hosts.values() if h.is_network)
    assert all(h.unit in p.units for h in p.hosts.values())


def test_select_by_unit_host_and_pattern():
    p = load_province(EXAMPLE)
    assert {h.name for h in p.select("000.00.02.H09")} == {h.name for h in p.units["000.00.02.H09"].hosts}
    assert [h.name for h in p.select("snv-srv01")] == ["snv-srv01"]
    assert {h.name for h in p.select("*-sw01")} == {h.name for h in p.hosts.values() if h.is_network}
    with pytest.raises(BadInput, match="--limit '999.00.00.H09': matches no unit code"):
        p.select("999.00.00.H09")
    with pytest.raises(BadInput, match="--limit ','"):
        p.select(",")
    # report form's units: a unit code, or the units of the selected hosts
    assert [u.code for u in p.select_units("000.00.02.H09")] == ["000.00.02.H09"]
    assert [u.code for u in p.select_units("snv-srv01")] == [p.hosts["snv-srv01"].unit]
    assert len(p.select_units(None)) == len(p.units)
    with pytest.raises(BadInput, match="nope"):
        p.select_units("000.00.02.H09,nope")


def test_center_server_servers_and_ldap_target_are_answered_once():
    from provisioning.errors import BadInput

    p = load_province(EXAMPLE)
    servers = p.servers()
    assert servers and all(h.role == HostRole.server for h in servers)
    assert {h.name for h in servers} == {h.name for h in p.hosts.values()
                                         if set(h.groups) & {"center_servers", "unit_servers"}}
    assert p.center_server.name == "tthdl-srv01" and p.center_servers == [p.center_server]
    assert [h.name for h in p.servers("000.00.02.H09")] == ["snv-srv01"]
    with pytest.raises(BadInput, match="selects no server"):
        p.servers("snv-ws*")
    with pytest.raises(BadInput, match="matches no unit code"):
        p.servers("no-such-host")
    t = p.ldap_target()
    assert (t.url, t.host, t.base_dn) == ("ldap://10.20.0.10", p.center_server, "dc=bentre,dc=gov,dc=vn")
    assert t.bind_dn == "cn=provisioner,ou=Services,dc=bentre,dc=gov,dc=vn"
    assert t.tls_names == ("tthdl-srv01.bentre.gov.vn", "ldap.bentre.gov.vn") and not t.ldaps
    assert (t.people, t.groups) == ("ou=People,dc=bentre,dc=gov,dc=vn", "ou=Groups,dc=bentre,dc=gov,dc=vn")
    assert p.ldap_target("ldaps://ldap.example:636", "cn=x,dc=y").url == "ldaps://ldap.example:636"


def test_check_cli_prints_tree_and_exits_0():
    r = run_cli("inventory", "check", "-i", str(EXAMPLE))
    assert r.returncode == 0, r.stderr
    assert "Sở Nội vụ" in r.stdout and "snv-srv01" in r.stdout and "valid" in r.stdout
    r = run_cli("inventory", "check", "-i", str(EXAMPLE), "--json")
    data = json.loads(r.stdout)
    assert data["valid"] is True and data["counts"]["units"] == len(load_province(EXAMPLE).units)


def _broken(tmp_path, province=None, hosts=None, raw_hosts=None, raw_province=None):
    d = tmp_path / "inv"
    shutil.copytree(EXAMPLE, d)
    if province:
        data = yaml.safe_load((d / "province.yml").read_text())
        province(data)
        (d / "province.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    if hosts:
        data = yaml.safe_load((d / "hosts.yml").read_text())
        hosts(data)
        (d / "hosts.yml").write_text(yaml.safe_dump(data, allow_unicode=True))
    if raw_hosts is not None:
        (d / "hosts.yml").write_text(raw_hosts)
    if raw_province is not None:
        (d / "province.yml").write_text(raw_province)
    return d


def _unit(data, code):
    return next(u for u in data["units"] if u["code"] == code)


def _hosts(data, group):
    ch = data["all"]["children"]
    groups = {"center_servers": ch["servers"]["children"]["center_servers"],
              "unit_servers": ch["servers"]["children"]["unit_servers"],
              "workstations": ch["workstations"],
              "switches": ch["network_devices"]["children"]["switches"]}
    return groups[group]["hosts"]


BROKEN = {
    "unknown unit code on a host": (
        dict(hosts=lambda d: _hosts(d, "workstations")["snv-ws01"].update(unit="000.00.99.H09")),
        ["hosts.yml", "host snv-ws01", "unit", "unknown unit code '000.00.99.H09'"]),
    "host in no unit": (
        dict(hosts=lambda d: _hosts(d, "workstations")["snv-ws02"].pop("unit")),
        ["hosts.yml", "host snv-ws02", "unit", "belongs to no unit"]),
    "duplicate address": (
        dict(hosts=lambda d: _hosts(d, "workstations")["snv-ws02"].update(ansible_host="10.20.2.101")),
        ["host snv-ws02", "ansible_host", "already used by host snv-ws01"]),
    "mistyped IP address": (
        dict(hosts=lambda d: _hosts(d, "workstations")["snv-ws02"].update(ansible_host="10.20.2.300")),
        ["hosts.yml", "host snv-ws02", "ansible_host", "'10.20.2.300' is not a valid IP address"]),
    "duplicate host (same name twice in one group)": (
        dict(raw_hosts="all:\n  children:\n    workstations:\n      hosts:\n        a-ws01: {unit: 000.00.02.H09}\n"
                       "        a-ws01: {unit: 000.00.03.H09}\n"),
        ["hosts.yml", "line", "duplicate key 'a-ws01'"]),
    "bad CIDR": (
        dict(province=lambda d: _unit(d, "000.00.03.H09").update(wan=["10.20.3.0/33"])),
        ["province.yml", "unit 000.00.03.H09", "wan", "bad CIDR"]),
    "CIDR with host bits": (
        dict(province=lambda d: _unit(d, "000.00.03.H09").update(wan=["10.20.3.7/24"])),
        ["unit 000.00.03.H09", "wan", "10.20.3.7/24"]),
    "missing device_type": (
        dict(hosts=lambda d: _hosts(d, "switches")["stc-sw01"].pop("device_type")),
        ["host stc-sw01", "device_type", "netmiko device_type"]),
    "unknown device_type": (
        dict(hosts=lambda d: _hosts(d, "switches")["stc-sw01"].update(device_type="cisco_iosx")),
        ["host stc-sw01", "device_type", "cisco_iosx"]),
    "duplicate unit code": (
        dict(province=lambda d: d["units"].append(dict(_unit(d, "000.00.02.H09"), name="Sở Nội vụ 2"))),
        ["province.yml", "unit 000.00.02.H09", "code", "duplicate unit code"]),
    "unknown parent": (
        dict(province=lambda d: _unit(d, "000.00.04.H09").update(parent="000.00.77.H09")),
        ["unit 000.00.04.H09", "parent", "000.00.77.H09"]),
    "bad unit kind": (
        dict(province=lambda d: _unit(d, "000.00.04.H09").update(kind="ministry")),
        ["unit 000.00.04.H09", "kind", "'ministry' is not one of"]),
    "bad unit code": (
        dict(province=lambda d: _unit(d, "000.00.05.H09").update(code="Sở Tư pháp!")),
        ["units[", "code", "neither an agency identifier"]),
    "missing mail domain": (
        dict(province=lambda d: d["province"].pop("mail_domain")),
        ["province.yml", "province", "mail_domain", "required field is missing"]),
    "non-ASCII mail domain": (
        dict(province=lambda d: d["province"].update(mail_domain="bến-tre.gov.vn")),
        ["province", "mail_domain", "not a DNS domain"]),
    "bad DKIM selector": (
        dict(province=lambda d: d["province"].update(dkim_selector="thư_2026")),
        ["province", "dkim_selector", "not a DKIM selector"]),
    "bad base DN": (
        dict(province=lambda d: d["province"].update(base_dn="bentre.gov.vn")),
        ["province", "base_dn", "not a directory base DN"]),
    "unknown field (typo)": (
        dict(province=lambda d: _unit(d, "000.00.06.H09").update(wan_ranges=["10.1.0.0/24"])),
        ["unit 000.00.06.H09", "wan_ranges", "unknown field"]),
    "overlapping WAN ranges": (
        dict(province=lambda d: _unit(d, "000.00.06.H09").update(wan=["10.20.2.128/25"])),
        ["unit", "wan", "overlaps"]),
    "two integration centers": (
        dict(province=lambda d: _unit(d, "000.00.07.H09").update(kind="integration_center")),
        ["units", "kind", "exactly one unit must be the integration_center (found 2)"]),
    "host in groups of two roles": (
        dict(hosts=lambda d: _hosts(d, "workstations").update({"snv-srv01": {"unit": "000.00.02.H09",
                                                                              "ansible_host": "10.20.2.10"}})),
        ["host snv-srv01", "groups", "different roles"]),
    "invalid YAML": (
        dict(raw_province="province: {name: x\nunits: [\n"),
        ["province.yml", "line", "invalid YAML"]),
    "bad port": (
        dict(hosts=lambda d: _hosts(d, "workstations")["snv-ws01"].update(ansible_port="ssh")),
        ["host snv-ws01", "ansible_port", "not a TCP port"]),
    # the jobs' settings sections are typed: a wrong value is refused by `inventory check`, not only by its job
    "audit.workers not a number": (
        dict(province=lambda d: d.update(audit={"workers": "many"})),
        ["province.yml", "audit.workers", "'many' is not a positive number"]),
    "audit.timeout negative": (
        dict(province=lambda d: d.update(audit={"timeout": -5})),
        ["province.yml", "audit.timeout", "-5 is not a positive number"]),
    "audit unknown key": (
        dict(province=lambda d: d.update(audit={"worker": 5})),
        ["province.yml", "audit.worker", "unknown key"]),
    "accounts.retention_days negative": (
        dict(province=lambda d: d.update(accounts={"retention_days": -1})),
        ["province.yml", "accounts.retention_days", "greater than or equal to 0"]),
    "accounts.username_pattern placeholder": (
        dict(province=lambda d: d.update(accounts={"username_pattern": "{ten}"})),
        ["province.yml", "accounts.username_pattern", "unknown placeholder(s) {ten}"]),
    "accounts.mail_store.host unknown": (
        dict(province=lambda d: d.update(accounts={"mail_store": {"host": "nowhere-srv01"}})),
        ["province.yml", "accounts.mail_store.host", "'nowhere-srv01' is not a host of the inventory"]),
    "report.webmail_hosts not an address": (
        dict(province=lambda d: d.update(report={"webmail_hosts": ["10.31.0.999"]})),
        ["province.yml", "report.webmail_hosts", "'10.31.0.999' does not appear to be an IPv4 or IPv6 address"]),
    "report.mail_hosts unknown": (
        dict(province=lambda d: d.update(report={"mail_hosts": ["nope"]})),
        ["province.yml", "report.mail_hosts", "unknown host(s) nope"]),
    "services unknown key": (
        dict(province=lambda d: d.update(services={"proxy_port": 3128})),
        ["province.yml", "services.proxy_port", "unknown key"]),
    "security.officials.min_length too short": (
        dict(province=lambda d: d.update(security={"officials": {"min_length": 6}})),
        ["province.yml", "security.officials.min_length", "greater than or equal to 8"]),
    "security.administrators unknown key": (
        dict(province=lambda d: d.update(security={"administrators": {"lenght": 16}})),
        ["province.yml", "security.administrators.lenght", "unknown key"]),
    "security.webmail_idle_minutes not a number": (
        dict(province=lambda d: d.update(security={"webmail_idle_minutes": "forever"})),
        ["province.yml", "security.webmail_idle_minutes", "valid integer"]),
    "accounts.inactive_days zero": (
        dict(province=lambda d: d.update(accounts={"inactive_days": 0})),
        ["province.yml", "accounts.inactive_days", "greater than or equal to 1"]),
    "settings section not a mapping": (
        dict(province=lambda d: d.update(report=["mail_hosts"])),
        ["province.yml", "report", "valid dictionary"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_inventory_names_the_problem(tmp_path, case):
    changes, expected = BROKEN[case]
    d = _broken(tmp_path, **changes)
    with pytest.raises(InventoryError) as exc:
        load_province(d)
    text = str(exc.value)
    for part in expected:
        assert part in text, f"{case}: {part!r} not in:\n{text}"
    r = run_cli("inventory", "check", "-i", str(d))
    assert r.returncode == 2
    assert expected[-1] in r.stderr


def test_every_problem_reported_at_once(tmp_path):
    def hosts(d):
        _hosts(d, "workstations")["snv-ws01"].update(unit="nope-unit")
        _hosts(d, "switches")["stc-sw01"].pop("device_type")
    d = _broken(tmp_path, hosts=hosts, province=lambda d: _unit(d, "000.00.03.H09").update(wan=["bad"]))
    r = run_cli("inventory", "check", "-i", str(d), "--json")
    assert r.returncode == 2
    errs = json.loads(r.stdout)["errors"]
    fields = {(e["where"], e["field"]) for e in errs}
    assert {("unit 000.00.03.H09", "wan"), ("host stc-sw01", "device_type")} <= fields
    assert len(errs) >= 3


def test_each_settings_section_is_checked_by_inventory_check(tmp_path):
    def province(d):
        d.update(accounts={"retention_days": "forever"}, audit={"workers": 0}, report={"mail_logs": ["mail.log"]},
                 services={"proxy": {"port": 3128}})
    d = _broken(tmp_path, province=province)
    r = run_cli("inventory", "check", "-i", str(d), "--json")
    assert r.returncode == 2
    errs = json.loads(r.stdout)["errors"]
    assert {e["field"] for e in errs} == {"accounts.retention_days", "audit.workers", "report.mail_logs",
                                          "services.proxy"}
    assert all(e["file"].endswith("province.yml") for e in errs)


def test_password_and_session_policy_reach_the_roles_with_documented_defaults(tmp_path):
    from provisioning.deploy.runner import province_vars

    v = province_vars(load_province(_broken(tmp_path)))       # no security: section: the defaults
    assert v["province_password_policy"] == {"pwdMinLength": 10, "pwdInHistory": 5, "pwdMaxAge": 180 * 86400,
                                             "pwdMaxFailure": 5, "pwdLockoutDuration": 900,
                                             "pwdFailureCountInterval": 900}
    admin = v["province_admin_password_policy"]
    assert admin["pwdMinLength"] > 10 and admin["pwdInHistory"] > 5 and admin["pwdMaxFailure"] < 5
    assert v["province_webmail_idle_minutes"] == 15
    d = _broken(tmp_path / "set", province=lambda d: d.update(security={
        "officials": {"min_length": 12, "max_age_days": 0}, "administrators": {"history": 24},
        "webmail_idle_minutes": 10}))
    v = province_vars(load_province(d))
    assert v["province_password_policy"]["pwdMinLength"] == 12 and v["province_password_policy"]["pwdMaxAge"] == 0
    assert v["province_admin_password_policy"]["pwdInHistory"] == 24
    assert v["province_admin_password_policy"]["pwdMinLength"] == 14      # the rest keep their defaults
    assert v["province_webmail_idle_minutes"] == 10


def test_missing_directory_is_bad_input(tmp_path):
    r = run_cli("inventory", "check", "-i", str(tmp_path / "nope"))
    assert r.returncode == 2 and "inventory directory not found" in r.stderr


def test_host_addresses_outside_their_unit_are_warned_not_refused(tmp_path):
    def hosts(d):
        _hosts(d, "workstations")["snv-ws01"].update(ansible_host="10.20.3.150")   # in Sở Tài chính's range
        _hosts(d, "workstations")["snv-ws02"].update(ansible_host="10.30.0.1")     # in nobody's range
    d = _broken(tmp_path, hosts=hosts)
    r = run_cli("inventory", "check", "-i", str(d), "--json")
    assert r.returncode == 0, r.stderr
    warnings = [w for w in json.loads(r.stdout)["warnings"] if w.startswith("host ")]
    assert warnings == [
        "host snv-ws01 (unit 000.00.02.H09): address 10.20.3.150 is in the WAN range of unit 000.00.03.H09 "
        "(Sở Tài chính)",
        "host snv-ws02 (unit 000.00.02.H09): address 10.30.0.1 is outside the unit's WAN ranges (10.20.2.0/24)"]
    # the shipped example has none
    assert not [w for w in json.loads(run_cli("inventory", "check", "-i", str(EXAMPLE), "--json").stdout)["warnings"]
                if w.startswith("host ")]
