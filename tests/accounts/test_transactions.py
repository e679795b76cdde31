"""The accounts apply writes the directory in LDAP transactions (RFC 5805) on the real slapd: what a
transaction leaves while open, committed, abandoned or refused, and how `run_batches` gives each
official its own answer when one of a transaction's officials is refused."""
from __future__ import annotations

import ldap3
from acct_helpers import person as row
from acct_helpers import write_roster
from conftest import BASE, PAH, SNV, STC, VP
from pydantic import SecretStr

from provisioning.accounts import ldapwire, service
from provisioning.accounts.apply import PER_TRANSACTION, run_batches
from provisioning.accounts.directory import Target, connect


def target(env) -> Target:
    s = env.stack.slapd
    return Target(url=s.url, host=None, base_dn=BASE, bind_dn=s.admin_dn, password=SecretStr(s.admin_password))


def dn(uid: str) -> str:
    return f"uid={uid},ou=People,{BASE}"


def person(uid: str, **more) -> tuple[str, str, dict]:
    return ("add", dn(uid), {"objectClass": ["inetOrgPerson"], "uid": [uid], "cn": [f"Người {uid}"], "sn": ["Lê"],
                             **more})


def uids(env) -> set[str]:
    out = env.stack.slapd.search(f"ou=People,{BASE}", "(uid=*)", "uid", scope="one")
    return {line[5:] for line in out.splitlines() if line.startswith("uid: ")}


def test_a_transaction_writes_nothing_until_committed_and_all_or_nothing(env):
    conn = connect(target(env))
    wire = ldapwire.Wire(conn)
    try:
        txn = wire.begin()
        assert txn is not None
        for uid in ("tx1", "tx2"):
            assert wire.call(wire.send(*person(uid), txn=txn)).code == 0    # queued, not written
        assert uids(env) == set()
        assert wire.end(txn).code == 0
        assert uids(env) == {"tx1", "tx2"}

        txn = wire.begin()
        assert wire.call(wire.send(*person("tx3"), txn=txn)).code == 0
        assert wire.end(txn, commit=False).code == 0                         # abandoned
        assert uids(env) == {"tx1", "tx2"}

        txn = wire.begin()
        for uid in ("tx4", "tx1", "tx5"):                                     # tx1 exists: the commit is refused
            assert wire.call(wire.send(*person(uid), txn=txn)).code == 0
        end = wire.end(txn)
        assert end.code == 68                                                 # entryAlreadyExists
        assert uids(env) == {"tx1", "tx2"}                                    # tx4 rolled back with it
    finally:
        conn.unbind()


def test_each_official_of_a_refused_transaction_gets_its_own_answer(env):
    """One official of a transaction is refused: nothing of that transaction was written, so its
    officials run again one by one; the others of it and of the next transactions are written, the
    refused one gets the directory's reason, and a removal of an entry that is already gone (a purged
    account's record replaced) counts as done."""
    assert run_batches(target(env), [(0, [person("dup0")])]) == [(0, None)]
    n = PER_TRANSACTION + 50
    title = lambda i: ("modify", dn(f"p{i}"), {"title": [(ldap3.MODIFY_REPLACE, [f"Chuyên viên {i}"])]})  # noqa: E731
    batches = [(i, [person(f"p{i}"), title(i)]) for i in range(n)]
    batches[20] = (20, [person("dup0")])
    batches[30] = (30, [("delete", dn("gone30"), {}), person("gone30")])
    done = dict(run_batches(target(env), batches, per_transaction=PER_TRANSACTION))
    assert sorted(i for i, err in done.items() if err) == [20], done
    assert done[20].startswith("entryAlreadyExists (68)")
    assert uids(env) == {"dup0", "gone30"} | {f"p{i}" for i in range(n) if i not in (20, 30)}
    s = env.stack.slapd
    c = ldap3.Connection(ldap3.Server(s.url), s.admin_dn, s.admin_password, auto_bind=True)
    c.search(f"ou=People,{BASE}", "(|(uid=p0)(uid=p21)(uid=gone30))", attributes=["uid", "title"])
    assert {str(e.uid): e.title.value for e in c.entries} == {"p0": "Chuyên viên 0", "p21": "Chuyên viên 21",
                                                               "gone30": None}
    c.unbind()


def test_without_transactions_the_same_batches_give_the_same_answers(env):
    """per_transaction=0 (the default, and what a directory without transactions gets): pipelined."""
    assert run_batches(target(env), [(0, [person("dup0")])], per_transaction=0) == [(0, None)]
    batches = [(i, [person(f"q{i}")]) for i in range(40)] + [(40, [person("dup0")])]
    done = dict(run_batches(target(env), batches, per_transaction=0))
    assert [i for i, err in done.items() if err] == [40] and done[40].startswith("entryAlreadyExists (68)")
    assert uids(env) == {"dup0"} | {f"q{i}" for i in range(40)}


def test_a_type_is_first_stored_outside_a_transaction(tmp_path):
    """slapd (2.5, 2.6) numbers an attribute type when it first stores it; a rolled-back transaction
    that stored a type first leaves a number behind that the database does not have, and every entry
    later stored with that type cannot be read ("internal error in mdb_entry_decode"). run_batches
    stores the first batch of each shape (its attribute types) on its own, so a transaction that is
    rolled back never holds a type's first store: here on a fresh database where carLicense and
    roomNumber were never stored, with refusals in and out of transactions, every entry reads back."""
    from fixtures.mailstack import start_slapd

    s = start_slapd(tmp_path / "slapd", BASE, ["u1"])
    try:
        t = Target(url=s.url, host=None, base_dn=BASE, bind_dn=s.admin_dn, password=SecretStr(s.admin_password))
        assert run_batches(t, [(0, [person("dup0")])]) == [(0, None)]
        batches = [(0, [person("a0")]),
                   (1, [person("a1", carLicense=["51A-000.01"])]),        # the first with carLicense
                   (2, [person("a2", roomNumber=["P.202"])]),             # the first with roomNumber
                   (3, [person("dup0")]),                                  # refused
                   (4, [person("a4", carLicense=["51A-000.04"])]),
                   (5, [person("dup0", roomNumber=["P.205"])])]           # refused
        done = dict(run_batches(t, batches, per_transaction=PER_TRANSACTION))
        assert sorted(i for i, err in done.items() if err) == [3, 5], done
        out = s.search(f"ou=People,{BASE}", "(uid=*)", "uid", "carLicense", "roomNumber", scope="one")
        assert "carLicense: 51A-000.01" in out and "carLicense: 51A-000.04" in out and "roomNumber: P.202" in out
        assert sorted(line[5:] for line in out.splitlines() if line.startswith("uid: ")) == \
            ["a0", "a1", "a2", "a4", "dup0"]
    finally:
        s.stop()


def test_a_province_that_turns_transactions_on_gets_them_in_its_apply(env, monkeypatch):
    """accounts.ldap.transactions: true in province.yml: the apply writes its officials and their unit
    groups in transactions, with the same outcome as without (every entry, its mailbox, memberOf); a
    leaver is then disabled and the next apply changes nothing."""
    pf = env.inventory / "province.yml"
    pf.write_text(pf.read_text(encoding="utf-8").replace("password_file: provisioner.pw}",
                                                         "password_file: provisioner.pw, transactions: true}"),
                  encoding="utf-8")
    ctx = service.load(env.inventory)
    assert ctx.target.transactions
    begun = []
    begin = ldapwire.Wire.begin
    monkeypatch.setattr(ldapwire.Wire, "begin", lambda self: begun.append(1) or begin(self))
    units = (VP, SNV, STC, PAH)
    given = ("An", "Bình", "Hà", "Lan", "Tâm", "Vy", "Sơn", "Đức", "Hùng", "Ngọc", "Khoa", "Yến")
    rows = [row(f"TX{i:04d}", "Phạm", m, g, units[i % 4]) for i, (m, g) in
            enumerate((m, g) for m in ("Văn", "Thị", "Minh", "Quốc", "Thu") for g in given)]
    plan, result, _ = service.apply(ctx, service.read(ctx, write_roster(env.tmp / "tx.csv", rows)))
    assert result.ok and result.done == {"create": 60} and len(begun) >= 2, (result.failed, begun)
    for u in units:  # every official in their unit's group (memberOf: dynlist takes equality filters)
        got = env.stack.slapd.search(f"ou=People,{BASE}", f"(memberOf=cn=unit-{u},ou=Groups,{BASE})", "uid",
                                     scope="one")
        assert got.count("uid: ") == 15, (u, got)
    assert all((env.stack.mail_root / ctx.province.info.mail_domain / u / "Maildir" / "subscriptions").exists()
               for u in uids(env))
    rows[0][-1] = "Nghỉ hưu"                                   # a leaver
    plan, result, _ = service.apply(ctx, service.read(ctx, write_roster(env.tmp / "tx2.csv", rows)))
    assert result.ok and result.done == {"disable": 1}, result.failed
    assert service.make_plan(ctx, service.read(ctx, env.tmp / "tx2.csv")).empty
