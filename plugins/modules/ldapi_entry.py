#!/usr/bin/python
"""Ansible module: make LDAP entries exist with given attribute values, over ldapi:/// as root.

Why our own module: community.general's ldap_* modules are not installable offline, and plain
ldapmodify tasks are not idempotent. This one compares first (ldapsearch), then adds or replaces
only what differs, and supports check and diff mode. It binds with SASL EXTERNAL on the local
socket, so it needs no password (root is the manager of cn=config and, through the directory
role's first ACL, of the database).

cn=config rewrites some values (ACLs, syncrepl): values under cn=config are compared without
the `{n}` order prefix, case, quotes and repeated blanks; olcSyncrepl is compared key by key on
the keys given (slapd adds its defaults).
"""
from __future__ import annotations

import base64
import re
import shlex

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: ldapi_entry
short_description: Ensure LDAP entries and some of their attribute values, over ldapi as root
options:
  dn: {description: DN of the entry (or use entries), type: str}
  attributes:
    description: Attribute values (a value or a list). All of them are used when the entry is added.
    type: dict
  entries:
    description: >-
      Many entries in one module run, each {dn, attributes} (enforce/ordered apply to all): one
      task for a province's hundreds of unit groups instead of one module run per group.
    type: list
    elements: dict
  enforce:
    description: >-
      Attributes whose values are replaced when they differ on an existing entry. Default: all
      given attributes. An empty list only creates the entry (values owned by other tools).
    type: list
    elements: str
  ordered:
    description: Attributes whose value order matters (compared as lists).
    type: list
    elements: str
    default: [olcAccess]
  server_uri: {description: LDAP URI, type: str, default: "ldapi:///"}
"""

ORDER_PREFIX = re.compile(r"^\{-?\d+\}")
KV_ATTRS = {"olcsyncrepl"}


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def as_values(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        if isinstance(v, bool):
            out.append("TRUE" if v else "FALSE")
        else:
            out.append(str(v))
    return out


def parse_ldif(text: str) -> dict[str, list[str]]:
    """Attributes of the one entry ldapsearch printed (-LLL, no wrapping)."""
    attrs: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, _, rest = line.partition(":")
        if name.lower() == "dn":
            continue
        if rest.startswith(":"):
            value = base64.b64decode(rest[1:].strip()).decode("utf-8", "replace")
        else:
            value = rest[1:] if rest.startswith(" ") else rest
        attrs.setdefault(name.lower(), []).append(value)
    return attrs


def kv(value: str) -> dict[str, str]:
    try:
        tokens = shlex.split(value)
    except ValueError:
        tokens = value.split()
    return {k.lower(): v for k, _, v in (t.partition("=") for t in tokens)}


def same(attr: str, wanted: list[str], current: list[str], in_config: bool, ordered: bool) -> bool:
    if attr in KV_ATTRS:
        if len(wanted) != len(current):
            return False
        for w, c in zip(wanted, current):
            cw, cc = kv(ORDER_PREFIX.sub("", w)), kv(ORDER_PREFIX.sub("", c))
            if any(cc.get(k) != v for k, v in cw.items()):
                return False
        return True

    def norm(v: str) -> str:
        if in_config:
            v = ORDER_PREFIX.sub("", v).replace('"', "")
            return " ".join(v.split()).lower()
        return v.lower() if attr == "objectclass" else v

    w, c = [norm(v) for v in wanted], [norm(v) for v in current]
    return w == c if ordered else sorted(w) == sorted(c)


def ensure(module: AnsibleModule, dn: str, attributes: dict, enforce: list[str] | None,
           ordered: set[str], sasl: list[str]) -> dict:
    """Make one entry match; returns its result (changed, added, modified, diff)."""
    wanted = {k: as_values(v) for k, v in attributes.items()}
    enforce = list(wanted) if enforce is None else enforce
    in_config = dn.lower().endswith("cn=config")

    rc, out, err = module.run_command(
        ["ldapsearch", "-LLL", *sasl, "-o", "ldif-wrap=no", "-b", dn, "-s", "base", "(objectClass=*)", *wanted])
    if rc == 32:  # noSuchObject
        current = None
    elif rc != 0:
        module.fail_json(msg=f"ldapsearch {dn} failed (rc {rc}): {err.strip()}")
    else:
        current = parse_ldif(out)

    if current is None:
        ldif = f"dn:: {b64(dn)}\nchangetype: add\n" + "".join(
            f"{a}:: {b64(v)}\n" for a, vs in wanted.items() for v in vs)
        changes = list(wanted)
    else:
        changes = [a for a in enforce
                   if not same(a.lower(), wanted[a], current.get(a.lower(), []), in_config, a.lower() in ordered)]
        ldif = f"dn:: {b64(dn)}\nchangetype: modify\n" + "".join(
            f"replace: {a}\n" + "".join(f"{a}:: {b64(v)}\n" for v in wanted[a]) + "-\n" for a in changes)

    result = {"changed": bool(changes), "dn": dn, "added": current is None, "modified": changes}
    if module._diff and changes:
        before = "" if current is None else "".join(
            f"{a}: {v}\n" for a in changes for v in current.get(a.lower(), []))
        after = "".join(f"{a}: {v}\n" for a in changes for v in wanted[a])
        result["diff"] = {"before": before, "after": after, "before_header": dn, "after_header": dn}
    if changes and not module.check_mode:
        rc, out, err = module.run_command(["ldapmodify", *sasl], data=ldif, binary_data=True)
        if rc != 0:
            module.fail_json(msg=f"ldapmodify {dn} failed (rc {rc}): {err.strip()}", **result)
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "dn": {"type": "str"},
            "attributes": {"type": "dict"},
            "entries": {"type": "list", "elements": "dict"},
            "enforce": {"type": "list", "elements": "str"},
            "ordered": {"type": "list", "elements": "str", "default": ["olcAccess"]},
            "server_uri": {"type": "str", "default": "ldapi:///"},
        },
        required_together=[("dn", "attributes")],
        required_one_of=[("dn", "entries")],
        mutually_exclusive=[("dn", "entries")],
        supports_check_mode=True,
    )
    p = module.params
    ordered = {a.lower() for a in p["ordered"]}
    sasl = ["-Q", "-Y", "EXTERNAL", "-H", p["server_uri"]]
    if p["dn"] is not None:
        module.exit_json(**ensure(module, p["dn"], p["attributes"], p["enforce"], ordered, sasl))

    results = []
    for i, entry in enumerate(p["entries"]):
        if not isinstance(entry.get("dn"), str) or not isinstance(entry.get("attributes"), dict):
            module.fail_json(msg=f"entries[{i}]: needs dn (a string) and attributes (a mapping)")
        results.append(ensure(module, entry["dn"], entry["attributes"], p["enforce"], ordered, sasl))
    changed = [r for r in results if r["changed"]]
    out = {"changed": bool(changed), "entries": len(results),
           "added": [r["dn"] for r in changed if r["added"]],
           "modified": {r["dn"]: r["modified"] for r in changed if not r["added"]}}
    if module._diff and changed:
        out["diff"] = [r["diff"] for r in changed]
    module.exit_json(**out)


if __name__ == "__main__":
    main()
