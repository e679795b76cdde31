"""`provision deploy` refuses bad flags before anything is written or contacted (example province,
whose addresses must never be contacted)."""
import shutil

import pytest

from provisioning.deploy.runner import check_tags, deploy, playbook_tags
from provisioning.errors import BadInput
from tests.conftest import EXAMPLE


def test_unknown_tag_is_bad_input_and_nothing_is_written(tmp_path, monkeypatch):
    import ansible_runner

    inv = tmp_path / "inventory" / "example"
    shutil.copytree(EXAMPLE, inv)
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    # in-process, so that a broken check could never reach the example province's addresses
    monkeypatch.setattr(ansible_runner, "run", lambda **kw: pytest.fail("the playbook was started"))
    with pytest.raises(BadInput) as e:
        deploy(inv, tags="mail,thu-dien-tu")
    assert "'thu-dien-tu'" in str(e.value) and "'mail'" not in str(e.value) and "webmail" in str(e.value)
    assert not (tmp_path / "var").exists()          # no secrets generated, no run directory


def test_tags_are_those_of_the_playbook():
    known = playbook_tags()
    assert {"common", "pki", "directory", "ldap", "dns", "mail", "web", "webmail", "fileshare", "proxy",
            "backup", "package_mirror", "always"} <= known
    check_tags("dns, mail")          # spaces after commas are fine
    check_tags(None)
    for bad in ("", "mail,", "Mail"):
        with pytest.raises(BadInput, match="--tags"):
            check_tags(bad)


def test_missing_mitogen_is_bad_input_and_no_run_folder_is_left(tmp_path, monkeypatch):
    import ansible_runner

    from provisioning.transport import ansible

    inv = tmp_path / "inventory" / "example"
    shutil.copytree(EXAMPLE, inv)
    monkeypatch.setenv("PROVISION_DATA", str(tmp_path / "var"))
    monkeypatch.setattr(ansible_runner, "run", lambda **kw: pytest.fail("the playbook was started"))
    monkeypatch.setattr(ansible, "mitogen_strategies", lambda: None)   # as on a machine without Mitogen
    with pytest.raises(BadInput, match="Mitogen is not installed"):
        deploy(inv)
    assert not (tmp_path / "var").exists()          # no secrets generated, no empty run folder
