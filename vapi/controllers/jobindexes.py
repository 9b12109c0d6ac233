"""Completion indexes of Indexed Jobs, and how kube writes sets of them: ascending, comma
separated, runs of consecutive indexes compressed to ranges ("0-2,4"), as in
`status.completedIndexes`, `status.failedIndexes` and a success policy's `succeededIndexes`.
"""
from __future__ import annotations

COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"


def parse_indexes(text: str | None, limit: int | None = None) -> set[int]:
    """The indexes a set string names (those below `limit` when given); unreadable parts are
    skipped, as the controller skips them."""
    found: set[int] = set()
    for part in filter(None, (text or "").split(",")):
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            continue
        if limit is not None:
            last = min(last, limit - 1)
        found.update(range(first, last + 1))
    return found


def format_indexes(indexes) -> str:
    runs: list[list[int]] = []
    for index in sorted(set(indexes)):
        if runs and runs[-1][1] == index - 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def completion_index(pod: dict) -> int | None:
    """The pod's completion index from its annotation, or None when it has none or a bad one."""
    text = (pod["metadata"].get("annotations") or {}).get(COMPLETION_INDEX)
    if text is None or not text.isdigit():
        return None
    return int(text)


def first_pending(count: int, completions: int, taken: set[int]) -> list[int]:
    """The `count` lowest indexes below `completions` not in `taken` (succeeded or running)."""
    pending = []
    for index in range(completions):
        if len(pending) >= count:
            break
        if index not in taken:
            pending.append(index)
    return pending
