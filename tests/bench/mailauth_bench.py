"""What the mail authentication costs per message, on a deployed lab province: messages handed to the
center on 587 (logged in) and on 25 (from outside) with the milters and the SPF policy as deployed,
and again with only the milters the center had before (ClamAV, OpenDKIM), each figure next to that
reference. The center's main.cf is put back as it was (same bytes, same time stamp) at the end.

    sudo .venv/bin/python tests/bench/mailauth_bench.py -i inventory/NAME [--count 30]

Prints a table; asserts nothing.
"""
from __future__ import annotations

import argparse
import smtplib
import socket
import ssl
import statistics
import time
from email.message import EmailMessage
from pathlib import Path

from ldap3 import Connection, Server, Tls

from provisioning import secrets
from provisioning.lab import Lab
from provisioning.model import load_province

UID, PASSWORD = "bench-mailauth", "Mat-khau-thu-2026"


class SMTP(smtplib.SMTP):
    def __init__(self, address: str, port: int, name: str):
        self._address = address
        super().__init__(name, port, timeout=30)

    def _get_socket(self, host, port, timeout):
        return socket.create_connection((self._address, port), timeout)


def send(address: str, zone: str, tls: ssl.SSLContext, port: int, sender: str, to: str, count: int) -> list[float]:
    """Seconds from MAIL FROM to the end of DATA, per message, in one session."""
    times = []
    with SMTP(address, port, f"{'mail' if port == 25 else 'smtp'}.{zone}") as s:
        s.ehlo()
        s.starttls(context=tls)
        s.ehlo()
        if port == 587:
            s.login(UID, PASSWORD)
        for n in range(count):
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = sender, to, f"bench {n}"
            msg.set_content("Kính gửi: báo cáo tuần.\n" * 20)
            t0 = time.perf_counter()
            s.send_message(msg)
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-i", "--inventory", required=True)
    ap.add_argument("--count", type=int, default=30)
    args = ap.parse_args()
    inv = Path(args.inventory)
    province = load_province(inv)
    center = province.center_server
    zone, domain, base = province.dns_zone, province.info.mail_domain, province.info.base_dn
    lab = Lab(inv.name, inventory_dir=inv)
    ca_pem = lab.ssh(center.name, "cat /usr/local/share/ca-certificates/provision-ca.crt", check=True).stdout
    tls = ssl.create_default_context(cadata=ca_pem)
    s = secrets.load_secrets(inv)
    conn = Connection(Server(center.address, port=389, tls=Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=ca_pem,
                                                                 valid_names=[f"ldap.{zone}"])),
                      user=f"cn=provisioner,ou=Services,{base}", password=s["ldap_provisioner"])
    conn.open()
    conn.start_tls()
    conn.bind()
    dn = f"uid={UID},ou=People,{base}"
    conn.delete(dn)
    conn.add(dn, ["inetOrgPerson", "govMailAccount"], {
        "uid": UID, "cn": "Bench", "sn": "Bench", "mail": f"{UID}@{domain}", "mailEnabled": "TRUE",
        "mailQuotaMB": "50", "mailHomeDirectory": f"/var/vmail/{domain}/{UID}", "govAccountState": "active",
        "userPassword": secrets.sha512_crypt(PASSWORD)})
    me = f"{UID}@{domain}"
    milters = lab.ssh(center.name, "postconf -xh smtpd_milters", check=True).stdout.strip()
    # the role's default ports: 8892 OpenDMARC, 8893 provision-sender-milter
    before = " ".join(t for t in milters.split() if t.startswith("inet:") and not t.rstrip(",").endswith((":8892", ":8893")))
    rows = []
    # the file is put back byte for byte with its time stamp: the next deploy sees no change
    lab.ssh(center.name, "cp -p /etc/postfix/main.cf /root/main.cf.bench", check=True)
    try:
        for label, setting in (("deployed", None), ("before (ClamAV, OpenDKIM only)", before)):
            if setting is not None:
                # submission takes provision_trusted_milters, port 25 smtpd_milters
                lab.ssh(center.name, f"postconf -e 'provision_trusted_milters = {setting}' "
                                     "'smtpd_milters = $provision_trusted_milters' "
                                     "'smtpd_recipient_restrictions = reject_non_fqdn_recipient' && postfix reload",
                        check=True)
                time.sleep(2)
            sub = send(center.address, zone, tls, 587, me, me, args.count)
            mx = send(center.address, zone, tls, 25, "vanphong@so-ngoai.example.vn", me, args.count)
            rows.append((label, statistics.median(sub), statistics.median(mx)))
    finally:
        lab.ssh(center.name, "cp -p /root/main.cf.bench /etc/postfix/main.cf && rm /root/main.cf.bench && "
                             "postfix reload", check=True)
        conn.delete(dn)
        conn.unbind()
        lab.ssh(center.name, f"rm -rf /var/vmail/{domain}/{UID}")
    base_sub, base_mx = rows[1][1], rows[1][2]
    print(f"{'configuration':34} {'587 median ms':>14} {'ratio':>6} {'25 median ms':>13} {'ratio':>6}")
    for label, sub, mx in rows:
        print(f"{label:34} {sub * 1000:14.1f} {sub / base_sub:6.2f} {mx * 1000:13.1f} {mx / base_mx:6.2f}")
    print(f"({args.count} messages each, one session per port and configuration)")


if __name__ == "__main__":
    main()
