"""Service-account token keys on the process's own OpenSSL give byte for byte what the
cryptography package gives for the same key, and a key made here is one cryptography reads."""
from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from vapi.auth import rs256

DATA = b"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0"


@pytest.fixture(scope="module")
def reference():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_this_process_signs_on_openssl():
    assert rs256._lib() is not None
    assert isinstance(rs256.load(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))),
                      rs256.RSAKey)


@pytest.mark.parametrize("holder", ["openssl", "cryptography"])
def test_same_signature_public_key_and_numbers_as_cryptography(reference, holder):
    key = rs256.load(_pem(reference)) if holder == "openssl" else rs256._CryptographyKey(reference)
    assert key.sign(DATA) == reference.sign(DATA, padding.PKCS1v15(), hashes.SHA256())
    assert key.public_der() == reference.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    numbers = reference.public_key().public_numbers()
    assert key.public_numbers() == (numbers.n, numbers.e)
    assert key.verify(key.sign(DATA), DATA)
    assert not key.verify(key.sign(DATA), DATA + b"x")
    assert not key.verify(b"\0" * 256, DATA)
    assert not key.verify(b"short", DATA)


def test_a_made_key_is_rsa_2048_that_cryptography_reads():
    made = rs256.generate()
    read = serialization.load_pem_private_key(made.private_pem(), None)
    assert read.key_size == 2048 and read.public_key().public_numbers().e == 65537
    signature = made.sign(DATA)
    read.public_key().verify(signature, DATA, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        read.public_key().verify(signature, DATA + b"x", padding.PKCS1v15(), hashes.SHA256())
    assert rs256.load(made.private_pem()).sign(DATA) == signature
