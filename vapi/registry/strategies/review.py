"""Review kinds (access reviews, whoami, token reviews): questions answered, never stored."""
from __future__ import annotations

from ...auth import reviews
from .builtin import BuiltinStrategy


class ReviewStrategy(BuiltinStrategy):
    stores = False
    # What answers them (authorizer, rule resolver, token authenticators): the composition root
    # gives each server's review kinds its own.
    reviewers = reviews.Reviewers()

    def answer(self, obj: dict, user, namespace: str | None) -> dict:
        return reviews.answer(self.info, obj, user, namespace, self.reviewers)
