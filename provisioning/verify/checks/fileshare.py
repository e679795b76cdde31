"""The unit file share, with the real `smbclient` (SMB3, signing) from this machine, logged in as the
probe mailbox while it is a member of the unit's group (see checks/directory.py). The share's name is
the one the fileshare role published on the server (role facts)."""
from __future__ import annotations

import os
import secrets as _random
import tempfile

from ..context import PROBE_UID, Context, Server
from ..probes import smbclient

def check_smb_roundtrip(ctx: Context, server: Server) -> str:
    """Log in as the probe, write a file with Vietnamese content, read it back, delete it."""
    share = ctx.fact(server, "fileshare", "share")     # as the role deployed it
    password = ctx.need_probe()
    payload = f"Kiểm tra thư mục dùng chung {_random.token_hex(8)}\n".encode()
    name = f"verify-{_random.token_hex(4)}.txt"
    with tempfile.TemporaryDirectory() as tmp:
        src, back = os.path.join(tmp, "src"), os.path.join(tmp, "back")
        with open(src, "wb") as fh:
            fh.write(payload)
        r = smbclient(server.address, share, PROBE_UID, password,
                      f'put "{src}" {name}; get {name} "{back}"; del {name}', ctx.timeout)
        if r.returncode != 0 or not os.path.exists(back):
            raise AssertionError(f"smbclient: {(r.stdout + r.stderr).strip()[-300:]}")
        with open(back, "rb") as fh:
            if fh.read() != payload:
                raise AssertionError("the file read back differs from the file written")
    wrong = smbclient(server.address, share, PROBE_UID, password + "x", "ls", ctx.timeout)
    if wrong.returncode == 0 or "NT_STATUS_LOGON_FAILURE" not in wrong.stdout + wrong.stderr:
        raise AssertionError("a wrong password was not refused with NT_STATUS_LOGON_FAILURE")
    return f"//{server.address}/{share}: login, {len(payload)}-byte file written, read back, deleted; wrong password refused"


UNIT_CHECKS = (
    ("fileshare", "smb-login-file-roundtrip", check_smb_roundtrip),
)
