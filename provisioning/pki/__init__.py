"""The provincial CA's certificates and their revocation: `provision pki status|revoke|crl`.

The CA lives on the integration center (the pki role); its database and CRL are kept there by
`provision-ca` (roles/pki/files), which this job runs over SSH (transport.ssh) with the CA key's
passphrase from the province's vault on stdin. Read first (the CA's database), then change."""
from .ops import (REASONS, IssuedCertificate, CrlResult, CrlState, PkiStatus, RevokePlan, RevokeResult, plan_revoke,
                  refresh_crl, revoke, status)

__all__ = ["REASONS", "IssuedCertificate", "CrlResult", "CrlState", "PkiStatus", "RevokePlan", "RevokeResult",
           "plan_revoke", "refresh_crl", "revoke", "status"]
