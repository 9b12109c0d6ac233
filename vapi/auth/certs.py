"""The cluster's PKI: a CA, the serving certificate and the admin's client certificate.

Made once per data dir and kept, so a restart serves the same identity and old kubeconfigs keep
working. EC P-256 keys: as trusted by kubectl as RSA, and made in a millisecond instead of the
tens of milliseconds an RSA key costs at first start.
"""
from __future__ import annotations

import base64
import datetime
import os
import ssl
import threading
import traceback
from pathlib import Path

import yaml

ADMIN_USER = "kubernetes-admin"
ADMIN_GROUP = "system:masters"
SERVER_NAMES = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local"]
SERVER_IPS = ["127.0.0.1", "::1", "10.96.0.1"]
VALIDITY = datetime.timedelta(days=3650)
# OpenSSL's X509_V_FLAG_NO_CHECK_TIME, which Python's ssl.VerifyFlags does not name.
X509_V_FLAG_NO_CHECK_TIME = 0x200000
# Children making a directory's certificates, begun early in a first start: directory -> pid.
_making: dict[Path, int] = {}


class PKI:
    def __init__(self, directory: Path):
        self.dir = directory
        self.ca_cert = directory / "ca.crt"
        self.ca_key = directory / "ca.key"
        self.server_cert = directory / "server.crt"
        self.server_key = directory / "server.key"
        self.admin_cert = directory / "admin.crt"
        self.admin_key = directory / "admin.key"

    def _complete(self) -> bool:
        return all(p.exists() for p in (self.ca_cert, self.ca_key, self.server_cert, self.server_key,
                                        self.admin_cert, self.admin_key))

    def begin(self) -> None:
        """Start making missing certificates in a child process and go on: a first start imports
        the server meanwhile, on the other core; `ensure` waits for it."""
        if self.dir not in _making and not self._complete() and _may_fork():
            self.dir.mkdir(parents=True, exist_ok=True)
            _making[self.dir] = _fork_make(self)

    def ensure(self) -> None:
        pid = _making.pop(self.dir, None)
        if pid is not None:
            _wait(pid, self)
        if self._complete():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        if _may_fork():
            _wait(_fork_make(self), self)
        else:
            _make(self)

    def sign_client(self, public_key, user: str, groups: list[str],
                    validity: datetime.timedelta = VALIDITY) -> bytes:
        """A client certificate for `user` in `groups`, signed by the cluster CA (PEM)."""
        from . import mint
        return mint.sign_client(self.ca_cert, self.ca_key, public_key, user, groups, validity)

    def issue_client(self, user: str, groups: list[str],
                     validity: datetime.timedelta = VALIDITY) -> tuple[bytes, bytes]:
        """A new key and its client certificate (PEM, PEM): how `vapi kubeconfig` mints a user."""
        from . import mint
        key, pem = mint.new_client_key()
        return self.sign_client(key.public_key(), user, groups, validity), pem

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        # Keys are secrets: never world-readable, not even for an instant.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.server_cert, self.server_key)
        ctx.load_verify_locations(self.ca_cert)
        # Client certificates are optional: bearer tokens and anonymous requests come without one.
        ctx.verify_mode = ssl.CERT_OPTIONAL
        # A certificate out of its validity period is refused by the x509 authenticator with a 401,
        # as kube's is, rather than by a TLS alert the client reports as a broken connection.
        ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def kubeconfig(self, server: str, cert_pem: bytes, key_pem: bytes, user: str,
                   cluster: str = "vapi") -> bytes:
        """A kubeconfig that reaches `server` with this client certificate, as YAML."""
        b64 = lambda data: base64.b64encode(data).decode()
        config = {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": cluster, "cluster": {"server": server,
                                                       "certificate-authority-data": b64(self.ca_cert.read_bytes())}}],
            "users": [{"name": user, "user": {"client-certificate-data": b64(cert_pem),
                                              "client-key-data": b64(key_pem)}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
            "current-context": cluster,
        }
        return yaml.safe_dump(config, sort_keys=False).encode()

    def write_kubeconfig(self, path: Path, server: str, cluster: str = "vapi") -> None:
        self._write(path, self.kubeconfig(server, self.admin_cert.read_bytes(), self.admin_key.read_bytes(),
                                          f"{cluster}-admin", cluster))


def identity_from_cert(cert: dict, now: float) -> tuple[str, list[str]] | None:
    """(user, groups) from a client certificate the TLS layer verified against the CA, as
    `SSLObject.getpeercert()` decodes it: CN is the user, each O a group; None when the
    certificate is not valid at `now` (Unix seconds)."""
    if not ssl.cert_time_to_seconds(cert["notBefore"]) <= now <= ssl.cert_time_to_seconds(cert["notAfter"]):
        return None
    attributes = [pair for rdn in cert.get("subject", ()) for pair in rdn]
    cn = [value for key, value in attributes if key == "commonName"]
    return (cn[0] if cn else ""), [value for key, value in attributes if key == "organizationName"]


def _may_fork() -> bool:
    """Certificates are made in a forked child, so this process never maps cryptography's library
    (the child's memory goes with it); in this process where there is no fork, or threads a fork
    would leave locked."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _fork_make(pki: PKI) -> int:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _make(pki)
            code = 0
        except BaseException:  # noqa: BLE001 - the parent reports the failure; the child says why
            traceback.print_exc()
        finally:
            os._exit(code)
    return pid


def _wait(pid: int, pki: PKI) -> None:
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"making the certificates in {pki.dir} failed")


def _make(pki: PKI) -> None:
    from . import mint
    mint.make(pki, SERVER_NAMES, SERVER_IPS, (ADMIN_USER, ADMIN_GROUP), VALIDITY)
