"""The scheduling framework's shapes: a plugin's verdict on a node, the plugin interface, and the
message kube-scheduler builds when no node fits (FitError)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

MAX_SCORE = 100
NO_NODES = "0/{} nodes are available:"
NOT_HELPFUL = "Preemption is not helpful for scheduling"


@dataclass(frozen=True)
class Status:
    """A filter's refusal: its reasons, and whether evicting pods could change it (kube's
    Unschedulable) or not (UnschedulableAndUnresolvable)."""
    reasons: tuple[str, ...]
    resolvable: bool = True
    plugin: str = ""


def refuse(*reasons: str) -> Status:
    return Status(tuple(reasons))


def unresolvable(*reasons: str) -> Status:
    return Status(tuple(reasons), resolvable=False)


class Plugin:
    """Extension points a plugin may implement: `prefilter` computes per-cycle state from the
    whole snapshot, `filter` judges one node, `score` rates a node the pod fits, `normalize`
    brings the scores to 0..MAX_SCORE. `weight` is the default profile's."""
    name = ""
    weight = 0
    filters = False
    scores = False

    def prefilter(self, pod: dict, snapshot) -> object:
        return None

    def filter(self, state, pod: dict, node) -> Status | None:
        return None

    def score(self, state, pod: dict, node) -> int:
        return 0

    def normalize(self, scores: dict[str, int]) -> None:
        pass


def default_normalize(scores: dict[str, int], reverse: bool = False) -> None:
    """kube's DefaultNormalizeScore: scale so the highest is MAX_SCORE (optionally reversed)."""
    top = max(scores.values(), default=0)
    if top == 0:
        if reverse:
            for name in scores:
                scores[name] = MAX_SCORE
        return
    for name, value in scores.items():
        value = MAX_SCORE * value // top
        scores[name] = MAX_SCORE - value if reverse else value


def fit_message(total: int, statuses: dict[str, Status], postfilter: str = "") -> str:
    """`0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match ... .` with the
    reasons counted over nodes, sorted as strings, and the preemption verdict after."""
    counts = Counter(reason for status in statuses.values() for reason in status.reasons)
    message = NO_NODES.format(total)
    histogram = sorted(f"{n} {reason}" for reason, n in counts.items())
    if histogram:
        message += f" {', '.join(histogram)}."
    if postfilter:
        message += f" {postfilter}."
    return message
