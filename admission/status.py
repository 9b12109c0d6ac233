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
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body
