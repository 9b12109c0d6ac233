"""The pure parts of the Job controller: index sets as kube writes them, the pod failure and
success policies, and the delay before a failed pod is replaced."""
import datetime as dt

from vapi.controllers.jobindexes import first_pending, format_indexes, parse_indexes
from vapi.controllers.jobpolicy import Backoff, match_pod_failure_policy, match_success_policy

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def test_index_sets_compress_to_ranges():
    assert format_indexes({0, 1, 2, 4, 7, 8}) == "0-2,4,7-8"
    assert format_indexes(set()) == ""
    assert parse_indexes("0-2,4,7-8") == {0, 1, 2, 4, 7, 8}
    assert parse_indexes("0-9", limit=3) == {0, 1, 2}
    assert first_pending(2, 5, {0, 2}) == [1, 3]


def failed_pod(code, conditions=()):
    return {"metadata": {"name": "p", "namespace": "ns"},
            "status": {"phase": "Failed", "conditions": [{"type": t, "status": "True"} for t in conditions],
                       "containerStatuses": [{"name": "main", "state": {"terminated": {"exitCode": code}}}]}}


def test_pod_failure_policy_rules_in_order():
    policy = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
                        {"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [1, 2]}},
                        {"action": "Count", "onExitCodes": {"operator": "In", "values": [1]}}]}
    assert match_pod_failure_policy(policy, failed_pod(5, ["DisruptionTarget"])) == (None, False, "Ignore")
    assert match_pod_failure_policy(policy, failed_pod(5)) == (
        "Container main for pod ns/p failed with exit code 5 matching FailJob rule at index 1", True, "FailJob")
    assert match_pod_failure_policy(policy, failed_pod(1)) == (None, True, "Count")
    assert match_pod_failure_policy(policy, failed_pod(2)) == (None, True, None)
    assert match_pod_failure_policy(None, failed_pod(2)) == (None, True, None)


def test_success_policy():
    rules = {"rules": [{"succeededIndexes": "0-2"}, {"succeededIndexes": "3-9", "succeededCount": 2}]}
    assert match_success_policy(rules, 10, {0, 1}) is None
    assert match_success_policy(rules, 10, {0, 1, 2}) == "Matched rules at index 0"
    assert match_success_policy(rules, 10, {4, 9}) == "Matched rules at index 1"
    assert match_success_policy({"rules": [{"succeededCount": 1}]}, 3, {2}) == "Matched rules at index 0"


def test_backoff_doubles_from_the_base_and_resets_on_success():
    b = Backoff()
    pod = {"metadata": {}, "status": {"containerStatuses": [{"state": {"terminated": {"finishedAt": "2026-01-01T00:00:00Z"}}}]}}
    b.record([], [pod], NOW)
    assert b.remaining(NOW, base=10) == 10
    b.record([], [pod, pod], NOW)
    assert b.remaining(NOW + dt.timedelta(seconds=5), base=10) == 35
    assert b.remaining(NOW, base=1000) == 600         # capped
    b.record([pod], [], NOW)
    assert b.remaining(NOW, base=10) == 0
