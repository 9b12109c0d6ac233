"""A real admission webhook for the cases: an aiohttp server over TLS on 127.0.0.1, with a CA of
its own (made with `cryptography`), run on a thread of its own so that synchronous cases can drive
the cluster while it answers. Its paths:
  /add-label   adds the label `webhook: mutated` (a JSONPatch)
  /deny        refuses with code 403 and a message naming the object
  /allow-warn  allows, with a warning
  /slow        answers after 3 seconds
Every AdmissionReview it receives is kept in `reviews`.
"""
from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _cert(subject: str, key, issuer_key, issuer_name, ca: bool, sans=()) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class WebhookServer:
    def __init__(self, hostnames: tuple[str, ...] = ()):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert("webhook-test-ca", ca_key, ca_key,
                   x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "webhook-test-ca")]), True)
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost"),
                *(x509.DNSName(h) for h in hostnames)]
        cert = _cert("webhook", key, ca_key, ca.subject, False, sans)
        self.ca_bundle = base64.b64encode(_pem(ca)).decode()
        self._dir = tempfile.TemporaryDirectory()
        cert_file, key_file = Path(self._dir.name) / "tls.crt", Path(self._dir.name) / "tls.key"
        cert_file.write_bytes(_pem(cert))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ssl.load_cert_chain(cert_file, key_file)
        self.reviews: list[dict] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    # --- answers -------------------------------------------------------------------------------

    async def _review(self, request: web.Request, answer) -> web.Response:
        review = await request.json()
        self.reviews.append(review)
        response = {"uid": review["request"]["uid"], **answer(review["request"])}
        return web.json_response({"apiVersion": review["apiVersion"], "kind": "AdmissionReview",
                                  "response": response})

    async def add_label(self, request):
        def answer(req):
            labels = (req["object"].get("metadata") or {}).get("labels")
            ops = ([{"op": "add", "path": "/metadata/labels/webhook", "value": "mutated"}] if labels is not None
                   else [{"op": "add", "path": "/metadata/labels", "value": {"webhook": "mutated"}}])
            return {"allowed": True, "patchType": "JSONPatch",
                    "patch": base64.b64encode(json.dumps(ops).encode()).decode()}
        return await self._review(request, answer)

    async def deny(self, request):
        return await self._review(request, lambda req: {"allowed": False, "status": {
            "code": 403, "message": f"no {req['resource']['resource']} named {req['name']} here"}})

    async def allow_warn(self, request):
        return await self._review(request, lambda req: {"allowed": True, "warnings": ["looked at by the webhook"]})

    async def slow(self, request):
        await asyncio.sleep(3)
        return await self._review(request, lambda req: {"allowed": True})

    # --- lifetime ------------------------------------------------------------------------------

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/add-label", self.add_label)
        app.router.add_post("/deny", self.deny)
        app.router.add_post("/allow-warn", self.allow_warn)
        app.router.add_post("/slow", self.slow)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self._ssl, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def start(self) -> "WebhookServer":
        """Starts answering (again, on the same port, after `stop`)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
            self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Stops answering (the port is kept: starting again serves the same URLs)."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._runner = None

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)
        self._dir.cleanup()


def webhook_configuration(kind: str, name: str, namespace: str, hooks: list[dict]) -> dict:
    """A {Mutating,Validating}WebhookConfiguration whose webhooks take only `namespace`'s ConfigMaps
    (so that cases sharing a cluster do not meet each other's webhooks); each hook gives at least
    its name and clientConfig."""
    base = {"rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"],
                       "resources": ["configmaps"]}],
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
            "sideEffects": "None", "admissionReviewVersions": ["v1"], "timeoutSeconds": 5}
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "webhooks": [{**base, **hook} for hook in hooks]}
