"""Who may ask for, approve and sign certificates: kube's CertificateApproval, CertificateSigning
and CertificateSubjectRestriction admission plugins, which put the signer to the authorizer.

Approving a CertificateSigningRequest (its `approval` subresource) needs `approve` on
`signers.certificates.k8s.io` named for the request's signer, or for its domain (`example.com/*`);
writing a certificate into its status needs `sign` the same way; and nobody may ask the
kube-apiserver-client signer for a certificate in system:masters.
"""
from __future__ import annotations

import base64

from .. import errors
from .authz import ALLOW, Attributes

GROUP = "certificates.k8s.io"
API_SERVER_CLIENT = "kubernetes.io/kube-apiserver-client"


def _forbidden(obj: dict, why: str) -> errors.StatusError:
    name = (obj.get("metadata") or {}).get("name") or ""
    return errors.StatusError(403, "Forbidden", f'certificatesigningrequests.{GROUP} "{name}" is forbidden: {why}',
                              {"name": name, "group": GROUP, "kind": "certificatesigningrequests"})


def _organizations(request_pem: str) -> list[str]:
    from cryptography import x509  # only when a CSR is written: serving needs none of it
    from cryptography.x509.oid import NameOID
    try:
        csr = x509.load_pem_x509_csr(base64.b64decode(request_pem or ""))
    except ValueError:
        return []  # validation refuses what does not parse
    return [o.value for o in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]


class CertificateChecks:
    def __init__(self, authorizer):
        self.authorizer = authorizer

    def may(self, user, verb: str, signer: str) -> bool:
        """kube's IsAuthorizedForSignerName: the signer by name, then its domain's wildcard."""
        for name in (signer, signer.split("/")[0] + "/*"):
            attrs = Attributes(user, verb, True, "", GROUP, "*", "signers", "", name, "")
            if self.authorizer.authorize(attrs)[0] == ALLOW:
                return True
        return False

    def check(self, plural: str, namespace, obj: dict, old: dict | None, user, subresource: str | None) -> None:
        if user is None:
            return  # the server's own writes
        spec = obj.get("spec") or {}
        signer = spec.get("signerName") or ""
        if old is None:
            if signer == API_SERVER_CLIENT and "system:masters" in _organizations(spec.get("request") or ""):
                raise _forbidden(obj, f"use of {signer} signer with system:masters group is not allowed")
        elif subresource == "approval":
            if not self.may(user, "approve", signer):
                raise _forbidden(obj, f'user not permitted to approve requests with signerName "{signer}"')
        elif subresource == "status":
            certificate = (obj.get("status") or {}).get("certificate")
            if certificate != (old.get("status") or {}).get("certificate") and not self.may(user, "sign", signer):
                raise _forbidden(obj, f'user not permitted to sign requests with signerName "{signer}"')
