"""ControllerRevision history, as the StatefulSet and DaemonSet controllers keep it.

A revision's `data` is the strategic-merge patch that restores the owner's pod template
(`{"spec":{"template":{..., "$patch":"replace"}}}`), written as Go writes a map: keys sorted, no
spaces, `<`, `>` and `&` escaped. kubectl's `rollout undo` sends those bytes back as the patch,
and compares them with the patch it makes from the live object to say when a rollback would
change nothing, so the template is written with the zero values Go always encodes
(`creationTimestamp: null`, a container's `resources: {}`) that a stored object may leave out.
Revisions are numbered from 1; the newest is the owner's update revision, and going back to an
older template renumbers that revision rather than copying it.
"""
from __future__ import annotations

import copy
import json

from .. import errors
from .pods import controller_ref, owner_reference

APPS = ("apps", "v1", "controllerrevisions")
# kube's rand.SafeEncodeString alphabet: no vowels, no look-alike digits.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# The longest owner name kept in a revision's name (kube's ControllerRevisionName).
NAME_PREFIX_MAX = 223


def safe_encode(text: str) -> str:
    return "".join(SAFE_ALPHABET[ord(ch) % len(SAFE_ALPHABET)] for ch in text)


def fnv32(data: bytes, alternate: bool = False) -> int:
    """FNV-1 (or FNV-1a when `alternate`), 32 bits."""
    value = 0x811C9DC5
    for byte in data:
        if alternate:
            value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
        else:
            value = ((value * 0x01000193) & 0xFFFFFFFF) ^ byte
    return value


def go_json(value) -> bytes:
    """JSON as Go's encoding/json writes a map: sorted keys, compact, HTML characters escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def _with_go_zero_fields(template: dict) -> dict:
    template = copy.deepcopy(template)
    template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    spec = template.setdefault("spec", {})
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or []:
            container.setdefault("resources", {})
    return template


def template_patch(owner: dict) -> dict:
    """The revision data restoring `owner`'s pod template."""
    template = _with_go_zero_fields(owner["spec"].get("template") or {})
    template["$patch"] = "replace"
    # Stored with its keys in the order Go writes them, so the bytes clients read are Go's.
    return json.loads(go_json({"spec": {"template": template}}))


def template_of(revision: dict) -> dict:
    """The pod template a revision restores."""
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def revision_name(owner_name: str, hash_: str) -> str:
    return f"{owner_name[:NAME_PREFIX_MAX]}-{hash_}"


def revision_hash(data: dict, collision_count: int | None) -> str:
    """kube's HashControllerRevision: FNV-1 over the data and the collision count, safe-encoded."""
    raw = go_json(data)
    if collision_count is not None:
        raw += str(collision_count).encode()
    return safe_encode(str(fnv32(raw)))


def template_hash(template: dict, collision_count: int | None) -> str:
    """The hash a DaemonSet's pods and revisions are labelled with (kube's ComputeHash: FNV-1a of
    the template and the collision count)."""
    raw = go_json(template)
    if collision_count is not None:
        raw += str(collision_count).encode()
    return safe_encode(str(fnv32(raw, alternate=True)))


def same_data(left: dict, right: dict) -> bool:
    return go_json(left.get("data")) == go_json(right.get("data"))


def sort_revisions(revisions: list[dict]) -> list[dict]:
    return sorted(revisions, key=lambda r: (r.get("revision") or 0, r["metadata"].get("creationTimestamp") or "",
                                            r["metadata"]["name"]))


def next_revision(revisions: list[dict]) -> int:
    return max((r.get("revision") or 0 for r in revisions), default=0) + 1


class History:
    """The revisions of one kind of owner, read from the shared cache, written through the pipeline."""

    def __init__(self, api, cache, owner_kind: str, hash_label: str):
        """`cache` is the controllerrevisions informer."""
        self.api = api
        self.cache = cache
        self.owner_kind = owner_kind
        self.hash_label = hash_label
        self.info = api.registry.get(*APPS)

    def owned(self, owner: dict) -> list[dict]:
        """The owner's revisions, oldest first."""
        uid = owner["metadata"]["uid"]
        return sort_revisions([r for r in self.cache.list(owner["metadata"]["namespace"])
                               if (controller_ref(r) or {}).get("uid") == uid])

    def new_revision(self, owner: dict, revision: int, hash_: str, data: dict) -> dict:
        meta = owner["metadata"]
        labels = dict((owner["spec"].get("template") or {}).get("metadata", {}).get("labels") or {})
        labels[self.hash_label] = hash_
        rev_meta = {"name": revision_name(meta["name"], hash_), "namespace": meta["namespace"], "labels": labels,
                    "ownerReferences": [owner_reference(owner, "apps/v1", self.owner_kind)]}
        if meta.get("annotations"):
            rev_meta["annotations"] = dict(meta["annotations"])
        return {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": rev_meta,
                "data": data, "revision": revision}

    async def create(self, revision: dict) -> dict | None:
        """Create `revision`; an existing one of that name is returned when it holds the same data,
        None when it does not (a hash collision: the caller bumps its collisionCount)."""
        namespace = revision["metadata"]["namespace"]
        try:
            return await self.api.create(self.info, namespace, revision)
        except errors.StatusError as e:
            if e.code != 409:
                raise
        existing = self.api.get(self.info, namespace, revision["metadata"]["name"])
        return existing if same_data(existing, revision) else None

    async def renumber(self, revision: dict, number: int) -> dict:
        def mutate(current):
            current["revision"] = number
            return current
        meta = revision["metadata"]
        return await self.api.guaranteed_update(self.info, meta["namespace"], meta["name"], mutate)

    async def truncate(self, owner: dict, revisions: list[dict], live: set[str]) -> None:
        """Delete the oldest revisions no live pod or status names, beyond revisionHistoryLimit."""
        limit = owner["spec"].get("revisionHistoryLimit")
        limit = 10 if limit is None else limit
        spare = [r for r in sort_revisions(revisions) if r["metadata"]["name"] not in live]
        for revision in spare[:max(len(spare) - limit, 0)]:
            try:
                await self.api.delete(self.info, revision["metadata"]["namespace"], revision["metadata"]["name"])
            except errors.StatusError as e:
                if e.code != 404:
                    raise
