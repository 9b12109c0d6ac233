"""RS256 keys on the OpenSSL that Python's ssl module has already loaded.

Service-account tokens are signed and checked with an RSA key. The cryptography package would do
it, but mapping its library costs a serving process about 7 MB of resident memory, which is most
of what a virtual cluster has left under its budget once it runs pods; OpenSSL's libcrypto is in
the process anyway (the TLS server uses it), so the few calls a token needs go to it directly.
Where that libcrypto is not OpenSSL 3 (or not found), the cryptography package holds the key.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import ssl

_P = ctypes.c_void_p
_SIZE = ctypes.c_size_t
_BIO_CTRL_INFO = 3          # BIO_get_mem_data is BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data)
_KEY_BITS = 2048           # with OpenSSL's default public exponent, 65537


class OpenSSLError(Exception):
    pass


_SIGNATURES = {
    "ERR_clear_error": (None, []),
    "BIO_new_mem_buf": (_P, [ctypes.c_char_p, ctypes.c_int]),
    "BIO_new": (_P, [_P]),
    "BIO_s_mem": (_P, []),
    "BIO_ctrl": (ctypes.c_long, [_P, ctypes.c_int, ctypes.c_long, _P]),
    "BIO_free": (ctypes.c_int, [_P]),
    "PEM_read_bio_PrivateKey": (_P, [_P, _P, _P, _P]),
    "PEM_write_bio_PKCS8PrivateKey": (ctypes.c_int, [_P, _P, _P, _P, ctypes.c_int, _P, _P]),
    "EVP_PKEY_free": (None, [_P]),
    "EVP_PKEY_CTX_new_from_name": (_P, [_P, ctypes.c_char_p, _P]),
    "EVP_PKEY_CTX_free": (None, [_P]),
    "EVP_PKEY_keygen_init": (ctypes.c_int, [_P]),
    "EVP_PKEY_CTX_set_rsa_keygen_bits": (ctypes.c_int, [_P, ctypes.c_int]),
    "EVP_PKEY_generate": (ctypes.c_int, [_P, ctypes.POINTER(_P)]),
    "EVP_MD_CTX_new": (_P, []),
    "EVP_MD_CTX_free": (None, [_P]),
    "EVP_sha256": (_P, []),
    "EVP_DigestSignInit": (ctypes.c_int, [_P, _P, _P, _P, _P]),
    "EVP_DigestSign": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.POINTER(_SIZE), ctypes.c_char_p, _SIZE]),
    "EVP_DigestVerifyInit": (ctypes.c_int, [_P, _P, _P, _P, _P]),
    "EVP_DigestVerify": (ctypes.c_int, [_P, ctypes.c_char_p, _SIZE, ctypes.c_char_p, _SIZE]),
    "i2d_PUBKEY": (ctypes.c_int, [_P, ctypes.POINTER(ctypes.c_char_p)]),
}


@functools.cache
def _lib():
    """The libcrypto of this process's ssl module, if it is OpenSSL 3 and has every call we make."""
    if not ssl.OPENSSL_VERSION.startswith("OpenSSL 3."):
        return None
    for name in ("libcrypto.so.3", "libcrypto.3.dylib", ctypes.util.find_library("crypto")):
        try:
            lib = ctypes.CDLL(name)  # the one already loaded, found by its soname
            for function, (restype, argtypes) in _SIGNATURES.items():
                f = getattr(lib, function)
                f.restype, f.argtypes = restype, argtypes
            return lib
        except (OSError, AttributeError, TypeError):
            continue
    return None


def _check(ok: bool, what: str) -> None:
    if not ok:
        _lib().ERR_clear_error()  # the ssl module reads this thread's error queue: leave it empty
        raise OpenSSLError(what)


class RSAKey:
    """A private key held by OpenSSL; safe to use from several threads at once."""

    def __init__(self, pkey: int):
        self._pkey = pkey

    def __del__(self):
        if self._pkey and _lib() is not None:
            _lib().EVP_PKEY_free(self._pkey)
            self._pkey = None

    def _digest(self, verify: bool, *args) -> int:
        lib = _lib()
        ctx = lib.EVP_MD_CTX_new()
        _check(bool(ctx), "EVP_MD_CTX_new")
        try:
            init = lib.EVP_DigestVerifyInit if verify else lib.EVP_DigestSignInit
            _check(init(ctx, None, lib.EVP_sha256(), None, self._pkey) == 1, "digest init")
            return (lib.EVP_DigestVerify if verify else lib.EVP_DigestSign)(ctx, *args)
        finally:
            lib.EVP_MD_CTX_free(ctx)

    def sign(self, data: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 over SHA-256 (deterministic: the same bytes the cryptography package makes)."""
        size = _SIZE(0)
        _check(self._digest(False, None, ctypes.byref(size), data, len(data)) == 1, "signature size")
        out = ctypes.create_string_buffer(size.value)
        _check(self._digest(False, out, ctypes.byref(size), data, len(data)) == 1, "sign")
        return out.raw[:size.value]

    def verify(self, signature: bytes, data: bytes) -> bool:
        good = self._digest(True, signature, len(signature), data, len(data)) == 1
        if not good:
            _lib().ERR_clear_error()
        return good

    def public_der(self) -> bytes:
        """The public key as DER SubjectPublicKeyInfo."""
        lib = _lib()
        size = lib.i2d_PUBKEY(self._pkey, None)
        _check(size > 0, "i2d_PUBKEY")
        out = ctypes.create_string_buffer(size)
        cursor = ctypes.c_char_p(ctypes.addressof(out))
        _check(lib.i2d_PUBKEY(self._pkey, ctypes.byref(cursor)) == size, "i2d_PUBKEY")
        return out.raw

    def public_numbers(self) -> tuple[int, int]:
        """(n, e), read from the DER SubjectPublicKeyInfo."""
        spki = _der_items(self.public_der())[0][1]
        bit_string = _der_items(spki)[1][1]
        n, e = (int.from_bytes(value, "big") for _, value in _der_items(_der_items(bit_string[1:])[0][1]))
        return n, e

    def private_pem(self) -> bytes:
        lib = _lib()
        bio = lib.BIO_new(lib.BIO_s_mem())
        _check(bool(bio), "BIO_new")
        try:
            _check(lib.PEM_write_bio_PKCS8PrivateKey(bio, self._pkey, None, None, 0, None, None) == 1, "write PEM")
            data = ctypes.c_void_p()
            size = lib.BIO_ctrl(bio, _BIO_CTRL_INFO, 0, ctypes.byref(data))
            return ctypes.string_at(data, size)
        finally:
            lib.BIO_free(bio)


def _der_items(der: bytes) -> list[tuple[int, bytes]]:
    """The (tag, contents) of each DER element in `der`, one level deep."""
    items, i = [], 0
    while i < len(der):
        tag, length = der[i], der[i + 1]
        i += 2
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(der[i:i + count], "big")
            i += count
        items.append((tag, der[i:i + length]))
        i += length
    return items


class _CryptographyKey:
    """The same key held by the cryptography package: where there is no OpenSSL 3 to call."""

    def __init__(self, key):
        self._key = key

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def verify(self, signature: bytes, data: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        try:
            self._key.public_key().verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    def public_der(self) -> bytes:
        from cryptography.hazmat.primitives import serialization
        return self._key.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)

    def public_numbers(self) -> tuple[int, int]:
        numbers = self._key.public_key().public_numbers()
        return numbers.n, numbers.e

    def private_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())


def load(pem: bytes):
    """The private key in this PEM (PKCS#8 or PKCS#1)."""
    lib = _lib()
    if lib is None:
        from cryptography.hazmat.primitives import serialization
        return _CryptographyKey(serialization.load_pem_private_key(pem, None))
    bio = lib.BIO_new_mem_buf(pem, len(pem))
    _check(bool(bio), "BIO_new_mem_buf")
    try:
        pkey = lib.PEM_read_bio_PrivateKey(bio, None, None, None)
    finally:
        lib.BIO_free(bio)
        lib.ERR_clear_error()  # decoders tried on the way may leave errors even when one succeeds
    _check(bool(pkey), "PEM_read_bio_PrivateKey")
    return RSAKey(pkey)


def generate():
    """A new 2048-bit key, public exponent 65537."""
    lib = _lib()
    if lib is None:
        from cryptography.hazmat.primitives.asymmetric import rsa
        return _CryptographyKey(rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS))
    ctx = lib.EVP_PKEY_CTX_new_from_name(None, b"RSA", None)
    _check(bool(ctx), "EVP_PKEY_CTX_new_from_name")
    try:
        pkey = _P()
        _check(lib.EVP_PKEY_keygen_init(ctx) == 1 and lib.EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, _KEY_BITS) == 1
               and lib.EVP_PKEY_generate(ctx, ctypes.byref(pkey)) == 1, "RSA key generation")
    finally:
        lib.EVP_PKEY_CTX_free(ctx)
    return RSAKey(pkey.value)
