"""verify's SSH goes through transport.ssh: a server whose host key is unknown or changed is refused
before anything is sent, and only that server's checks fail (with the host-key reason); a server that
answers but has no role facts fails the checks that need them with "deploy first". Against a real
OpenSSH server on loopback (fixtures/sshd.py)."""
from __future__ import annotations

import pytest

from fixtures.sshd import write_inventory
from provisioning.errors import HostKeyError
from provisioning.model import load_province
from provisioning.verify.context import FACTS_DIR, Context, RoleFacts, server
from provisioning.verify.run import _unreadable


@pytest.fixture
def province(sshd, tmp_path, monkeypatch):
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    return load_province(write_inventory(tmp_path / "inv", sshd))


def _ctx(province) -> Context:
    ctx = Context.__new__(Context)           # no CA or secrets needed for what is tested here
    ctx.province, ctx.facts, ctx.timeout = province, RoleFacts(province, 5.0), 5.0
    return ctx


def test_a_refused_host_key_stops_that_server_only(province):
    ctx = _ctx(province)
    by_name = {h.name: server(province, h) for h in province.hosts.values()}
    assert _unreadable(ctx, by_name["c-srv01"]) == ""                  # known key: read
    unknown, changed = _unreadable(ctx, by_name["a-srv01"]), _unreadable(ctx, by_name["a-srv02"])
    assert "a-srv01" in unknown and "SSH host key unknown" in unknown, unknown
    assert "a-srv02" in changed and "SSH host key CHANGED" in changed, changed
    with pytest.raises(HostKeyError):
        ctx.facts.of("a-srv02")
    with pytest.raises(AssertionError, match="SSH host key CHANGED"):
        ctx.fact(by_name["a-srv02"], "proxy", "port")


def test_a_server_without_role_facts_says_deploy_first(province):
    ctx = _ctx(province)
    center = server(province, province.center_server)
    with pytest.raises(AssertionError, match=rf"role facts missing on c-srv01: deploy first \(no {FACTS_DIR}/"
                                             rf"no-such-role\.fact\)"):
        ctx.fact(center, "no-such-role", "port")
