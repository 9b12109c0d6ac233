"""The cluster's PKI: a CA, the serving certificate and the admin's client certificate.

Made once per data dir and kept, so a restart serves the same identity and old kubeconfigs keep
working. EC P-256 keys: as trusted by kubectl as RSA, and made in a millisecond instead of the
tens of milliseconds an RSA key costs at first start.
"""
from __future__ import annotations

import base64
import datetime
import functools
import ipaddress
import os
import ssl
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ADMIN_USER = "kubernetes-admin"
ADMIN_GROUP = "system:masters"
SERVER_NAMES = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local"]
SERVER_IPS = ["127.0.0.1", "::1", "10.96.0.1"]
VALIDITY = datetime.timedelta(days=3650)
# OpenSSL's X509_V_FLAG_NO_CHECK_TIME, which Python's ssl.VerifyFlags does not name.
X509_V_FLAG_NO_CHECK_TIME = 0x200000


def _name(cn: str, *orgs: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
                     + [x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _builder(subject: x509.Name, issuer: x509.Name, public_key, validity: datetime.timedelta = VALIDITY):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + validity))


def _leaf(subject, public_key, ca, ca_key, usage, sans, validity):
    builder = (_builder(subject, ca.subject, public_key, validity)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


class PKI:
    def __init__(self, directory: Path):
        self.dir = directory
        self.ca_cert = directory / "ca.crt"
        self.ca_key = directory / "ca.key"
        self.server_cert = directory / "server.crt"
        self.server_key = directory / "server.key"
        self.admin_cert = directory / "admin.crt"
        self.admin_key = directory / "admin.key"

    def ensure(self) -> None:
        if all(p.exists() for p in (self.ca_cert, self.ca_key, self.server_cert, self.server_key,
                                    self.admin_cert, self.admin_key)):
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("vapi-ca")
        ca = (_builder(ca_name, ca_name, ca_key.public_key())
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                           content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False,
                                           encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
        sans = [x509.DNSName(n) for n in SERVER_NAMES] + [x509.IPAddress(ipaddress.ip_address(i))
                                                          for i in SERVER_IPS]
        self._write_leaf(self.server_cert, self.server_key, _name("kube-apiserver"), ca, ca_key,
                         ExtendedKeyUsageOID.SERVER_AUTH, sans)
        self._write_leaf(self.admin_cert, self.admin_key, _name(ADMIN_USER, ADMIN_GROUP), ca, ca_key,
                         ExtendedKeyUsageOID.CLIENT_AUTH, None)
        self._write(self.ca_key, _pem_key(ca_key))
        self._write(self.ca_cert, ca.public_bytes(serialization.Encoding.PEM))

    def _write_leaf(self, cert_path, key_path, subject, ca, ca_key, usage, sans):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _leaf(subject, key.public_key(), ca, ca_key, usage, sans, VALIDITY)
        self._write(key_path, _pem_key(key))
        self._write(cert_path, cert.public_bytes(serialization.Encoding.PEM))

    def _ca(self):
        ca = x509.load_pem_x509_certificate(self.ca_cert.read_bytes())
        return ca, serialization.load_pem_private_key(self.ca_key.read_bytes(), None)

    def sign_client(self, public_key, user: str, groups: list[str],
                    validity: datetime.timedelta = VALIDITY) -> bytes:
        """A client certificate for `user` in `groups`, signed by the cluster CA (PEM)."""
        ca, ca_key = self._ca()
        cert = _leaf(_name(user, *groups), public_key, ca, ca_key, ExtendedKeyUsageOID.CLIENT_AUTH, None,
                     validity)
        return cert.public_bytes(serialization.Encoding.PEM)

    def issue_client(self, user: str, groups: list[str],
                     validity: datetime.timedelta = VALIDITY) -> tuple[bytes, bytes]:
        """A new key and its client certificate (PEM, PEM): how `vapi kubeconfig` mints a user."""
        key = ec.generate_private_key(ec.SECP256R1())
        return self.sign_client(key.public_key(), user, groups, validity), _pem_key(key)

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


def identity_from_cert(der: bytes, now: float) -> tuple[str, list[str]] | None:
    """(user, groups) from a client certificate the TLS layer verified against the CA: CN is the
    user, each O a group; None when the certificate is not valid at `now` (Unix seconds)."""
    user, groups, not_before, not_after = _identity(der)
    if not not_before <= now <= not_after:
        return None
    return user, list(groups)


# Every request presents its connection's certificate, and clients are few: each is parsed once.
@functools.lru_cache(maxsize=256)
def _identity(der: bytes) -> tuple[str, tuple[str, ...], float, float]:
    cert = x509.load_der_x509_certificate(der)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return ((cn[0].value if cn else ""), tuple(o.value for o in orgs), cert.not_valid_before_utc.timestamp(),
            cert.not_valid_after_utc.timestamp())
