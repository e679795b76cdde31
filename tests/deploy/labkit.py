"""What the lab test modules share to talk to a deployed province: an LDAP connection over StartTLS
checked against the provincial CA, and waiting for the unit replicas to follow the center."""
from __future__ import annotations

import ssl
import time

from ldap3 import BASE, Connection, Server, Tls

from provisioning.lab.province import lab_domain

ZONE = lab_domain()
BASE_DN = ",".join(f"dc={p}" for p in ZONE.split("."))
CA_PATH = "/usr/local/share/ca-certificates/provision-ca.crt"


def read_ca(lab, center: str) -> str:
    """The provincial CA certificate (PEM) as the center installed it."""
    return lab.ssh(center, f"cat {CA_PATH}", check=True).stdout


def ldap(address: str, ca_pem: str, dn: str, password: str, name: str) -> Connection:
    """Bound over StartTLS; the server's certificate must chain to the CA and carry `name`. Referrals
    are returned, never followed."""
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=ca_pem, valid_names=[name])
    conn = Connection(Server(address, port=389, tls=tls, connect_timeout=5), user=dn, password=password,
                      auto_referrals=False)   # a replica's referral is an answer to check, not to follow
    conn.open()
    assert conn.start_tls() and conn.bind(), conn.result
    return conn


def wait_replicas(deployed_lab, ca_pem: str, s: dict, dn: str, present: bool,
                  attr_filter: str = "(objectClass=*)", units=None, timeout: float = 30) -> None:
    """Wait until every unit replica (or those of `units`) shows, or no longer shows, `dn` matching the filter."""
    for unit in units or deployed_lab.units:
        conn = ldap(unit.address, ca_pem, f"cn=replicator,ou=Services,{BASE_DN}", s["ldap_replicator"],
                    f"{unit.name}.{ZONE}")
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = conn.search(dn, attr_filter, BASE, attributes=["1.1"]) and bool(conn.entries)
            except Exception:
                found = False
            if found == present:
                break
            assert time.monotonic() < deadline, f"replica {unit.name} did not follow {dn}"
            time.sleep(0.3)
        conn.unbind()
