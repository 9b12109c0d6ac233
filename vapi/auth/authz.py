"""Authorization: may this user do this? Asked once per request, after authentication.

`Attributes` are what kube's authorizer.Attributes carry; an authorizer answers allow, deny or no
opinion, with a reason. The server refuses a request no authorizer allows with 403.
"""
from __future__ import annotations

from dataclasses import dataclass

from .requestinfo import RequestInfo
from .user import User

ALLOW, DENY, NO_OPINION = "allow", "deny", "no-opinion"


@dataclass(slots=True)
class Attributes:
    user: User
    verb: str
    resource_request: bool
    namespace: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""

    @classmethod
    def of(cls, user: User, info: RequestInfo) -> "Attributes":
        return cls(user, info.verb, info.resource_request, info.namespace, info.group, info.version,
                   info.resource, info.subresource, info.name, info.path)


class Authorizer:
    def authorize(self, attrs: Attributes) -> tuple[str, str]:
        """(decision, reason)."""
        raise NotImplementedError


class AlwaysAllow(Authorizer):
    def authorize(self, attrs: Attributes) -> tuple[str, str]:
        return ALLOW, ""
