"""Service-account tokens: JWTs the server signs and verifies, as kube's serviceaccount package does.

Two shapes. Bound tokens (TokenRequest, projected volumes) carry the audiences they were asked
for, an expiry and, under the private `kubernetes.io` claim, the service account and the pod or
secret they are bound to; they stop working when any of those objects is gone or replaced.
Legacy tokens (Secrets of type kubernetes.io/service-account-token) never expire and work for as
long as their Secret holds them.

The signing key is RSA (RS256 is what every verifier of kube's tokens expects), made on first use
and kept in the data dir: an RSA key costs tens of milliseconds, which a server that never
issues a token should not pay at start.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson

from admission.gotime import parse_rfc3339

from . import rs256
from .user import AUTHENTICATED, User

log = logging.getLogger("vapi.auth")
ISSUER = "https://kubernetes.default.svc.cluster.local"
LEGACY_ISSUER = "kubernetes/serviceaccount"
SA_PREFIX = "system:serviceaccount:"
SA_GROUP = "system:serviceaccounts"
# Projected tokens asked for 3607 s are issued for a year and say when to warn, as kube's
# --service-account-extend-token-expiration does, so pods outlive a kubelet that is slow to refresh.
EXTENDED_REQUEST = 3607
EXTENDED_SECONDS = 365 * 24 * 3600
# A bound object deleted less than this long ago still vouches for its tokens (kube's grace).
DELETION_GRACE = 60
LEGACY = "kubernetes.io/serviceaccount/"


class InvalidToken(Exception):
    """Why a token was refused: for TokenReview's error and the server log, never for the client."""


class NotOurs(InvalidToken):
    """Not a token this server issued (not a JWT, another issuer): other authenticators may take it."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def service_account_user(namespace: str, name: str) -> str:
    return f"{SA_PREFIX}{namespace}:{name}"


@dataclass
class Claims:
    """What a verified token says, before its objects are checked."""
    namespace: str
    service_account: str
    service_account_uid: str
    audiences: list[str]
    pod: tuple[str, str] | None = None      # (name, uid)
    secret: tuple[str, str] | None = None   # (name, uid)
    legacy_token: str = ""
    credential_id: str = ""


class Signer:
    def __init__(self, key_path: Path, issuer: str = ISSUER):
        self.key_path = key_path
        self.issuer = issuer
        self._key = None
        self._lock = threading.Lock()

    @property
    def key(self):
        """The RSA private key (`rs256`: sign, verify, public_der, public_numbers)."""
        with self._lock:
            if self._key is None:
                if self.key_path.exists():
                    self._key = rs256.load(self.key_path.read_bytes())
                else:
                    self._key = rs256.generate()
                    tmp = self.key_path.with_suffix(".tmp")
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    with os.fdopen(fd, "wb") as f:
                        f.write(self._key.private_pem())
                    os.replace(tmp, self.key_path)
            return self._key

    def has_key(self) -> bool:
        """Whether a key exists: without one no token was ever signed here, nor need one be made."""
        return self._key is not None or self.key_path.exists()

    @property
    def key_id(self) -> str:
        """kube's keyIDFromPublicKey: the unpadded base64url SHA-256 of the DER public key."""
        return _b64(hashlib.sha256(self.key.public_der()).digest())

    def jwks(self) -> dict:
        n, e = self.key.public_numbers()
        as_bytes = lambda n: n.to_bytes((n.bit_length() + 7) // 8, "big")
        return {"keys": [{"use": "sig", "kty": "RSA", "kid": self.key_id, "alg": "RS256",
                          "n": _b64(as_bytes(n)), "e": _b64(as_bytes(e))}]}

    def _sign(self, claims: dict) -> str:
        header = _b64(orjson.dumps({"alg": "RS256", "kid": self.key_id}))
        payload = _b64(orjson.dumps(claims))
        signature = self.key.sign(f"{header}.{payload}".encode())
        return f"{header}.{payload}.{_b64(signature)}"

    def bound_token(self, namespace: str, service_account: dict, audiences: list[str], seconds: int,
                    pod: dict | None = None, secret: dict | None = None, now: float | None = None) -> tuple[str, int]:
        """(token, expiry as a Unix time) for a TokenRequest."""
        now = int(now if now is not None else time.time())
        meta = service_account["metadata"]
        private = {"namespace": namespace, "serviceaccount": {"name": meta["name"], "uid": meta["uid"]}}
        for kind, obj in (("pod", pod), ("secret", secret)):
            if obj is not None:
                private[kind] = {"name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"]}
        lifetime = seconds
        if seconds == EXTENDED_REQUEST and pod is not None:
            lifetime = EXTENDED_SECONDS
            private["warnafter"] = now + seconds
        claims = {"aud": audiences, "exp": now + lifetime, "iat": now, "iss": self.issuer,
                  "jti": str(uuid.uuid4()), "kubernetes.io": private, "nbf": now,
                  "sub": service_account_user(namespace, meta["name"])}
        return self._sign(claims), now + lifetime

    def legacy_token(self, service_account: dict, secret: dict) -> str:
        meta = service_account["metadata"]
        return self._sign({
            "iss": LEGACY_ISSUER, LEGACY + "namespace": meta["namespace"],
            LEGACY + "secret.name": secret["metadata"]["name"],
            LEGACY + "service-account.name": meta["name"], LEGACY + "service-account.uid": meta["uid"],
            "sub": service_account_user(meta["namespace"], meta["name"])})

    def verify(self, token: str, audiences: list[str], now: float | None = None) -> Claims:
        """The claims of a token this server signed, or InvalidToken. Its objects are not checked here."""
        parts = token.split(".")
        if len(parts) != 3:
            raise NotOurs("not a JWT")
        try:
            header, claims = orjson.loads(_unb64(parts[0])), orjson.loads(_unb64(parts[1]))
            signature = _unb64(parts[2])
        except (ValueError, binascii.Error, orjson.JSONDecodeError) as e:
            raise NotOurs(f"malformed JWT: {e}") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise NotOurs("malformed JWT")
        if claims.get("iss") not in (self.issuer, LEGACY_ISSUER):
            raise NotOurs("not issued by this server")  # another issuer's token: not ours to judge
        if header.get("alg") != "RS256" or not self.has_key() or \
                not self.key.verify(signature, f"{parts[0]}.{parts[1]}".encode()):
            raise InvalidToken("go-jose/go-jose: error in cryptographic primitive")
        if claims["iss"] == LEGACY_ISSUER:
            return self._legacy_claims(claims, token, _audiences([self.issuer], audiences))
        return self._bound_claims(claims, audiences, time.time() if now is None else now)

    @staticmethod
    def _legacy_claims(claims: dict, token: str, audiences: list[str]) -> Claims:
        fields = [claims.get(LEGACY + k) for k in ("namespace", "service-account.name", "service-account.uid",
                                                   "secret.name")]
        if not all(isinstance(f, str) and f for f in fields):
            raise InvalidToken("legacy token lacks its service account claims")
        namespace, name, uid, secret = fields
        return Claims(namespace, name, uid, audiences, secret=(secret, ""), legacy_token=token)

    @staticmethod
    def _bound_claims(claims: dict, audiences: list[str], now: float) -> Claims:
        exp, nbf = claims.get("exp"), claims.get("nbf", 0)
        if not isinstance(exp, int) or not isinstance(nbf, int):
            raise InvalidToken("token lacks its validity period")
        # kube allows a minute of clock skew either way.
        if now > exp + 60:
            raise InvalidToken("service account token has expired")
        if now < nbf - 60:
            raise InvalidToken("service account token is not valid yet")
        aud = claims.get("aud")
        aud = _audiences([aud] if isinstance(aud, str) else aud, audiences)
        private = claims.get("kubernetes.io")
        if not isinstance(private, dict):
            raise InvalidToken("token lacks the kubernetes.io claim")
        sa = private.get("serviceaccount") or {}
        namespace = private.get("namespace")
        if not isinstance(namespace, str) or not isinstance(sa, dict) or not sa.get("name") or not sa.get("uid"):
            raise InvalidToken("token lacks its service account")

        def ref(kind):
            found = private.get(kind)
            return (str(found.get("name", "")), str(found.get("uid", ""))) if isinstance(found, dict) else None

        jti = claims.get("jti")
        return Claims(namespace, str(sa["name"]), str(sa["uid"]), aud,
                      pod=ref("pod"), secret=ref("secret"), credential_id=f"JTI={jti}" if jti else "")


def _audiences(token_audiences, wanted: list[str]) -> list[str]:
    """The token's audiences that are wanted; a token for none of them is refused, in kube's words.
    Legacy tokens name none and are good for the server's own."""
    good = [a for a in token_audiences if a in wanted] if isinstance(token_audiences, list) else []
    if not good:
        raise InvalidToken(f"token audiences {_go_quoted(token_audiences)} is invalid for the target audiences "
                           f"{_go_quoted(wanted)}")
    return good


def _go_quoted(values) -> str:
    """Go's %q of a []string: ["a" "b"]."""
    values = values if isinstance(values, list) else []
    return "[" + " ".join(orjson.dumps(str(v)).decode() for v in values) + "]"


def _gone(obj: dict | None, uid: str, now: float) -> bool:
    """A bound object that no longer vouches: missing, replaced, or deleted past the grace."""
    if obj is None or (uid and obj["metadata"].get("uid") != uid):
        return True
    deleted = obj["metadata"].get("deletionTimestamp")
    if deleted:
        return parse_rfc3339(deleted).timestamp() < now - DELETION_GRACE
    return False


def _invalidated(why: str) -> InvalidToken:
    """kube says only this of a token whose objects are gone; the detail is for the log."""
    log.info("service account token refused: %s", why)
    return InvalidToken("service account token has been invalidated")


def user_for(claims: Claims, lookup, now: float | None = None) -> User:
    """The service account's user, once the objects the token names are checked to still exist.
    `lookup(plural, namespace, name)` reads core/v1 objects (cache first)."""
    now = time.time() if now is None else now
    sa = lookup("serviceaccounts", claims.namespace, claims.service_account)
    if _gone(sa, claims.service_account_uid, now):
        raise _invalidated(f"service account {claims.namespace}/{claims.service_account} is gone")
    extra = {}
    if claims.legacy_token:
        secret = lookup("secrets", claims.namespace, claims.secret[0])
        token = ((secret or {}).get("data") or {}).get("token", "")
        if _gone(secret, "", now) or base64.b64decode(token or "").decode(errors="replace") != claims.legacy_token:
            raise _invalidated(f"secret {claims.namespace}/{claims.secret[0]} no longer holds this token")
    elif claims.secret is not None:
        if _gone(lookup("secrets", claims.namespace, claims.secret[0]), claims.secret[1], now):
            raise _invalidated(f"secret {claims.namespace}/{claims.secret[0]} is gone")
    if claims.pod is not None:
        if _gone(lookup("pods", claims.namespace, claims.pod[0]), claims.pod[1], now):
            raise _invalidated(f"pod {claims.namespace}/{claims.pod[0]} is gone")
        extra["authentication.kubernetes.io/pod-name"] = [claims.pod[0]]
        extra["authentication.kubernetes.io/pod-uid"] = [claims.pod[1]]
    if claims.credential_id:
        extra["authentication.kubernetes.io/credential-id"] = [claims.credential_id]
    return User(service_account_user(claims.namespace, claims.service_account),
                [SA_GROUP, f"{SA_GROUP}:{claims.namespace}", AUTHENTICATED], claims.service_account_uid, extra)
