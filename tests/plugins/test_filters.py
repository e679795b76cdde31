"""The roles' filter plugins (plugins/filter/province.py), called as plain functions: no Ansible run."""
import base64
import importlib.util
import re
import textwrap

import pytest
from ansible.errors import AnsibleFilterError

from tests.conftest import ROOT


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"filter_{name}", ROOT / "plugins" / "filter" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


f = load("province")

UNITS = [
    {"code": "000.00.00.H01", "name": "Trung tâm", "wan": ["10.20.0.0/24"], "admitted": ["10.20.0.0/24"]},
    {"code": "000.00.01.H01", "name": "Sở Nội vụ", "wan": ["10.20.1.0/24", "10.20.0.0/24"],
     "admitted": ["10.20.1.0/24", "10.20.0.0/24"]},
    {"code": "000.00.02.H01", "name": "UBND xã", "wan": ["10.20.2.0/24"], "admitted": ["10.20.2.0/24", "10.20.0.0/24"]},
]
SERVERS = {"center1": {"address": "10.20.0.10"}, "unit1": {"address": "10.20.1.10"}}


def test_ansible_finds_every_filter_by_its_name():
    names = f.FilterModule().filters()
    assert {"province_unit", "wan_ranges", "ntp_clients", "dkim_txt_strings", "next_zone_serial"} <= set(names)
    assert all(fn.__name__ == name for name, fn in names.items())


def test_ansible_cfg_points_at_the_filter_folder():
    assert re.search(r"^filter_plugins\s*=\s*plugins/filter\s*$", (ROOT / "ansible.cfg").read_text(), re.M)


def test_province_unit_by_code_and_a_clear_error_for_an_unknown_one():
    assert f.province_unit(UNITS, "000.00.02.H01")["name"] == "UBND xã"
    with pytest.raises(AnsibleFilterError, match="000.00.09.H01"):
        f.province_unit(UNITS, "000.00.09.H01")


def test_unit_names_and_codes_keep_the_province_order():
    assert f.unit_codes(UNITS) == ["000.00.00.H01", "000.00.01.H01", "000.00.02.H01"]
    assert list(f.unit_names(UNITS).items())[1] == ("000.00.01.H01", "Sở Nội vụ")


def test_wan_ranges_lists_each_network_once_in_order():
    assert f.wan_ranges(UNITS) == ["10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24"]
    assert f.wan_ranges([{"code": "x", "wan": []}, {"code": "y"}]) == []


def test_server_addresses():
    assert f.server_addresses(SERVERS) == {"center1": "10.20.0.10", "unit1": "10.20.1.10"}


def test_ntp_clients_center_serves_every_unit_a_unit_server_its_admitted_networks():
    assert f.ntp_clients(UNITS, "center1", "center1") == ["10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24"]
    assert f.ntp_clients(UNITS, "unit2", "center1", "000.00.02.H01") == ["10.20.2.0/24", "10.20.0.0/24"]
    with pytest.raises(AnsibleFilterError, match="unit2"):
        f.ntp_clients(UNITS, "unit2", "center1", None)


def test_resolvers_center_itself_units_fall_back_to_the_center():
    assert f.resolvers("center1", "center1", SERVERS) == ["127.0.0.1"]
    assert f.resolvers("unit1", "center1", SERVERS) == ["127.0.0.1", "10.20.0.10"]


def test_in_zone():
    assert f.in_zone(["ldap", "mail"], "lab.gov.vn") == ["ldap.lab.gov.vn", "mail.lab.gov.vn"]
    assert f.in_zone([], "lab.gov.vn") == []


def test_zone_serial_read_from_the_zone_file_zero_without_one():
    zone = "@\tIN\tSOA\tns1.x. h.x. (\n\t\t2026120503\t; serial\n\t\t3600\t; refresh\n"
    assert f.zone_serial(zone) == 2026120503
    assert f.zone_serial("") == 0


def test_next_zone_serial_keeps_it_while_unchanged_else_the_later_of_old_plus_one_and_today():
    assert f.next_zone_serial(2026120503, True, "2026-12-06") == 2026120503
    assert f.next_zone_serial(2026120503, False, "2026-12-05") == 2026120504
    assert f.next_zone_serial("2026120503", False, "2026-12-06") == 2026120600
    assert f.next_zone_serial(0, False, "2026-12-06") == 2026120600
    assert f.next_zone_serial(7, "True", "2026-12-06") == 7
    assert f.next_zone_serial(7, "False", "2026-12-06") == 2026120600


def test_dkim_txt_strings_is_the_pem_body_in_pieces_the_first_with_p():
    der = bytes(range(256)) * 2
    body = base64.b64encode(der).decode()
    pem = "-----BEGIN PUBLIC KEY-----\n" + "\n".join(textwrap.wrap(body, 64)) + "\n-----END PUBLIC KEY-----\n"
    pieces = f.dkim_txt_strings(pem)
    assert pieces[0].startswith("p=") and all(len(p) <= 202 for p in pieces) and len(pieces) > 1
    assert "".join(pieces) == "p=" + body
    with pytest.raises(AnsibleFilterError):
        f.dkim_txt_strings("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n")


def test_ldap_starttls_flag_only_for_plain_ldap():
    assert f.ldap_starttls_flag("ldap://dir.lab.gov.vn") == "-ZZ "
    assert f.ldap_starttls_flag("ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi") == ""
    assert f.ldap_starttls_flag("ldaps://dir.lab.gov.vn") == ""


def test_unit_group_entries_two_groups_per_unit_with_the_placeholder():
    names = f.unit_names(UNITS[:2])
    entries = f.unit_group_entries(list(names), names, "dc=x,dc=vn", "cn=admin,dc=x,dc=vn")
    assert [e["dn"] for e in entries] == ["cn=unit-000.00.00.H01,ou=Groups,dc=x,dc=vn",
                                          "cn=unit-000.00.01.H01,ou=Groups,dc=x,dc=vn",
                                          "cn=admins-000.00.00.H01,ou=Groups,dc=x,dc=vn",
                                          "cn=admins-000.00.01.H01,ou=Groups,dc=x,dc=vn"]
    assert entries[1]["attributes"] == {"objectClass": ["top", "groupOfNames"], "cn": "unit-000.00.01.H01",
                                        "description": "Cán bộ: Sở Nội vụ", "member": "cn=admin,dc=x,dc=vn"}
    assert entries[3]["attributes"]["description"] == "Quản trị: Sở Nội vụ"
    with pytest.raises(AnsibleFilterError, match="000.00.09.H01"):
        f.unit_group_entries(["000.00.09.H01"], names, "dc=x,dc=vn", "cn=admin,dc=x,dc=vn")


def test_province_role_group_entries_are_the_consoles_two_groups():
    entries = f.province_role_group_entries("dc=x,dc=vn", "cn=admin,dc=x,dc=vn")
    assert [e["dn"] for e in entries] == ["cn=province-hr,ou=Groups,dc=x,dc=vn",
                                          "cn=province-office,ou=Groups,dc=x,dc=vn"]
    assert all(e["attributes"]["member"] == "cn=admin,dc=x,dc=vn" for e in entries)
