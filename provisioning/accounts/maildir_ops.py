"""Maildir++ operations on the mail store, in one process: create, list, remove mailboxes.

Standard library only: this file runs in-process when the mail store is local, and is sent as-is
to `python3 -` over SSH when it is on the mail server (see mailbox.py). Input and output are JSON.

A mailbox is `<home>/Maildir`, owned by vmail, holding the `subscriptions` file. Everything else is
Dovecot's to make, as the mailbox's owner, when it is first used: INBOX's cur/, new/ and tmp/ at the
first delivery or login (INBOX always exists for Dovecot), and the folders Sent, Drafts, Trash and Junk,
which the mail role declares `auto = subscribe`, when the mailbox is first opened. `subscriptions` is
written last: it is Dovecot's own list of subscribed folders and doubles as the "mailbox complete"
marker, so a crash in the middle leaves a mailbox that `existing` does not count and the next apply
completes.
"""
import json
import os
import shutil
import sys

FOLDERS = ("Sent", "Drafts", "Trash", "Junk")
SUBSCRIPTIONS = ("V\t2\n\n" + "".join(f + "\n" for f in FOLDERS)).encode()


def _mkdir(path):
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass


def _build(home):
    """One mailbox; runs as its owner, so everything belongs to vmail without a chown per entry.
    Two directories, the home and Maildir. Making directories is nearly all the cost of a mailbox
    (kernel time in mkdir, 25-120 us each on a 2-core machine whose disk other jobs share), and on the
    mail store's disk it competes with the directory's synced writes during an initial apply
    (tests/bench/accounts_bench.py); Dovecot makes the other eleven of a used mailbox one mailbox at a
    time, at its first delivery or login (tests/accounts/test_lifecycle.py)."""
    md = os.path.join(home, "Maildir")
    for d in (home, md):
        _mkdir(d)
    try:  # last: the "complete" marker, and the folders mail clients show (subscribed)
        fh = os.open(os.path.join(md, "subscriptions"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.write(fh, SUBSCRIPTIONS)
    finally:
        os.close(fh)


def create(homes, uid, gid):
    """Create the mailboxes (idempotent). Returns the number of homes completed.
    As root, a child process switches to the vmail user and builds them all."""
    for parent in sorted({os.path.dirname(h) for h in homes}):
        if not os.path.isdir(parent):
            os.makedirs(parent, 0o755, exist_ok=True)
            os.chown(parent, uid, gid)
    if os.geteuid() != 0 or uid == 0:
        for home in homes:
            _build(home)
        return len(homes)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            os.umask(0o077)
            for home in homes:
                _build(home)
            code = 0
        except BaseException as e:  # reported by the parent; a child must never return into the caller
            sys.stderr.write(f"mailbox creation as uid {uid} failed: {type(e).__name__}: {e}\n")
            sys.stderr.flush()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"mailbox creation as uid {uid} failed (see the error above)")
    return len(homes)


def existing(domain_dir):
    """Names of the complete mailboxes under <root>/<domain>/."""
    try:
        entries = list(os.scandir(domain_dir))
    except FileNotFoundError:
        return []
    return [e.name for e in entries
            if e.is_dir(follow_symlinks=False) and os.path.exists(os.path.join(e.path, "Maildir", "subscriptions"))]


def remove(homes):
    n = 0
    for home in homes:
        if os.path.isdir(home):
            shutil.rmtree(home)
            n += 1
    return n


def _check_under(req, only):
    """--only-under DIR: every path of the request is DIR itself or a mailbox directly in it (how the
    console's sudo rule confines the command to the province's mail domain)."""
    only = os.path.normpath(only)
    paths = req.get("homes", []) + ([req["domain_dir"]] if "domain_dir" in req else [])
    for p in paths:
        p = os.path.normpath(p)
        name = os.path.basename(p)
        if p != only and (os.path.dirname(p) != only or not name or name.startswith(".")):
            raise SystemExit(f"refused: {p} is not a mailbox under {only}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and (len(argv) != 2 or argv[0] != "--only-under"):
        raise SystemExit("usage: maildir_ops [--only-under DOMAIN_DIR] < request.json")
    req = json.load(sys.stdin)
    if argv:
        _check_under(req, argv[1])
    op = req["op"]
    if op == "create":
        out = create(req["homes"], req["uid"], req["gid"])
    elif op == "existing":
        out = existing(req["domain_dir"])
    elif op == "remove":
        out = remove(req["homes"])
    else:
        raise SystemExit(f"unknown op {op}")
    json.dump({"result": out}, sys.stdout)


if __name__ == "__main__":
    main()
