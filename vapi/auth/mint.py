"""Certificates made and signed: the only part of the PKI that needs the cryptography package.

Imported when a certificate is made (a data dir's first start, `vapi kubeconfig`, a CSR signed),
never to serve: a server started on an existing data dir does not map cryptography's library,
about 7 MB of its resident memory.
"""
from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn: str, *orgs: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
                     + [x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _builder(subject: x509.Name, issuer: x509.Name, public_key, validity: datetime.timedelta):
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


def _new_key():
    return ec.generate_private_key(ec.SECP256R1())


def make(pki, server_names: list[str], server_ips: list[str], admin: tuple[str, str],
         validity: datetime.timedelta) -> None:
    """A new CA, serving certificate and admin client certificate, written into `pki`'s files."""
    ca_key = _new_key()
    ca_name = _name("vapi-ca")
    ca = (_builder(ca_name, ca_name, ca_key.public_key(), validity)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    sans = [x509.DNSName(n) for n in server_names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in server_ips]
    for cert_path, key_path, subject, usage, leaf_sans in (
            (pki.server_cert, pki.server_key, _name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, sans),
            (pki.admin_cert, pki.admin_key, _name(*admin), ExtendedKeyUsageOID.CLIENT_AUTH, None)):
        key = _new_key()
        cert = _leaf(subject, key.public_key(), ca, ca_key, usage, leaf_sans, validity)
        pki._write(key_path, _pem_key(key))
        pki._write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    pki._write(pki.ca_key, _pem_key(ca_key))
    pki._write(pki.ca_cert, ca.public_bytes(serialization.Encoding.PEM))


def sign_client(ca_cert: Path, ca_key: Path, public_key, user: str, groups: list[str],
                validity: datetime.timedelta) -> bytes:
    """A client certificate for `user` in `groups`, signed by the CA in these files (PEM)."""
    ca = x509.load_pem_x509_certificate(ca_cert.read_bytes())
    key = serialization.load_pem_private_key(ca_key.read_bytes(), None)
    cert = _leaf(_name(user, *groups), public_key, ca, key, ExtendedKeyUsageOID.CLIENT_AUTH, None, validity)
    return cert.public_bytes(serialization.Encoding.PEM)


def new_client_key():
    """A new client key and its PEM."""
    key = _new_key()
    return key, _pem_key(key)
