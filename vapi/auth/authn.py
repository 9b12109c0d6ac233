"""Authentication: who sent a request, settled by a chain of authenticators as kube's union does.

Each authenticator looks for its own kind of credential. It answers None when the request
carries none (the next one looks), a `User` when the credential is good, and raises 401 when the
credential is there but bad: a request with a bad token is refused, never demoted to anonymous.
A request no authenticator claims is `system:anonymous` when anonymous requests are allowed.
"""
from __future__ import annotations

from .. import errors
from .certs import identity_from_cert
from .user import AUTHENTICATED, User, anonymous


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
