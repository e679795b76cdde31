"""ansible-lint rule `register-naming`: the project's one naming rule for registered variables.

A registered variable is named `<owner>__<name>`: the owner is the role
whose task registers it, or the playbook's file name for a play's own tasks (`site__deployed` in
playbooks/site.yml). The double underscore marks a value the role computes for itself at run time, apart
from its inputs (`<role>_<name>`, the defaults and meta/argument_specs.yml), in the way DebOps names
`role__register_name`; the owner prefix keeps two roles from reading each other's results. A fact a
role publishes for later roles (`set_fact`) is part of its interface and keeps one underscore, like its
defaults (`pki_cert_renewed`); ansible-lint's own var-naming rule checks that prefix.

Loaded through `rulesdir` in .ansible-lint.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ansiblelint.rules import AnsibleLintRule

if TYPE_CHECKING:
    from ansiblelint.errors import MatchError
    from ansiblelint.file_utils import Lintable
    from ansiblelint.utils import Task

def owner_of(file: Lintable) -> str:
    """The role a task file belongs to, else the playbook's file name without extension."""
    if file.role:
        return file.role.split(".")[-1]
    return Path(str(file.path)).stem


def name_ok(name: str, owner: str) -> bool:
    return re.fullmatch(rf"{re.escape(owner)}__[a-z0-9]+(_[a-z0-9]+)*", name) is not None


class RegisterNamingRule(AnsibleLintRule):
    """Registered variables are named <role>__<name>."""

    id = "register-naming"
    description = ("A registered variable is named `<owner>__<name>`: the role "
                   "name (or the playbook's file name), two underscores, lowercase words joined by one underscore.")
    severity = "MEDIUM"
    tags = ["idiom"]
    version_changed = "26.10.1"

    def matchtask(self, task: Task, file: Lintable | None = None) -> list[MatchError]:
        if file is None:
            return []
        owner = owner_of(file)
        registered: Any = task.get("register")
        names = [registered] if isinstance(registered, str) else []
        return [self.create_matcherror(message=f"{n!r} should be named {owner}__<name>", filename=file,
                                       lineno=task.line, tag=f"{self.id}[{n}]")
                for n in names if not name_ok(n, owner)]
