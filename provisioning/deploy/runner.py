"""Run playbooks/site.yml on a province through ansible-runner.

What the playbook gets:
- the inventory's own hosts.yml (with its group_vars/host_vars), limited to the selected servers;
- the province's facts as extra vars (`province_*`, see `province_vars`), so roles never parse
  province.yml; they are not secret and are kept with the run's artifacts (env/extravars);
- the secrets as `vault_*` variables from the ansible-vault file (`-e @vault.yml
  --vault-password-file`): only file names reach the artifacts; tasks using them are no_log.

Each run keeps its ansible-runner artifacts (job events, stdout, command) in
`var/<inventory>/deploy/<run>/`.

Engine: by default the playbook runs under Mitogen's linear strategy (`mitogen` package): one
persistent Python interpreter per host over the same SSH connection, instead of Ansible copying and
starting a fresh interpreter for every task. A converged province is many small tasks (about 400
module runs on a center and two unit servers), each costing Ansible ~0.2 s of interpreter start and
module import; under Mitogen the no-change run is about 3x faster (tests/bench/deploy_bench.py).
`mitogen=False` (`provision deploy --no-mitogen`) is plain Ansible over SSH, the escape hatch if a
host or module ever misbehaves under Mitogen; both engines run the same playbook and the tests run the
no-change deploy under both. ansible-core 2.19 prints a deprecation notice for every third-party
strategy plugin (no removal version is set); pyproject pins ansible-core below 2.20, so an upgrade is
a deliberate step that re-runs those tests.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths, secrets
from ..errors import BadInput
from ..model import UNIT_GROUP, Province, load_province
from ..results import OnProgress, ProgressStep
from ..transport import ansible

REPO = ansible.REPO
PLAYBOOK = REPO / "playbooks" / "site.yml"
ANSIBLE_CFG = ansible.ANSIBLE_CFG
# Service names in the province zone that point to the center (contract: TLS SANs, DNS, /etc/hosts).
CENTER_SERVICES = ["ldap", "mail", "smtp", "imap", "www", "portal", "ns1", "console", "pki"]


@dataclass
class HostStats:
    """One server's part of a run: the recap's task counts (`tasks_ok`, `tasks_changed`, `failed`...) and,
    as every job's per-host result (results.HostResult), `ok`, `changed` and `error`."""
    host: str
    tasks_ok: int = 0
    tasks_changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0
    task: str = ""      # last task seen (live progress)
    error: str = ""     # first failure message (no_log results are censored by Ansible)
    note: str = ""      # e.g. a check run on a server that was never deployed

    @property
    def ok(self) -> bool:
        return not (self.failed or self.unreachable)

    @property
    def changed(self) -> bool:
        return self.tasks_changed > 0

    @property
    def status(self) -> str:
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        return "changed" if self.changed else "ok"


@dataclass
class DeployResult:
    inventory: str
    run: str
    artifacts: str
    check: bool
    status: str
    rc: int
    seconds: float
    hosts: list[HostStats] = field(default_factory=list)
    error: str = ""     # why the playbook did not run at all (syntax, missing role...)
    engine: str = "ansible"     # "mitogen" or "ansible" (plain SSH, one interpreter per task)

    @property
    def ok(self) -> bool:
        return self.rc == 0 and all(h.failed == 0 and h.unreachable == 0 for h in self.hosts)

    @property
    def changed(self) -> int:
        """Tasks that changed something, over every host."""
        return sum(h.tasks_changed for h in self.hosts)


def servers(province: Province, limit: str | None) -> list[str]:
    """Servers selected by --limit (site.yml only targets servers); BadInput when none."""
    return [h.name for h in province.servers(limit)]


def province_vars(province: Province) -> dict:
    """Province facts for the roles (extra vars `province_*`)."""
    zone = province.dns_zone
    all_servers = {h.name: {"address": h.address, "unit": h.unit, "fqdn": province.fqdn(h)}
                   for h in province.servers()}
    center_wan = [str(n) for u in province.units.values() if u.kind.value == "integration_center" for n in u.wan]
    return {
        "province_name": province.info.name,
        "province_code": province.info.code or "",
        "province_mail_domain": province.info.mail_domain,
        "province_base_dn": province.info.base_dn,
        "province_dns_zone": zone,
        "province_timezone": province.info.timezone,
        "province_center_host": province.center_server.name,
        "province_center_services": CENTER_SERVICES,
        # <selector>._domainkey.<mail domain>; the pki role makes one key per selector
        "province_dkim_selector": province.info.dkim_selector,
        "province_unit_servers": sorted(h.name for h in province.servers() if UNIT_GROUP in h.groups),
        "province_servers": all_servers,
        # password and session policy (province.yml `security:`, typed in model/settings.py)
        "province_password_policy": province.settings.security.officials.ppolicy(),
        "province_admin_password_policy": province.settings.security.administrators.ppolicy(),
        "province_webmail_idle_minutes": province.settings.security.webmail_idle_minutes,
        # the level's shortest retention of the central logs (province.yml `compliance:`)
        "province_log_retention_min_days": province.settings.compliance.log_retention_days,
        "province_units": [
            {"code": u.code, "name": u.name, "kind": u.kind.value, "parent": u.parent,
             "wan": [str(n) for n in u.wan],
             # what a unit server's services (NTP, file share, proxy) let in: the unit's networks and
             # the integration center's (administration, `provision verify`)
             "admitted": list(dict.fromkeys([str(n) for n in u.wan] + center_wan)),
             "servers": [h.name for h in u.hosts if h.name in all_servers]}
            for u in province.units.values()
        ],
    }


# site.yml's first play: in a check run, a server without /etc/provision/deployed stops after this task.
NEVER_DEPLOYED_TASK = "Never deployed, a check run stops here"
NEVER_DEPLOYED_NOTE = "never deployed: a real run would install and configure every service"

EVENT_COUNTERS = {
    "runner_on_ok": "tasks_ok", "runner_on_failed": "failed", "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


class Progress:
    """Per-host counters built from the runner's event stream (shown live, checked against the recap)."""

    def __init__(self, hosts: list[str], on_progress: OnProgress | None = None):
        self.hosts = {h: HostStats(h) for h in hosts}
        self.on_progress = on_progress
        self.play = ""

    def __call__(self, event: dict) -> bool:
        data = event.get("event_data", {})
        kind = event.get("event", "")
        if kind == "playbook_on_play_start":
            self.play = data.get("play", "")
        host = data.get("host")
        if host in self.hosts:
            st = self.hosts[host]
            if kind == "runner_on_start":
                st.task = data.get("task", "")
            elif kind in EVENT_COUNTERS:
                res = data.get("res") or {}
                if kind == "runner_on_failed" and data.get("ignore_errors"):
                    st.ignored += 1
                else:
                    setattr(st, EVENT_COUNTERS[kind], getattr(st, EVENT_COUNTERS[kind]) + 1)
                if kind == "runner_on_ok" and res.get("changed"):
                    st.tasks_changed += 1
                if kind == "runner_on_ok" and data.get("task") == NEVER_DEPLOYED_TASK:
                    st.note = NEVER_DEPLOYED_NOTE
                if kind in ("runner_on_failed", "runner_on_unreachable") and not st.error \
                        and not data.get("ignore_errors"):
                    st.error = f"{data.get('task', '')}: {ansible.explain(str(res.get('msg', '')))[:300]}"
            if self.on_progress:
                self.on_progress(ProgressStep("deploy", phase=self.play, total=len(self.hosts), item=host,
                                              result=st))
        return True  # keep every event in the artifacts


# Tags Ansible itself understands in --tags.
SPECIAL_TAGS = ("all", "always", "never", "tagged", "untagged")


def playbook_tags() -> set[str]:
    """Every tag site.yml and the roles' task files give (what --tags may name)."""
    import yaml

    found: set[str] = set(SPECIAL_TAGS)

    def walk(node) -> None:
        if isinstance(node, dict):
            t = node.get("tags")
            found.update(x.strip() for x in (t.split(",") if isinstance(t, str) else t or []))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for f in [PLAYBOOK, *sorted((REPO / "roles").glob("*/tasks/*.yml"))]:
        walk(yaml.safe_load(f.read_text(encoding="utf-8")))
    return found


def check_tags(tags: str | None) -> None:
    """Refuse --tags naming no tag of the playbook: Ansible would run only the `always` tasks and
    report success, as if the service had been deployed."""
    if tags is None:
        return
    known = playbook_tags()
    wanted = [t.strip() for t in tags.split(",")]
    unknown = [t for t in wanted if t not in known]
    if unknown:
        roles = sorted(known - set(SPECIAL_TAGS))
        raise BadInput(f"--tags: {', '.join(repr(t) for t in unknown)} is not a tag of playbooks/site.yml "
                       f"(tags: {', '.join(roles)})")


def deploy(inventory: str | Path, limit: str | None = None, check: bool = False, diff: bool = False,
           tags: str | None = None, on_progress: OnProgress | None = None,
           mitogen: bool = True) -> DeployResult:
    """Deploy the baseline services. Raises InventoryError/BadInput on bad input (nothing run)."""
    inventory = Path(inventory)
    province = load_province(inventory)
    hosts = servers(province, limit)
    check_tags(tags)
    # host keys checked, artifacts in var/<inventory>/deploy/<run>/ (transport.ansible)
    session = ansible.Session(inventory, "deploy", mitogen=mitogen, suffix="-check" if check else "")
    private, run = session.private_dir, session.ident
    secrets.ensure_secrets(inventory)

    cmdline = ["--vault-password-file", str(secrets.vault_password_file(inventory).resolve()),
               "-e", "@" + str(secrets.vault_file(inventory).resolve())]
    if check:
        cmdline.append("--check")
    if diff:
        cmdline.append("--diff")
    if tags:
        cmdline += ["--tags", tags]
    progress = Progress(hosts, on_progress)
    started = time.monotonic()
    r = session.run(
        event_handler=progress,
        playbook=str(PLAYBOOK),
        limit=",".join(hosts),
        # the province's data directory on this machine (var/<province>/): roles keep copies there
        extravars={**province_vars(province), "provision_data_dir": str(paths.data_dir(inventory))},
        cmdline=" ".join(_quote(a) for a in cmdline),
    )
    seconds = time.monotonic() - started
    # The recap (playbook_on_stats) is the authority for the final counts.
    stats = r.stats or {}
    for name, st in progress.hosts.items():
        for key, attr in (("ok", "tasks_ok"), ("changed", "tasks_changed"), ("failures", "failed"),
                          ("dark", "unreachable"), ("skipped", "skipped"), ("rescued", "rescued"),
                          ("ignored", "ignored")):
            if key in stats:
                setattr(st, attr, int(stats[key].get(name, 0)))
    rc = r.rc if r.rc is not None else 1
    error = ""
    if rc != 0 and not any(h.failed or h.unreachable for h in progress.hosts.values()):
        error = _first_error(private / "stdout") or f"ansible-playbook ended with {r.status} (rc {rc})"
    return DeployResult(inventory=str(inventory), run=run, artifacts=str(private), check=check,
                        status=r.status, rc=rc, seconds=round(seconds, 1),
                        hosts=list(progress.hosts.values()), error=error, engine=session.engine)


def _first_error(stdout: Path) -> str:
    """The first [ERROR] block of ansible-playbook's output (a playbook that could not start)."""
    try:
        lines = stdout.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for i, line in enumerate(lines):
        if "ERROR" in line:
            return "\n".join(lines[i:i + 6]).strip()
    return ""


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
