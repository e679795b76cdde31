"""Role facts as verify reads them: the output of one `tail -v` over /etc/ansible/facts.d/*.fact."""
from __future__ import annotations

import pytest

from provisioning.verify.context import Context, RoleFacts, Server, parse_role_facts


def test_every_fact_file_is_parsed():
    text = ('==> fileshare.fact <==\n{\n    "path": "/srv/samba/hoso",\n    "share": "hoso"\n}\n\n'
            '==> proxy.fact <==\n{"group": "unit-a", "port": 3129}\n')
    assert parse_role_facts(text) == {"fileshare": {"path": "/srv/samba/hoso", "share": "hoso"},
                                      "proxy": {"group": "unit-a", "port": 3129}}


def test_a_broken_file_is_left_out_and_nothing_is_empty():
    text = '==> pki.fact <==\n{"ca_path": \n==> proxy.fact <==\n[3128]\n==> mail.fact <==\n{"vmail_dir": "/v"}\n'
    assert parse_role_facts(text) == {"mail": {"vmail_dir": "/v"}}
    assert parse_role_facts("") == {}


class _Read(RoleFacts):
    def __init__(self, found):
        self.found = found

    def of(self, host_name):
        return self.found


def test_each_server_is_read_once_per_run_even_when_it_fails(monkeypatch):
    from types import SimpleNamespace

    from provisioning.errors import OperationFailed
    from provisioning.verify import context

    reads = []

    def read(province, host, timeout):
        reads.append(host.name)
        if host.name == "b-srv01":
            raise OperationFailed("b-srv01: the server's SSH host key is not the one in known_hosts")
        return {"proxy": {"port": 3128}}

    monkeypatch.setattr(context, "read_role_facts", read)
    province = SimpleNamespace(hosts={n: SimpleNamespace(name=n) for n in ("a-srv01", "b-srv01")})
    facts = RoleFacts(province, 5.0)
    for _ in range(3):
        assert facts.of("a-srv01") == {"proxy": {"port": 3128}}
        with pytest.raises(OperationFailed, match="host key"):
            facts.of("b-srv01")
    assert sorted(reads) == ["a-srv01", "b-srv01"]


def test_a_missing_role_fails_the_check_and_says_deploy_first():
    ctx = Context.__new__(Context)
    ctx.facts = _Read({"proxy": {"port": 3129}})
    srv = Server("a-srv01", "a", "10.0.0.1", "a-srv01.x.vn", False)
    assert ctx.fact(srv, "proxy", "port") == 3129
    with pytest.raises(AssertionError, match=r"role facts missing on a-srv01: deploy first .*fileshare\.fact"):
        ctx.fact(srv, "fileshare", "share")
    with pytest.raises(AssertionError, match="have no 'group'"):
        ctx.fact(srv, "proxy", "group")
