"""What a Job's spec says about its finished pods: the pod failure policy (which failures fail
the Job at once, count, or are ignored), the success policy of Indexed Jobs, and the delay
before a failed pod is replaced (exponential from the base, capped, reset by a success).
"""
from __future__ import annotations

import datetime as dt
import os

from admission.gotime import parse_rfc3339

from .jobindexes import parse_indexes

# kube's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff; tests shorten the base.
BACKOFF_BASE = float(os.environ.get("VAPI_JOB_BACKOFF_SECONDS", "10"))
BACKOFF_MAX = 600.0


def _terminated_matching(statuses, requirement: dict) -> dict | None:
    values = requirement.get("values") or []
    for status in statuses or []:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated is None:
            continue
        name = requirement.get("containerName")
        code = terminated.get("exitCode", 0)
        if (name is None or name == status.get("name")) and code != 0:
            operator = requirement.get("operator")
            if (operator == "In" and code in values) or (operator == "NotIn" and code not in values):
                return status
    return None


def match_pod_failure_policy(policy: dict | None, pod: dict) -> tuple[str | None, bool, str | None]:
    """(message when the Job must fail, whether the failure counts, the action matched)."""
    if not policy:
        return None, True, None
    status = pod.get("status") or {}
    meta = pod["metadata"]
    for index, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        message = None
        if rule.get("onExitCodes") is not None:
            found = _terminated_matching(status.get("containerStatuses"), rule["onExitCodes"]) or \
                _terminated_matching(status.get("initContainerStatuses"), rule["onExitCodes"])
            if found is None:
                continue
            message = (f"Container {found['name']} for pod {meta.get('namespace')}/{meta['name']} failed with exit "
                       f"code {found['state']['terminated'].get('exitCode', 0)} matching {action} rule at index {index}")
        elif rule.get("onPodConditions") is not None:
            found = next((c for c in status.get("conditions") or [] for p in rule["onPodConditions"]
                          if c.get("type") == p.get("type") and c.get("status") == p.get("status", "True")), None)
            if found is None:
                continue
            message = (f"Pod {meta.get('namespace')}/{meta['name']} has condition {found['type']} matching "
                       f"{action} rule at index {index}")
        else:
            continue
        if action == "Ignore":
            return None, False, action
        if action == "FailJob":
            return message, True, action
        if action in ("Count", "FailIndex"):
            return None, True, action
    return None, True, None


def match_success_policy(policy: dict | None, completions: int, succeeded: set[int]) -> str | None:
    """kube's message for the first success-policy rule the succeeded indexes meet, or None."""
    if not policy or not succeeded:
        return None
    for index, rule in enumerate(policy.get("rules") or []):
        count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            required = parse_indexes(rule["succeededIndexes"], completions)
            if not required:
                continue
            overlap = len(required & succeeded)
            if overlap == len(required) or (count is not None and overlap >= count):
                return f"Matched rules at index {index}"
        elif count is not None and len(succeeded) >= count:
            return f"Matched rules at index {index}"
    return None


def finished_at(pod: dict, now: dt.datetime) -> dt.datetime:
    """When a pod finished: its last container's end, else its deletion, else now."""
    status = pod.get("status") or {}
    ends = [parse_rfc3339(t) for s in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
            if (t := ((s.get("state") or {}).get("terminated") or {}).get("finishedAt"))]
    if ends:
        return max(ends)
    deleted = pod["metadata"].get("deletionTimestamp")
    return parse_rfc3339(deleted) if deleted else now


class Backoff:
    """Per Job: failures since the last success and when the last one happened."""

    def __init__(self):
        self.failures = 0
        self.last_failure: dt.datetime | None = None

    def record(self, succeeded: list[dict], failed: list[dict], now: dt.datetime) -> None:
        if succeeded:
            self.failures, self.last_failure = 0, None
        if failed:
            self.failures += len(failed)
            latest = max(finished_at(p, now) for p in failed)
            self.last_failure = max(latest, self.last_failure) if self.last_failure else latest

    def remaining(self, now: dt.datetime, base: float | None = None) -> float:
        """Seconds to wait before creating a replacement pod."""
        if self.failures == 0 or self.last_failure is None:
            return 0.0
        base = BACKOFF_BASE if base is None else base
        delay = min(base * 2 ** (self.failures - 1), BACKOFF_MAX)
        return max(delay - (now - self.last_failure).total_seconds(), 0.0)
