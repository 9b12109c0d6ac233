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
