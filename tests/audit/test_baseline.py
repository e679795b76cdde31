"""Baseline rules: operators at their limits, missing facts, and clear errors for bad files."""
import pytest
import yaml

from provisioning.audit.baseline import DEFAULT_BASELINE, BaselineError, load_baseline, parse_baseline
from provisioning.audit.grading import grade
from provisioning.audit.messages import FACT_LABELS
from provisioning.audit import linux, network


def rules(body: dict, role: str = "workstation"):
    return parse_baseline({"version": 1, "roles": {role: body}}, "test.yml")


def check(spec, actual, fact="ram_mb", role="workstation"):
    c = rules({fact: spec}, role).evaluate(role, {fact: actual} if actual is not None else {})[0]
    return c


@pytest.mark.parametrize("spec,actual,ok", [
    (">=3800", 3800, True), (">=3800", 3799, False), (">= 3800", 3801, True),
    ("<=8", 8, True), ("<=8", 9, False), ("<8", 8, False), ("<8", 7, True), (">2", 2, False), (">2", 3, True),
    ("==4", 4, True), ("==4", 4.0, True), ("!=4", 4, False),
    ("2-8", 2, True), ("2-8", 8, True), ("2-8", 1, False), ("2-8", 9, False), ("2<->8", 8, True),
    ({"range": {"min": 2}}, 2, True), ({"range": {"min": 2}}, 1, False), ({"range": {"max": 8}}, 8, True),
    ({"range": [2, 8]}, 8.0, True), ({"range": [2, 8]}, 8.1, False), ({"range": "2-8"}, 5, True),
])
def test_comparisons_are_inclusive_or_strict_exactly_at_the_limit(spec, actual, ok):
    assert check(spec, actual).passed is ok


def test_numeric_rules_read_numeric_strings_and_refuse_text():
    assert check(">=12", "12", fact="os_version").passed
    assert check(">=20", "22.04", fact="os_version").passed
    assert not check(">=12", "bookworm", fact="os_version").passed


def test_allowed_lists_regex_and_exact_values():
    assert check(["debian", "ubuntu"], "ubuntu", fact="os_id").passed
    assert not check(["debian", "ubuntu"], "centos", fact="os_id").passed
    assert check({"regex": r"^Debian GNU/Linux 1[23]\b"}, "Debian GNU/Linux 12 (bookworm)", fact="os_name").passed
    assert not check({"regex": r"^Debian GNU/Linux 1[23]\b"}, "Debian GNU/Linux 10 (buster)", fact="os_name").passed
    assert check("x86_64", "x86_64", fact="arch").passed
    assert not check("x86_64", "i686", fact="arch").passed
    # a boolean rule wants a boolean: the string "True" from a broken parser is not a saved config
    assert check({"exact": True}, True, fact="config_saved", role="switch").passed
    assert not check({"exact": True}, "True", fact="config_saved", role="switch").passed
    assert not check(True, False, fact="config_saved", role="switch").passed


def test_a_missing_fact_fails_with_actual_missing():
    c = check(">=3800", None)
    assert (c.passed, c.actual, c.expected) == (False, "missing", ">= 3800")


@pytest.mark.parametrize("body,needle", [
    ({"ram_mb": "=>4096"}, "roles.workstation.ram_mb: unknown operator '=>'"),
    ({"ram_mb": "~4096"}, "roles.workstation.ram_mb: unknown operator '~'"),
    ({"ram_mb": {"expect": ">>4096"}}, "roles.workstation.ram_mb.expect: unknown operator '>>'"),
    ({"ram_gb": ">=4"}, "roles.workstation.ram_gb: unknown fact for a workstation"),
    ({"config_saved": True}, "roles.workstation.config_saved: unknown fact"),
    ({"ram_mb": {"expct": ">=4"}}, "roles.workstation.ram_mb.expct: unknown key"),
    ({"ram_mb": {"expect": ">=4", "range": "1-2"}}, "roles.workstation.ram_mb: needs exactly one of"),
    ({"ram_mb": {"expect": ">=4", "severity": "nice"}}, "roles.workstation.ram_mb.severity: 'nice'"),
    ({"ram_mb": {"range": {"min": 8, "max": 2}}}, "roles.workstation.ram_mb.range: range minimum 8"),
    ({"ram_mb": {"range": {"low": 2}}}, "roles.workstation.ram_mb.range.low: unknown key"),
    ({"ram_mb": "9-2"}, "roles.workstation.ram_mb: range '9-2'"),
    ({"os_name": {"regex": "("}}, "roles.workstation.os_name.regex: invalid regular expression"),
    ({"os_id": []}, "roles.workstation.os_id: an allowed list must not be empty"),
])
def test_invalid_rules_name_the_file_and_key(body, needle):
    with pytest.raises(BaselineError) as e:
        rules(body)
    assert str(e.value).startswith("test.yml: ")
    assert needle in str(e.value)


def test_unknown_role_and_top_level_keys_are_errors():
    with pytest.raises(BaselineError, match=r"roles.desktop: unknown role"):
        parse_baseline({"roles": {"desktop": {"ram_mb": ">=1"}}}, "b.yml")
    with pytest.raises(BaselineError, match=r"b.yml: rolse: unknown key"):
        parse_baseline({"rolse": {}}, "b.yml")


def test_bad_files_are_named(tmp_path):
    bad = tmp_path / "b.yml"
    bad.write_text("roles: [\n", encoding="utf-8")
    with pytest.raises(BaselineError, match=r"b.yml: line \d+: invalid YAML"):
        load_baseline(bad)
    with pytest.raises(BaselineError, match="baseline file not found"):
        load_baseline(tmp_path / "none.yml")


def test_grade_required_fails_recommended_warns():
    b = rules({"ram_mb": ">=3800", "disk_total_gb": {"expect": ">=100", "severity": "recommended"}})
    assert grade(b.evaluate("workstation", {"ram_mb": 4000, "disk_total_gb": 500})) == "pass"
    assert grade(b.evaluate("workstation", {"ram_mb": 4000, "disk_total_gb": 80})) == "warn"
    assert grade(b.evaluate("workstation", {"ram_mb": 2000, "disk_total_gb": 500})) == "fail"
    assert grade(b.evaluate("workstation", {"disk_total_gb": 500})) == "fail"  # missing required fact


def test_default_baseline_covers_every_role_and_explains_every_rule():
    b = load_baseline()
    assert set(b.rules) == {"server", "workstation", "switch", "router"}
    data = yaml.safe_load(DEFAULT_BASELINE.read_text(encoding="utf-8"))
    for role, body in data["roles"].items():
        for fact, spec in body.items():
            assert isinstance(spec, dict) and spec.get("why"), f"{role}.{fact} has no why"
    # a 4 GB office PC (MemTotal ~3.9 GB), 2 cores, 50 GB free, Debian 12 passes the workstation rules
    pc = {"cpu_cores": 2, "ram_mb": 3921, "root_free_gb": 50.0, "disk_total_gb": 238.5, "arch": "x86_64",
          "os_name": "Debian GNU/Linux 12 (bookworm)"}
    assert grade(b.evaluate("workstation", pc)) == "pass"
    assert grade(b.evaluate("workstation", {**pc, "ram_mb": 1987})) == "fail"
    # 4 GB installed with integrated graphics reports less: exactly 3500 MB still counts as 4 GB
    assert grade(b.evaluate("workstation", {**pc, "ram_mb": 3500})) == "pass"
    assert grade(b.evaluate("workstation", {**pc, "ram_mb": 3499})) == "fail"


def test_ram_classes_follow_installed_size_not_memtotal():
    from provisioning.audit.results import ram_bucket
    assert [ram_bucket(mb) for mb in (1000, 1890, 3500, 3900, 7800, 15900, 32000)] == [
        "< 2 GB", "2–4 GB", "4–8 GB", "4–8 GB", "8–16 GB", "≥ 16 GB", "≥ 16 GB"]


def test_every_checkable_fact_has_a_vietnamese_and_english_label():
    assert set(linux.CHECKABLE_FACTS) | set(network.CHECKABLE_FACTS) <= set(FACT_LABELS)



def _server_facts(os_id: str, version: str, pretty: str) -> dict:
    """A server's facts as the audit parses them from its facts script, /etc/os-release included."""
    from tests.audit.audit_fakes import profile, render_output

    p = {**profile(7), "cpu_cores": 4, "ram_mb": 8192, "disk_gb": 500, "root_free_gb": 120,
         "os_id": os_id, "os_version": version, "os_name": pretty}
    return linux.parse_facts(render_output(p))


@pytest.mark.parametrize("os_id,version,pretty,expected", [
    ("debian", "13", "Debian GNU/Linux 13 (trixie)", "pass"),
    ("debian", "12", "Debian GNU/Linux 12 (bookworm)", "warn"),
    ("debian", "11", "Debian GNU/Linux 11 (bullseye)", "fail"),
    ("debian", "10", "Debian GNU/Linux 10 (buster)", "fail"),
])
def test_default_baseline_grades_debian_releases_of_a_server(os_id, version, pretty, expected):
    b = load_baseline()
    checks = b.evaluate("server", _server_facts(os_id, version, pretty))
    assert grade(checks) == expected
    failed = {c.name: c for c in checks if not c.passed}
    if expected == "warn":  # oldstable: compliant, with the end of its support as the reason
        assert list(failed) == ["os_version"] and failed["os_version"].severity == "recommended"
        assert "June 2028" in failed["os_version"].why
    if expected == "fail":  # no security updates: the reason says so
        assert failed["os_version_major"].severity == "required"
        assert failed["os_version_major"].actual == int(version)
        assert "no longer get security updates" in failed["os_version_major"].why
    if expected == "pass":
        assert not failed
