"""The CSR signer: approved CertificateSigningRequests for the client signers get a certificate
from the cluster CA, as kube-controller-manager's csrsigning controller issues them.

Only `kubernetes.io/kube-apiserver-client` (and its kubelet variant) are signed here; requests for
other signers wait for a signer that knows them. A request whose usages its signer does not allow
is marked Failed instead, with kube's reason.
"""
from __future__ import annotations

import asyncio
import base64
import datetime
import logging

from .. import errors
from ..api import WriteOptions
from ..registry.strategies import now_rfc3339

log = logging.getLogger("vapi.controllers")
KUBELET_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
SIGNERS = ("kubernetes.io/kube-apiserver-client", KUBELET_SIGNER)
ALLOWED_USAGES = {"digital signature", "key encipherment", "client auth"}
DEFAULT_DURATION = datetime.timedelta(days=365)  # kube's --cluster-signing-duration
MIN_SECONDS = 600


def _condition(csr: dict, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status", "True") == "True"
               for c in (csr.get("status") or {}).get("conditions") or [])


class CSRSigner:
    def __init__(self, api, informers, pki):
        self.api = api
        self.informers = informers
        self.pki = pki
        self.info = api.registry.get("certificates.k8s.io", "v1", "certificatesigningrequests")

    async def run(self) -> None:
        self.informers.get(self.info).add_handler(self.handle)

    async def handle(self, event_type: str, csr: dict, prev) -> None:
        spec = csr.get("spec") or {}
        if (event_type == "DELETED" or spec.get("signerName") not in SIGNERS or not _condition(csr, "Approved")
                or _condition(csr, "Denied") or _condition(csr, "Failed") or (csr.get("status") or {}).get("certificate")):
            return
        status = dict(csr.get("status") or {})
        usages = set(spec.get("usages") or ())
        try:
            if not usages <= ALLOWED_USAGES or "client auth" not in usages:
                raise ValueError("invalid usage for client certificate: "
                                 f"{', '.join(sorted(usages - ALLOWED_USAGES)) or 'client auth missing'}")
            status["certificate"] = base64.b64encode(await asyncio.to_thread(self._sign, spec)).decode()
        except ValueError as e:
            status["conditions"] = [*status.get("conditions", []), {
                "type": "Failed", "status": "True", "reason": "SignerValidationFailure", "message": str(e),
                "lastUpdateTime": now_rfc3339(), "lastTransitionTime": now_rfc3339()}]
        try:
            await self.api.update(self.info, None, csr["metadata"]["name"], dict(csr, status=status),
                                  subresource="status", opts=WriteOptions(field_manager="kube-controller-manager"))
        except errors.StatusError as e:
            if e.code not in (404, 409):  # gone, or changed meanwhile: the next event brings it back
                raise

    def _sign(self, spec: dict) -> bytes:
        from cryptography import x509  # only when a CSR is signed: serving needs none of it
        from cryptography.x509.oid import NameOID
        request = x509.load_pem_x509_csr(base64.b64decode(spec.get("request") or ""))
        if not request.is_signature_valid:
            raise ValueError("the certificate request's signature is invalid")
        cn = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        groups = [o.value for o in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        if spec.get("signerName") == KUBELET_SIGNER and (
                not cn or not cn[0].value.startswith("system:node:") or groups != ["system:nodes"]):
            # kube's kubelet client signer vouches only for nodes, as system:node:<name> in system:nodes.
            raise ValueError("subject must be O=system:nodes, CN=system:node:<name> for a kubelet client certificate")
        seconds = spec.get("expirationSeconds")
        duration = DEFAULT_DURATION if not seconds else min(
            DEFAULT_DURATION, datetime.timedelta(seconds=max(int(seconds), MIN_SECONDS)))
        return self.pki.sign_client(request.public_key(), cn[0].value if cn else "", groups, duration)
