"""Authentication: who sent a request, settled by a chain of authenticators as kube's union does.

Each authenticator looks for its own kind of credential. It answers None when the request
carries none (the next one looks), a `User` when the credential is good, and raises 401 when the
credential is there but bad: a request with a bad token is refused, never demoted to anonymous.
A request no authenticator claims is `system:anonymous` when anonymous requests are allowed.
"""
from __future__ import annotations

import csv
import logging
import time
from pathlib import Path

from .. import errors
from . import tokens
from .certs import identity_from_cert
from .user import AUTHENTICATED, User, anonymous

log = logging.getLogger("vapi.auth")


class Authenticator:
    def authenticate(self, request) -> User | None:
        raise NotImplementedError


class ClientCertificates(Authenticator):
    """x509: the certificate the TLS layer verified against the cluster CA; CN the user, O the
    groups. Its validity period is checked here (the TLS layer leaves time to us), so an expired
    certificate gets kube's 401."""

    def authenticate(self, request) -> User | None:
        transport = request.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport else None
        # Decoded by the TLS layer that verified it (None when the client sent no certificate).
        cert = ssl_object.getpeercert() if ssl_object is not None else None
        if not cert:
            return None
        identity = identity_from_cert(cert, time.time())
        if identity is None:
            raise errors.unauthorized()
        return User(*identity)


class TokenAuthenticator:
    """One source of bearer tokens: (user, audiences it is good for) for a token it vouches for,
    None for a token it does not know, `tokens.InvalidToken` (why) for a token of its kind but bad."""

    def user_for_token(self, token: str, audiences: list[str]) -> tuple[User, list[str]] | None:
        raise NotImplementedError


class TokenFile(TokenAuthenticator):
    """kube's --token-auth-file: CSV lines of token,user,uid[,"group1,group2"]. Its tokens carry no
    audience: they are good for the server's own (kube's audience-agnostic wrapper)."""

    def __init__(self, path: Path, implicit_audiences: list[str]):
        self.implicit_audiences = implicit_audiences
        self.users: dict[str, User] = {}
        with open(path, newline="") as f:
            for number, row in enumerate(csv.reader(f), 1):
                if not row or row[0].startswith("#"):
                    continue
                if len(row) < 3:
                    raise ValueError(f"{path}, line {number}: want token,user,uid[,groups], got {len(row)} fields")
                groups = [g.strip() for g in row[3].split(",") if g.strip()] if len(row) > 3 else []
                self.users[row[0]] = User(row[1], groups, row[2])

    def user_for_token(self, token: str, audiences: list[str]) -> tuple[User, list[str]] | None:
        user = self.users.get(token)
        good_for = [a for a in self.implicit_audiences if a in audiences]
        if user is None or not good_for:
            return None
        return User(user.name, list(user.groups), user.uid), good_for


class ServiceAccountTokens(TokenAuthenticator):
    def __init__(self, signer: tokens.Signer, lookup):
        self.signer = signer
        self.lookup = lookup

    def user_for_token(self, token: str, audiences: list[str]) -> tuple[User, list[str]] | None:
        try:
            claims = self.signer.verify(token, audiences)
        except tokens.NotOurs:
            return None
        return tokens.user_for(claims, self.lookup), claims.audiences


class BearerTokens(Authenticator):
    """`Authorization: Bearer <token>`, asked of each token source in turn; a token none of them
    takes is a bad credential, answered 401."""

    def __init__(self, sources: list[TokenAuthenticator], audiences: list[str]):
        self.sources = sources
        self.audiences = audiences

    def authenticate(self, request) -> User | None:
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        user, _, why = self.review(token, self.audiences)
        if user is None:
            log.info("refused a bearer token from %s: %s", request.remote, why)
            raise errors.unauthorized()
        return user

    def review(self, token: str, audiences: list[str]) -> tuple[User | None, list[str], str]:
        """(user, audiences the token is good for, "") or (None, [], why): what TokenReview answers,
        `why` worded as kube's union of authenticators words it."""
        why = []
        for source in self.sources:
            try:
                found = source.user_for_token(token, audiences)
            except tokens.InvalidToken as e:
                why.append(str(e))
                continue
            if found is not None:
                user, good_for = found
                if AUTHENTICATED not in user.groups:
                    user.groups.append(AUTHENTICATED)
                return user, good_for, ""
        if not why:
            return None, [], "invalid bearer token"  # kube's bearer-token authenticator's default
        return None, [], why[0] if len(why) == 1 else f"[{', '.join(why)}]"


class Authentication:
    def __init__(self, authenticators: list[Authenticator], allow_anonymous: bool = True):
        self.authenticators = list(authenticators)
        self.allow_anonymous = allow_anonymous

    def authenticate(self, request) -> User:
        for authenticator in self.authenticators:
            user = authenticator.authenticate(request)
            if user is not None:
                if AUTHENTICATED not in user.groups:
                    user.groups = [*user.groups, AUTHENTICATED]
                return user
        if self.allow_anonymous:
            return anonymous()
        raise errors.unauthorized()
