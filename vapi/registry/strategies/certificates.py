"""CertificateSigningRequests, as kube's certificates strategy keeps them: the requestor is
recorded from who created the request, the request itself never changes, the approval subresource
changes only the Approved/Denied conditions, and the status subresource everything but those."""
from __future__ import annotations

import copy

from .base import now_rfc3339
from .builtin import BuiltinStrategy

APPROVAL_CONDITIONS = ("Approved", "Denied")


def _conditions(obj: dict, approval: bool) -> list[dict]:
    return [c for c in (obj.get("status") or {}).get("conditions") or []
            if isinstance(c, dict) and (c.get("type") in APPROVAL_CONDITIONS) == approval]


class CSRStrategy(BuiltinStrategy):
    def prepare_for_create(self, obj: dict, user=None) -> None:
        super().prepare_for_create(obj, user)
        spec = obj.setdefault("spec", {})
        for field in ("username", "uid", "groups", "extra"):
            spec.pop(field, None)
        if user is not None:
            spec["username"] = user.name
            if user.uid:
                spec["uid"] = user.uid
            if user.groups:
                spec["groups"] = list(user.groups)
            if user.extra:
                spec["extra"] = copy.deepcopy(user.extra)
        obj.pop("status", None)

    def prepare_for_update(self, obj: dict, old: dict, subresource: str | None) -> None:
        if subresource != "approval":
            super().prepare_for_update(obj, old, subresource)
            if subresource == "status":
                self._keep(obj, old, approval=True)
            elif "spec" in old:
                obj["spec"] = copy.deepcopy(old["spec"])  # a request is never rewritten
            return
        # Everything but the approval conditions stays as stored.
        super().prepare_for_update(obj, old, "status")
        self._keep(obj, old, approval=False)
        # An approval's lastTransitionTime is the server's to fill in (kubectl sends none).
        before = {(c.get("type"), c.get("status")): c.get("lastTransitionTime") for c in _conditions(old, True)}
        for condition in _conditions(obj, True):
            if not condition.get("lastTransitionTime"):
                condition["lastTransitionTime"] = (before.get((condition.get("type"), condition.get("status")))
                                                   or now_rfc3339())
        if "certificate" in (old.get("status") or {}):
            obj.setdefault("status", {})["certificate"] = old["status"]["certificate"]
        else:
            (obj.get("status") or {}).pop("certificate", None)

    @staticmethod
    def _keep(obj: dict, old: dict, approval: bool) -> None:
        """Put back the old conditions of one family (approval or not), keeping the new ones of the other."""
        status = obj.setdefault("status", {})
        kept = copy.deepcopy(_conditions(old, approval))
        conditions = kept + _conditions(obj, not approval)
        if conditions:
            status["conditions"] = conditions
        else:
            status.pop("conditions", None)
