"""Review kinds (access reviews, whoami, token reviews): questions answered, never stored."""
from __future__ import annotations

from ...auth import reviews
from .builtin import BuiltinStrategy


class ReviewStrategy(BuiltinStrategy):
    stores = False
    # The server's bearer-token authenticators, for TokenReview; set by the composition root.
    tokens = None

    def answer(self, obj: dict, user, namespace: str | None) -> dict:
        return reviews.answer(self.info, obj, user, namespace, self.tokens)
