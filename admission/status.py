"""The error every refusal is: a Kubernetes Status (code, reason, message, details).

It lives in the lowest layer that refuses requests, so admission plugins and the server above
them raise one and the same error, which the HTTP layer writes as the Status body.
"""
from __future__ import annotations


class StatusError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict:
        """The metav1.Status body, keys in Go's field order and empty fields left out, as kube's
        encoder writes it (clients compare these bytes)."""
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
        if self.message:
            body["message"] = self.message
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = _details(self.details)
        body["code"] = self.code
        return body


# metav1.StatusDetails and metav1.StatusCause, in Go's field order; every field is omitempty, but
# Status.details is a pointer: kube writes `"details":{}` where an error has empty details (a path
# no route serves) and leaves the key out where it has none (BadRequest, Expired), so `details`
# keeps that difference: None or a dict.
_DETAILS = ("name", "group", "kind", "uid", "causes", "retryAfterSeconds")
_CAUSE = ("reason", "message", "field")


def _details(details: dict) -> dict:
    out = {key: details[key] for key in _DETAILS if details.get(key)}
    if "causes" in out:
        out["causes"] = [{key: cause[key] for key in _CAUSE if cause.get(key)} for cause in out["causes"]]
    return out
