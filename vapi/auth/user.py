"""Who a request is: the user the authenticators settle on, as kube's user.Info carries it."""
from __future__ import annotations

from dataclasses import dataclass, field

ANONYMOUS = "system:anonymous"
UNAUTHENTICATED = "system:unauthenticated"
AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"


@dataclass
class User:
    name: str
    groups: list[str] = field(default_factory=list)
    uid: str = ""
    # Extra attributes (scopes, the pod a token is bound to...): name -> list of values.
    extra: dict = field(default_factory=dict)


def anonymous() -> User:
    return User(ANONYMOUS, [UNAUTHENTICATED])


def user_info(user: User) -> dict:
    """authentication.k8s.io/v1 UserInfo, in Go's field order with its empty fields left out, as
    reviews answer it and the audit log records it."""
    info = {"username": user.name}
    if user.uid:
        info["uid"] = user.uid
    if user.groups:
        info["groups"] = list(user.groups)
    if user.extra:
        info["extra"] = user.extra
    return info
