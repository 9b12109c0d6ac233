"""The rollout arithmetic and the scale-down ranking on their own, against kube's documented
behaviour: hash format, fencepost rounding, revision history, proportional scaling, conditions,
and which pods go first."""
from __future__ import annotations

import datetime as dt
import re

from vapi.controllers import deployment_util as du
from vapi.controllers.podranking import pods_to_delete

NOW = dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)


def deployment(replicas=10, surge="25%", unavailable="25%", kind="RollingUpdate", **status):
    strategy = {"type": kind}
    if kind == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "web", "generation": 1, "annotations": {}},
            "spec": {"replicas": replicas, "strategy": strategy, "template": {"metadata": {"labels": {"a": "b"}}}},
            "status": status}


def rs(name, replicas, created="2026-01-01T00:00:00Z", **notes):
    return {"metadata": {"name": name, "creationTimestamp": created, "annotations": dict(notes)},
            "spec": {"replicas": replicas}, "status": {}}


def test_template_hash_is_kubes_safe_encoding_of_a_32_bit_number():
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    value = du.template_hash(template, None)
    assert re.fullmatch(r"[4-9bcdf]{1,10}", value)         # the digits 0-9 in kube's safe alphabet
    assert du.template_hash(template, None) == value
    assert du.template_hash(template, 1) != value           # a collision count hashes elsewhere
    with_null = {"metadata": {"labels": {"app": "web"}, "creationTimestamp": None}, "spec": template["spec"]}
    assert du.template_hash(with_null, None) == value        # kubectl's `creationTimestamp: null`
    assert du.safe_encode("0123456789") == "456789bcdf"


def test_fenceposts_round_surge_up_and_unavailability_down():
    assert du.fenceposts(deployment(10)) == (3, 2)
    assert du.fenceposts(deployment(3)) == (1, 0)
    assert du.fenceposts(deployment(4, surge=0, unavailable=0)) == (0, 1)   # progress must be possible
    assert du.max_unavailable(deployment(2, surge=1, unavailable=5)) == 2
    assert du.max_surge(deployment(10, kind="Recreate")) == 0
    assert du.max_unavailable(deployment(0)) == 0


def test_new_replica_set_grows_only_within_the_surge():
    d = deployment(4, surge=1, unavailable=1)
    old, new = rs("old", 4), rs("new", 0)
    assert du.new_rs_replicas(d, [old, new], new) == 1
    old["spec"]["replicas"] = 3
    new["spec"]["replicas"] = 1
    assert du.new_rs_replicas(d, [old, new], new) == 2
    assert du.new_rs_replicas(deployment(4, kind="Recreate"), [old, new], new) == 4


def test_revision_history_keeps_the_revisions_a_replica_set_had():
    d = deployment(3)
    d["metadata"]["annotations"] = {"team": "x", du.REVISION: "9", du.LAST_APPLIED: "{}"}
    target = rs("web-1", 3, **{du.REVISION: "1"})
    assert du.set_new_rs_annotations(d, target, "3", exists=True)
    notes = target["metadata"]["annotations"]
    assert notes[du.REVISION] == "3" and notes[du.REVISION_HISTORY] == "1" and notes["team"] == "x"
    assert du.LAST_APPLIED not in notes
    du.set_new_rs_annotations(d, target, "5", exists=True)
    assert notes[du.REVISION_HISTORY] == "1,3"
    fresh = rs("web-2", 0)
    du.set_new_rs_annotations(d, fresh, "6", exists=False)
    assert fresh["metadata"]["annotations"][du.DESIRED_REPLICAS] == "3"
    assert fresh["metadata"]["annotations"][du.MAX_REPLICAS] == "4"


def test_proportional_scaling_spreads_new_replicas_by_size():
    d = deployment(12, surge=3, unavailable=2)
    old = rs("old", 7, "2026-01-01T00:00:00Z", **{du.MAX_REPLICAS: "13"})
    new = rs("new", 6, "2026-01-01T00:01:00Z", **{du.MAX_REPLICAS: "13"})
    sizes, operation = du.proportional_sizes(d, [old, new])
    assert operation == "up"
    assert {r["metadata"]["name"]: size for r, size in sizes} == {"old": 8, "new": 7}
    d = deployment(4, surge=1, unavailable=1)
    old = rs("old", 4, "2026-01-01T00:00:00Z", **{du.MAX_REPLICAS: "11"})
    new = rs("new", 6, "2026-01-01T00:01:00Z", **{du.MAX_REPLICAS: "11"})
    sizes, operation = du.proportional_sizes(d, [old, new])
    assert operation == "down"
    assert sum(size for _, size in sizes) == 5
    assert {r["metadata"]["name"]: size for r, size in sizes} == {"old": 2, "new": 3}


def test_active_or_latest_and_saturation():
    older, newer = rs("a", 0, "2026-01-01T00:00:00Z"), rs("b", 0, "2026-01-01T00:01:00Z")
    assert du.active_or_latest(None, [older, newer]) is newer
    newer["spec"]["replicas"] = 2
    assert du.active_or_latest(None, [older, newer]) is newer
    older["spec"]["replicas"] = 1
    assert du.active_or_latest(None, [older, newer]) is None
    d = deployment(2)
    full = rs("c", 2, **{du.DESIRED_REPLICAS: "2"})
    full["status"]["availableReplicas"] = 2
    assert du.is_saturated(d, full)
    full["status"]["availableReplicas"] = 1
    assert not du.is_saturated(d, full)


def test_conditions_keep_their_transition_time_while_the_status_holds():
    status = {}
    du.set_condition(status, du.new_condition("Progressing", "True", du.NEW_RS_CREATED, "m", "t1"))
    du.set_condition(status, du.new_condition("Progressing", "True", du.RS_UPDATED, "m2", "t2"))
    cond = du.condition(status, "Progressing")
    assert (cond["reason"], cond["lastTransitionTime"], cond["lastUpdateTime"]) == (du.RS_UPDATED, "t1", "t2")
    du.set_condition(status, du.new_condition("Progressing", "True", du.RS_UPDATED, "m3", "t3"))
    assert du.condition(status, "Progressing")["message"] == "m2"     # same status and reason: untouched
    du.set_condition(status, du.new_condition("Progressing", "False", du.TIMED_OUT, "m4", "t4"))
    assert du.condition(status, "Progressing")["lastTransitionTime"] == "t4"


def test_progress_deadline_is_measured_from_the_last_progress():
    d = deployment(1)
    d["spec"]["progressDeadlineSeconds"] = 10
    status = {"conditions": [du.new_condition("Progressing", "True", du.RS_UPDATED, "m", "2026-01-01T11:59:55Z")]}
    assert not du.timed_out(d, status, NOW)
    assert du.seconds_left(d, status, NOW) == 5
    assert du.timed_out(d, status, NOW + dt.timedelta(seconds=6))
    d["spec"]["progressDeadlineSeconds"] = du.MAX_INT32
    assert not du.timed_out(d, status, NOW + dt.timedelta(days=1))


def test_scaling_event_wording_follows_the_served_release():
    assert du.scaling_message(33, "up", "web-1", 0, 3) == "Scaled up replica set web-1 from 0 to 3"
    assert du.scaling_message(28, "down", "web-1", 3, 2) == "Scaled down replica set web-1 to 2 from 3"
    assert du.scaling_message(25, "down", "web-1", 3, 2) == "Scaled down replica set web-1 to 2"


def pod(name, node="", phase="Running", ready=True, cost=None, restarts=0, created="2026-01-01T11:00:00Z",
        ready_at="2026-01-01T11:00:00Z"):
    conditions = [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": ready_at}]
    notes = {"controller.kubernetes.io/pod-deletion-cost": str(cost)} if cost is not None else {}
    return {"metadata": {"name": name, "uid": name, "creationTimestamp": created, "annotations": notes},
            "spec": {"nodeName": node},
            "status": {"phase": phase, "conditions": conditions,
                       "containerStatuses": [{"name": "c", "restartCount": restarts}]}}


def names(pods):
    return [p["metadata"]["name"] for p in pods]


def test_scale_down_removes_the_least_useful_pods_first():
    base = pod("running", node="n1")
    cases = [
        (pod("unassigned", node=""), base),
        (pod("pending", node="n1", phase="Pending"), base),
        (pod("unready", node="n1", ready=False), base),
        (pod("cheap", node="n1", cost=-5), base),
        (pod("restarts", node="n1", restarts=3), base),
        (pod("newer", node="n1", created="2026-01-01T11:59:00Z", ready_at="2026-01-01T11:59:00Z"), base),
    ]
    for first, other in cases:
        assert names(pods_to_delete([other, first], [other, first], 1, NOW)) == [first["metadata"]["name"]]
    doubled = pod("doubled", node="n2")
    alone = pod("alone", node="n3")
    sibling = pod("sibling", node="n2")
    assert names(pods_to_delete([alone, doubled], [alone, doubled, sibling], 1, NOW)) == ["doubled"]
    assert names(pods_to_delete([alone, doubled], [], 5, NOW)) == ["alone", "doubled"]
