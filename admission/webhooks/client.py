"""Calling a webhook: an AdmissionReview POSTed over HTTPS, trusting the configuration's caBundle,
within its timeout; what goes wrong is worded as kube-apiserver's webhook client words it.

A `service` reference is resolved by the composition root (`resolve(namespace, name, port)` →
(host, port)): vapi runs no cluster network, so it reads the Service's Endpoints (a selector-less
Service with hand-written Endpoints points at a server outside) or its ExternalName. The server's
certificate is checked against `<service>.<namespace>.svc`, the name kube checks.
"""
from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp
import orjson

from ..status import StatusError

DEFAULT_TIMEOUT = 10
MAX_TIMEOUT = 30
REVIEW_VERSIONS = ("v1", "v1beta1")

Resolve = Callable[[str, str, int], Awaitable[tuple[str, int]]]


class CallFailed(Exception):
    """kube's ErrCallingWebhook: the webhook could not be asked, or answered nonsense."""

    def __init__(self, webhook: str, reason: str):
        super().__init__(f'failed calling webhook "{webhook}": {reason}')
        self.webhook = webhook

    def status(self) -> StatusError:
        """failurePolicy Fail: kube's NewInternalError of it."""
        return StatusError(500, "InternalError", f"Internal error occurred: {self}", {"causes": [{"message": str(self)}]})


def _ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    if ca_bundle:
        try:
            pem = base64.b64decode(ca_bundle).decode()
            return ssl.create_default_context(cadata=pem)
        except (ValueError, ssl.SSLError):
            pass  # an unreadable bundle trusts nothing extra: the call then fails verification
    return ssl.create_default_context()


def _go_error(e: BaseException, host: str, port: int) -> str:
    """The tail Go's HTTP client gives for the same failure."""
    if isinstance(e, asyncio.TimeoutError):
        return "context deadline exceeded"
    if isinstance(e, aiohttp.ClientConnectorCertificateError):
        return "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    if isinstance(e, aiohttp.ClientConnectorError):
        cause = e.os_error
        if isinstance(cause, ConnectionRefusedError):
            return f"dial tcp {host}:{port}: connect: connection refused"
        return f"dial tcp {host}:{port}: {cause.strerror or cause}"
    if isinstance(e, aiohttp.ServerDisconnectedError):
        return "EOF"
    return str(e) or type(e).__name__


class WebhookClient:
    def __init__(self, resolve: Resolve | None = None):
        self.resolve = resolve
        self._session: aiohttp.ClientSession | None = None
        self._contexts: dict[str, ssl.SSLContext] = {}

    def _context(self, ca_bundle: str | None) -> ssl.SSLContext:
        key = ca_bundle or ""
        if key not in self._contexts:
            self._contexts[key] = _ssl_context(ca_bundle)
        return self._contexts[key]

    def _review_version(self, webhook: dict) -> str | None:
        return next((v for v in webhook.get("admissionReviewVersions") or [] if v in REVIEW_VERSIONS), None)

    async def _target(self, name: str, config: dict) -> tuple[str, str, int, str | None]:
        """(url shown and asked, host to connect to, port, the name the certificate must carry)."""
        if config.get("url"):
            url = str(config["url"])
            parts = urlsplit(url)
            return url, parts.hostname or "", parts.port or 443, None
        service = config.get("service") or {}
        namespace, svc = str(service.get("namespace") or ""), str(service.get("name") or "")
        port = int(service.get("port") or 443)
        path = str(service.get("path") or "")
        hostname = f"{svc}.{namespace}.svc"
        url = f"https://{hostname}:{port}{path}"
        if self.resolve is None:
            raise CallFailed(name, f"failed to call webhook: service {namespace}/{svc} cannot be resolved")
        try:
            host, real_port = await self.resolve(namespace, svc, port)
        except LookupError as e:
            raise CallFailed(name, f"failed to call webhook: {e}") from None
        return url, host, real_port, hostname

    async def call(self, webhook: dict, request: dict) -> dict:
        """The webhook's AdmissionResponse to `request`; raises CallFailed."""
        name = str(webhook.get("name") or "")
        version = self._review_version(webhook)
        if version is None:
            raise CallFailed(name, "webhook does not accept known AdmissionReview versions "
                                   f"{list(REVIEW_VERSIONS)}")
        config = webhook.get("clientConfig") or {}
        timeout = min(int(webhook.get("timeoutSeconds") or DEFAULT_TIMEOUT), MAX_TIMEOUT)
        url, host, port, server_name = await self._target(name, config)
        url_with_timeout = f"{url}{'&' if '?' in url else '?'}timeout={timeout}s"
        if server_name:
            # Connect where the Service points; check the certificate against the Service's name.
            parts = urlsplit(url_with_timeout)
            connect_url = parts._replace(netloc=f"{host}:{port}").geturl()
        else:
            connect_url = url_with_timeout
        review = {"kind": "AdmissionReview", "apiVersion": f"admission.k8s.io/{version}", "request": request}
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        try:
            async with asyncio.timeout(timeout):
                async with self._session.post(
                        connect_url, data=orjson.dumps(review), ssl=self._context(config.get("caBundle")),
                        server_hostname=server_name, headers={"Content-Type": "application/json",
                                                              "Accept": "application/json"}) as response:
                    body = await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            raise CallFailed(name, f'failed to call webhook: Post "{url_with_timeout}": '
                                   f"{_go_error(e, host, port)}") from None
        if response.status != 200:
            raise CallFailed(name, f"failed to call webhook: the server responded with the status code "
                                   f"{response.status} but did not return more information")
        return self._response(name, body, request["uid"])

    @staticmethod
    def _response(name: str, body: bytes, uid: str) -> dict:
        try:
            review = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise CallFailed(name, f"received invalid webhook response: {e}") from None
        answer = review.get("response") if isinstance(review, dict) else None
        if not isinstance(answer, dict):
            raise CallFailed(name, "received invalid webhook response: webhook response was absent")
        if answer.get("uid") != uid:
            raise CallFailed(name, f'received invalid webhook response: expected response.uid="{uid}", '
                                   f'got "{answer.get("uid", "")}"')
        return answer

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
