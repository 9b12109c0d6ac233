"""The arithmetic of a Deployment's rollout, as kube's deployment util package defines it: the
pod-template hash that names ReplicaSets, surge and unavailability fenceposts, revision
annotations, proportional scaling and the conditions a Deployment's status carries.

Everything here is pure: objects in, numbers and changed copies out, so it is tested on its own.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import math

from admission.gotime import parse_rfc3339

from .intorpercent import scaled_value

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Deployment annotations a ReplicaSet does not inherit: they are about the Deployment itself.
NOT_COPIED = {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO}
REVISION_HISTORY_LIMIT_CHARS = 2000
MAX_INT32 = 2**31 - 1

# Condition reasons, worded as kube's.
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
FAILED_RS_CREATE = "ReplicaSetCreateError"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"

_SAFE = "bcdfghjklmnpqrstvwxz2456789"   # kube's rand.SafeEncodeString alphabet: no vowels, no 0/1/3


# --- naming ----------------------------------------------------------------------------------

def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    return "".join(_SAFE[ord(c) % len(_SAFE)] for c in text)


def canonical(value):
    """A template as Go holds it: a null (`creationTimestamp: null`, as kubectl sends templates
    back) is the same as an absent field."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def template_hash(template: dict, collision_count: int | None) -> str:
    """The pod-template-hash: fnv-32a of the template (and the collision count, when there is
    one, as four little-endian bytes), written in kube's safe alphabet."""
    data = json.dumps(canonical(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little")
    return safe_encode(str(fnv32a(data)))


def without_hash(template: dict | None) -> dict:
    template = canonical(template or {})
    labels = (template.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(HASH_LABEL, None)
        if not labels:
            del template["metadata"]["labels"]
    return template


def equal_ignore_hash(a: dict | None, b: dict | None) -> bool:
    return without_hash(a) == without_hash(b)


# --- counting --------------------------------------------------------------------------------

def spec_replicas(obj: dict | None) -> int:
    if obj is None:
        return 0
    replicas = (obj.get("spec") or {}).get("replicas")
    return 1 if replicas is None else replicas


def status_of(obj: dict | None, field: str) -> int:
    return ((obj or {}).get("status") or {}).get(field) or 0


def total(rss, field: str | None = None) -> int:
    """Spec replicas of these ReplicaSets summed, or a status field summed."""
    return sum(spec_replicas(rs) if field is None else status_of(rs, field) for rs in rss if rs is not None)


def active(rss) -> list[dict]:
    return [rs for rs in rss if rs is not None and spec_replicas(rs) > 0]


def created(obj: dict) -> tuple:
    return obj["metadata"].get("creationTimestamp") or "", obj["metadata"]["name"]


def by_creation(rss) -> list[dict]:
    return sorted(rss, key=created)


def revision_of(obj: dict | None) -> int:
    try:
        return int(((obj or {}).get("metadata", {}).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def by_revision(rss) -> list[dict]:
    return sorted(rss, key=lambda rs: (revision_of(rs), created(rs)))


# --- surge and unavailability ------------------------------------------------------------------



def rolling(deploy: dict) -> dict | None:
    strategy = deploy["spec"].get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    return strategy.get("rollingUpdate") or {"maxSurge": "25%", "maxUnavailable": "25%"}


def fenceposts(deploy: dict) -> tuple[int, int]:
    params = rolling(deploy) or {}
    desired = spec_replicas(deploy)
    surge = scaled_value(params.get("maxSurge"), desired, True)
    unavailable = scaled_value(params.get("maxUnavailable"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1   # a rollout must be able to make progress
    return surge, unavailable


def max_surge(deploy: dict) -> int:
    return fenceposts(deploy)[0] if rolling(deploy) is not None else 0


def max_unavailable(deploy: dict) -> int:
    desired = spec_replicas(deploy)
    if rolling(deploy) is None or desired == 0:
        return 0
    return min(fenceposts(deploy)[1], desired)


def new_rs_replicas(deploy: dict, all_rss: list[dict], new_rs: dict) -> int:
    """How big the new ReplicaSet may be now (kube's NewRSNewReplicas)."""
    desired = spec_replicas(deploy)
    if rolling(deploy) is None:
        return desired
    current = total(all_rss)
    allowed_total = desired + max_surge(deploy)
    if current >= allowed_total:
        return spec_replicas(new_rs)
    return spec_replicas(new_rs) + min(allowed_total - current, desired - spec_replicas(new_rs))


# --- annotations -----------------------------------------------------------------------------

def annotations(obj: dict) -> dict:
    return obj["metadata"].setdefault("annotations", {})


def set_replicas_annotations(rs: dict, desired: int, max_replicas: int) -> bool:
    notes = annotations(rs)
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(max_replicas))):
        if notes.get(key) != value:
            notes[key] = value
            changed = True
    return changed


def replicas_annotation(rs: dict, key: str) -> int | None:
    try:
        return int((rs["metadata"].get("annotations") or {})[key])
    except (KeyError, ValueError):
        return None


def set_new_rs_annotations(deploy: dict, rs: dict, new_revision: str, exists: bool) -> bool:
    """Carry the Deployment's annotations and the new revision onto its new ReplicaSet, keeping
    the revisions it had before in revision-history (kube's SetNewReplicaSetAnnotations)."""
    notes = annotations(rs)
    changed = False
    for key, value in (deploy["metadata"].get("annotations") or {}).items():
        if key not in NOT_COPIED and notes.get(key) != value:
            notes[key] = value
            changed = True
    old_revision = notes.get(REVISION, "")
    try:
        old = int(old_revision) if old_revision else 0
    except ValueError:
        return changed
    if old < int(new_revision):
        notes[REVISION] = new_revision
        changed = True
        if old_revision:
            history = notes.get(REVISION_HISTORY, "")
            previous = history.split(",") if history else []
            length = len(history) + len(old_revision) + 1
            start = 0
            while length > REVISION_HISTORY_LIMIT_CHARS and start < len(previous):
                length -= len(previous[start]) + 1
                start += 1
            if length <= REVISION_HISTORY_LIMIT_CHARS:
                notes[REVISION_HISTORY] = ",".join(previous[start:] + [old_revision])
    if not exists and set_replicas_annotations(rs, spec_replicas(deploy),
                                               spec_replicas(deploy) + max_surge(deploy)):
        changed = True
    return changed


# --- proportional scaling --------------------------------------------------------------------

def is_saturated(deploy: dict, rs: dict | None) -> bool:
    if rs is None:
        return False
    desired = spec_replicas(deploy)
    return (spec_replicas(rs) == desired and replicas_annotation(rs, DESIRED_REPLICAS) == desired
            and status_of(rs, "availableReplicas") == desired)


def active_or_latest(new_rs: dict | None, old_rss: list[dict]) -> dict | None:
    """The one ReplicaSet with replicas, or the newest when none has any; None when several do."""
    if new_rs is None and not old_rss:
        return None
    newest_first = list(reversed(by_creation(old_rss)))
    running = active(newest_first + [new_rs])
    if not running:
        return new_rs if new_rs is not None else newest_first[0]
    if len(running) == 1:
        return running[0]
    return None


def go_round(x: float) -> int:
    """math.Round: halves away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def proportion(rs: dict, deploy: dict, to_add: int, added: int) -> int:
    """The share of `to_add` replicas this ReplicaSet takes (kube's GetProportion)."""
    if spec_replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    desired = spec_replicas(deploy)
    if desired == 0:
        fraction = -spec_replicas(rs)
    else:
        annotated = replicas_annotation(rs, MAX_REPLICAS)
        if annotated is None:
            annotated = status_of(deploy, "replicas")
        size = spec_replicas(rs) * (desired + max_surge(deploy)) / annotated if annotated else 0
        fraction = go_round(size) - spec_replicas(rs)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def proportional_sizes(deploy: dict, rss: list[dict]) -> tuple[list[tuple[dict, int]], str]:
    """The new size of each active ReplicaSet when a rolling Deployment is scaled mid-rollout,
    and whether that is "up" or "down"."""
    rss = active(rss)
    desired = spec_replicas(deploy)
    allowed = desired + max_surge(deploy) if desired > 0 else 0
    to_add = allowed - total(rss)
    operation = ""
    if to_add > 0:
        # biggest first; among equals the newest
        rss.sort(key=lambda rs: created(rs), reverse=True)
        rss.sort(key=spec_replicas, reverse=True)
        operation = "up"
    elif to_add < 0:
        rss.sort(key=created)
        rss.sort(key=spec_replicas, reverse=True)
        operation = "down"
    sizes, added = [], 0
    for rs in rss:
        share = proportion(rs, deploy, to_add, added) if to_add else 0
        added += share
        sizes.append([rs, spec_replicas(rs) + share])
    if sizes and to_add:
        sizes[0][1] = max(sizes[0][1] + to_add - added, 0)   # leftovers go to the largest
    return [(rs, size) for rs, size in sizes], operation


# --- status and conditions -------------------------------------------------------------------

def condition(status: dict, kind: str) -> dict | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)


def new_condition(kind: str, status: str, reason: str, message: str, now: str) -> dict:
    return {"type": kind, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
            "reason": reason, "message": message}


def set_condition(status: dict, cond: dict) -> None:
    """kube's SetDeploymentCondition: the same status and reason leave the condition alone; the
    same status keeps its transition time."""
    current = condition(status, cond["type"])
    if current is not None and current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
        return
    if current is not None and current.get("status") == cond["status"]:
        cond = dict(cond, lastTransitionTime=current.get("lastTransitionTime"))
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def remove_condition(status: dict, kind: str) -> None:
    kept = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


def progress_deadline(deploy: dict) -> int | None:
    seconds = deploy["spec"].get("progressDeadlineSeconds")
    return None if seconds is None or seconds == MAX_INT32 else seconds


def calculate_status(deploy: dict, all_rss: list[dict], new_rs: dict | None, now: str,
                     with_terminating: bool) -> dict:
    available = total(all_rss, "availableReplicas")
    status = {"observedGeneration": deploy["metadata"].get("generation", 0),
              "replicas": total(all_rss, "replicas"),
              "updatedReplicas": total([new_rs], "replicas"),
              "readyReplicas": total(all_rss, "readyReplicas"),
              "availableReplicas": available,
              "unavailableReplicas": max(total(all_rss) - available, 0)}
    if with_terminating and all("terminatingReplicas" in (rs.get("status") or {}) for rs in all_rss if rs):
        status["terminatingReplicas"] = total(all_rss, "terminatingReplicas")
    old = deploy.get("status") or {}
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = copy.deepcopy(old["conditions"])
    if available >= spec_replicas(deploy) - max_unavailable(deploy):
        set_condition(status, new_condition("Available", "True", MIN_AVAILABLE,
                                            "Deployment has minimum availability.", now))
    else:
        set_condition(status, new_condition("Available", "False", MIN_UNAVAILABLE,
                                            "Deployment does not have minimum availability.", now))
    return status


def complete(deploy: dict, status: dict) -> bool:
    desired = spec_replicas(deploy)
    return (status.get("updatedReplicas", 0) == desired and status.get("replicas", 0) == desired
            and status.get("availableReplicas", 0) == desired
            and status.get("observedGeneration", 0) >= deploy["metadata"].get("generation", 0))


def progressing(deploy: dict, status: dict) -> bool:
    old = deploy.get("status") or {}
    old_olds = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_olds = status.get("replicas", 0) - status.get("updatedReplicas", 0)
    return (status.get("updatedReplicas", 0) > old.get("updatedReplicas", 0) or new_olds < old_olds
            or status.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or status.get("availableReplicas", 0) > old.get("availableReplicas", 0))


def seconds_left(deploy: dict, status: dict, now: dt.datetime) -> float | None:
    """Seconds until the progress deadline passes (<= 0: it has); None when none applies."""
    deadline = progress_deadline(deploy)
    cond = condition(status, "Progressing")
    if deadline is None or cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
        return None
    if cond.get("reason") == TIMED_OUT:
        return 0
    since = parse_rfc3339(cond["lastUpdateTime"])
    return (since + dt.timedelta(seconds=deadline) - now).total_seconds()


def timed_out(deploy: dict, status: dict, now: dt.datetime) -> bool:
    left = seconds_left(deploy, status, now)
    return left is not None and left < 0 or (condition(status, "Progressing") or {}).get("reason") == TIMED_OUT


def without_zeros(status: dict, keep: tuple = ()) -> dict:
    """Status as kube writes it: omitempty fields left out when zero or empty."""
    return {k: v for k, v in status.items() if v not in (0, None, [], {}) or (k in keep and v is not None)}


def without_zero_counts(status: dict, with_terminating: bool) -> dict:
    """A DeploymentStatus on the wire: collisionCount (and terminatingReplicas where served) are
    pointers, kept even at zero."""
    return without_zeros(status, ("collisionCount", "terminatingReplicas") if with_terminating
                         else ("collisionCount",))


def scaling_message(minor: int, operation: str, name: str, old: int, new: int) -> str:
    """ScalingReplicaSet's message as the served release words it."""
    if minor >= 31:
        return f"Scaled {operation} replica set {name} from {old} to {new}"
    if minor >= 26:
        return f"Scaled {operation} replica set {name} to {new} from {old}"
    return f"Scaled {operation} replica set {name} to {new}"
