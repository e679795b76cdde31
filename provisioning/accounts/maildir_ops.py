"""Maildir++ operations on the mail store, in one process: create, list, remove mailboxes.

Standard library only: this file runs in-process when the mail store is local, and is sent as-is
to `python3 -` over SSH when it is on the mail server (see mailbox.py). Input and output are JSON.

A mailbox is `<home>/Maildir` with INBOX (cur/new/tmp) and the folders .Sent .Drafts .Trash .Junk,
owned by vmail. The `subscriptions` file is written last: it is Dovecot's own list of subscribed
folders and doubles as the "mailbox complete" marker, so a crash in the middle leaves a mailbox
that `existing` does not count and the next apply completes.
"""
import json
import os
import shutil
import sys

FOLDERS = ("Sent", "Drafts", "Trash", "Junk")


def _mkdir(path, uid, gid):
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return
    os.chown(path, uid, gid)


def create(homes, uid, gid):
    """Create the mailboxes (idempotent). Returns the number of homes completed."""
    for home in homes:
        parent = os.path.dirname(home)
        if not os.path.isdir(parent):
            os.makedirs(parent, 0o755, exist_ok=True)
            os.chown(parent, uid, gid)
        _mkdir(home, uid, gid)
        md = os.path.join(home, "Maildir")
        _mkdir(md, uid, gid)
        for sub in ("cur", "new", "tmp"):
            _mkdir(os.path.join(md, sub), uid, gid)
        for folder in FOLDERS:
            fd = os.path.join(md, "." + folder)
            _mkdir(fd, uid, gid)
            for sub in ("cur", "new", "tmp"):
                _mkdir(os.path.join(fd, sub), uid, gid)
            marker = os.path.join(fd, "maildirfolder")
            if not os.path.exists(marker):
                open(marker, "w").close()
                os.chown(marker, uid, gid)
        subs = os.path.join(md, "subscriptions")
        if not os.path.exists(subs):
            tmp = subs + ".tmp"
            with open(tmp, "w") as fh:
                fh.write("V\t2\n\n" + "".join(f + "\n" for f in FOLDERS))
            os.chown(tmp, uid, gid)
            os.chmod(tmp, 0o600)
            os.rename(tmp, subs)
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


def main():
    req = json.load(sys.stdin)
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
