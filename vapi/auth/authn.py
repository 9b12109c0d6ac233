"""Authentication: who sent a request, settled by a chain of authenticators as kube's union does.

Each authenticator looks for its own kind of credential. It answers None when the request
carries none (the next one looks), a `User` when the credential is good, and raises 401 when the
credential is there but bad: a request with a bad token is refused, never demoted to anonymous.
A request no authenticator claims is `system:anonymous` when anonymous requests are allowed.
"""
from __future__ import annotations

import csv
import logging
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
    """x509: the certificate the TLS layer verified against the cluster CA; CN the user, O the groups."""

    def authenticate(self, request) -> User | None:
        transport = request.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            return None
        name, groups = identity_from_cert(der)
        return User(name, groups)


class TokenAuthenticator:
    """One source of bearer tokens: a User for a token it vouches for, else None (with why in
    `InvalidToken` when the token is its kind but bad)."""

    def user_for_token(self, token: str, audiences: list[str]) -> User | None:
        raise NotImplementedError


class TokenFile(TokenAuthenticator):
    """kube's --token-auth-file: CSV lines of token,user,uid[,"group1,group2"]."""

    def __init__(self, path: Path):
        self.users: dict[str, User] = {}
        with open(path, newline="") as f:
            for number, row in enumerate(csv.reader(f), 1):
                if not row or row[0].startswith("#"):
                    continue
                if len(row) < 3:
                    raise ValueError(f"{path}, line {number}: want token,user,uid[,groups], got {len(row)} fields")
                groups = [g.strip() for g in row[3].split(",") if g.strip()] if len(row) > 3 else []
                self.users[row[0]] = User(row[1], groups, row[2])

    def user_for_token(self, token: str, audiences: list[str]) -> User | None:
        user = self.users.get(token)
        return User(user.name, list(user.groups), user.uid) if user else None


class ServiceAccountTokens(TokenAuthenticator):
    def __init__(self, signer: tokens.Signer, lookup):
        self.signer = signer
        self.lookup = lookup

    def user_for_token(self, token: str, audiences: list[str]) -> User | None:
        if token.count(".") != 2:
            return None
        claims = self.signer.verify(token, audiences)
        return tokens.user_for(claims, self.lookup)


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
        user, why = self.user_for_token(token, self.audiences)
        if user is None:
            log.info("refused a bearer token from %s: %s", request.remote, why)
            raise errors.unauthorized()
        return user

    def user_for_token(self, token: str, audiences: list[str]) -> tuple[User | None, str]:
        """(user, "") or (None, why): what TokenReview answers."""
        why = "invalid bearer token"
        for source in self.sources:
            try:
                user = source.user_for_token(token, audiences)
            except tokens.InvalidToken as e:
                why = f"{why}, {e}"
                continue
            if user is not None:
                if AUTHENTICATED not in user.groups:
                    user.groups.append(AUTHENTICATED)
                return user, ""
        return None, why


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
