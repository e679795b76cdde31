"""The rules of provision-sender-milter (roles/mail/files), the mail role's header From: checks, on the
attacks they stop and the mail they must let through. The milter itself runs on the lab
(tests/deploy/test_mailauth_lab.py)."""
import importlib.machinery
import importlib.util
import ipaddress

import pytest

from tests.conftest import ROOT

DOMAINS = ["bentre.gov.vn"]


@pytest.fixture(scope="module")
def milter():
    path = ROOT / "roles" / "mail" / "files" / "provision-sender-milter"
    loader = importlib.machinery.SourceFileLoader("provision_sender_milter", str(path))
    spec = importlib.util.spec_from_loader("provision_sender_milter", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def logged_in(milter, sender, *fields):
    return milter.check_headers("binhtt", sender, list(fields), True, DOMAINS)


def outside(milter, *fields, trusted=False):
    return milter.check_headers(None, "someone@so-ngoai.example.vn", list(fields), trusted, DOMAINS)


def test_an_official_sends_as_himself_or_as_his_alias(milter):
    assert logged_in(milter, "binhtt@bentre.gov.vn", "Trần Thị Bình <binhtt@bentre.gov.vn>") is None
    assert logged_in(milter, "vanthu@bentre.gov.vn", "=?utf-8?b?VsSDbiB0aMawIFPhu58=?= <VanThu@BenTre.gov.vn>") is None
    assert logged_in(milter, "binhtt@bentre.gov.vn", "binhtt@bentre.gov.vn") is None


@pytest.mark.parametrize("field", [
    "Giám đốc Sở <giamdoc@bentre.gov.vn>",                          # another official
    "binhtt@bentre.gov.vn, giamdoc@bentre.gov.vn",                  # a second author
    '"giamdoc@bentre.gov.vn" <binhtt@bentre.gov.vn>',               # another address shown as the name
    "=?utf-8?q?giamdoc=40bentre=2Egov=2Evn?= <binhtt@bentre.gov.vn>",  # ... hidden in an encoded word
    "undisclosed",                                                  # no address at all
])
def test_an_official_cannot_write_another_from(milter, field):
    why = logged_in(milter, "binhtt@bentre.gov.vn", field)
    assert why and ("binhtt" in why or "no address" in why), why


def test_one_from_field_only_after_login(milter):
    assert "exactly one" in logged_in(milter, "binhtt@bentre.gov.vn", "binhtt@bentre.gov.vn", "binhtt@bentre.gov.vn")
    assert "exactly one" in logged_in(milter, "binhtt@bentre.gov.vn")


def test_null_sender_refused_after_login_only(milter):
    assert "not allowed after login" in milter.check_envelope("binhtt", "")
    assert milter.check_envelope(None, "") is None                   # a bounce from another server
    assert milter.check_envelope("binhtt", "binhtt@bentre.gov.vn") is None


@pytest.mark.parametrize("field", [
    "Giám đốc Sở <giamdoc@bentre.gov.vn>",
    "giamdoc@BENTRE.GOV.VN",
    "<ketoan@snv.bentre.gov.vn>",                                   # a subdomain
    '"giamdoc@bentre.gov.vn" <x@so-ngoai.example.vn>',               # the province's address as the name
    "=?utf-8?q?giamdoc=40bentre=2Egov=2Evn?= <x@so-ngoai.example.vn>",
])
def test_outside_mail_cannot_claim_the_province(milter, field):
    assert "address of the province" in outside(milter, field)


def test_outside_mail_of_other_domains_and_trusted_clients_pass(milter):
    assert outside(milter, "Văn phòng <vanphong@so-ngoai.example.vn>") is None
    assert outside(milter, "someone@notbentre.gov.vn") is None      # a different domain, not a subdomain
    assert outside(milter) is None                                  # no From: (not the province's)
    assert outside(milter, "giamdoc@bentre.gov.vn", trusted=True) is None   # a unit server, this host


def test_trusted_clients_are_mynetworks_or_local(milter):
    nets = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.0.0.74/32")]
    assert milter.trusted_client("10.0.0.74", nets) and milter.trusted_client("127.0.0.1", nets)
    assert milter.trusted_client(None, nets)                         # Postfix's own (sendmail) mail
    assert not milter.trusted_client("10.0.0.75", nets)
    assert not milter.trusted_client("192.0.2.1", nets)


def test_reply_text_is_what_libmilter_takes(milter):
    assert milter.reply_text("100% Giám đốc\r\n") == "100%% Gi?m ??c??"


def test_config_file(milter, tmp_path):
    conf = tmp_path / "sender-milter.conf"
    conf.write_text("# comment\nsocket = inet:8893@127.0.0.1\ndomains = bentre.gov.vn, tinh.example\n")
    got = milter.read_config(str(conf))
    assert milter.split_list(got["domains"]) == ["bentre.gov.vn", "tinh.example"]
    conf.write_text("socket = inet:8893@127.0.0.1\n")
    with pytest.raises(SystemExit, match="domains is missing"):
        milter.read_config(str(conf))
