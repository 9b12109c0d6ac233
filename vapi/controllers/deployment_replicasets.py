"""A Deployment's ReplicaSets: finding the one that runs the current template (creating it, named
by the template's hash, when there is none), keeping revision annotations in step, and scaling
one with the ScalingReplicaSet event. Mixed into the deployment controller.
"""
from __future__ import annotations

import copy

from .. import errors
from . import deployment_util as du
from .pods import controller_ref, owner_reference
from .replicaset import served_minor

RS = ("apps", "v1", "replicasets")


class ReplicaSets:
    async def all_replicasets(self, d: dict, rss: list[dict], create: bool) -> tuple[dict | None, list[dict]]:
        """(the new ReplicaSet or None, the old ones), with revisions synced onto both sides."""
        template = d["spec"].get("template")
        existing = next((rs for rs in du.by_creation(rss)
                         if du.equal_ignore_hash(rs["spec"].get("template"), template)), None)
        old = [rs for rs in rss if rs is not existing]
        new = await self.new_replicaset(d, old, existing, create)
        if existing is not None and new is not existing:
            # Later steps of this sync read the ReplicaSet as just written, not as cached.
            rss[next(i for i, rs in enumerate(rss) if rs is existing)] = new
        return new, old

    async def new_replicaset(self, d: dict, old: list[dict], existing: dict | None, create: bool) -> dict | None:
        revision = str(max((du.revision_of(rs) for rs in old), default=0) + 1)
        deadline = du.progress_deadline(d)
        status = d.setdefault("status", {})
        if existing is not None:
            rs = copy.deepcopy(existing)
            changed = du.set_new_rs_annotations(d, rs, revision, exists=True)
            min_ready = d["spec"].get("minReadySeconds") or 0
            if (rs["spec"].get("minReadySeconds") or 0) != min_ready:
                rs["spec"]["minReadySeconds"] = min_ready
                changed = True
            if changed:
                rs = await self.write_replicaset(rs)
            needs = self.set_revision(d, du.annotations(rs).get(du.REVISION, ""))
            if deadline is not None and du.condition(status, "Progressing") is None:
                du.set_condition(status, du.new_condition(
                    "Progressing", "True", du.FOUND_NEW_RS, f'Found new replica set "{rs["metadata"]["name"]}"',
                    self.stamp()))
                needs = True
            if needs:
                await self.write_deployment_status(d)
            return rs
        if not create:
            return None
        rs = self.replicaset_for(d, old)
        du.set_new_rs_annotations(d, rs, revision, exists=False)
        name, namespace = rs["metadata"]["name"], d["metadata"]["namespace"]
        already = False
        try:
            made = await self.api.create(self.resource(*RS), namespace, rs)
        except errors.StatusError as e:
            if e.code != 409:
                message = f'Failed to create new replica set "{name}": {e.message}'
                if deadline is not None:
                    du.set_condition(status, du.new_condition("Progressing", "False", du.FAILED_RS_CREATE,
                                                              message, self.stamp()))
                self.recorder.event(d, "Warning", du.FAILED_RS_CREATE, message)
                await self.write_deployment_status(d)
                raise
            made = self.api.lookup(self.resource(*RS), namespace, name)
            ours = made is not None and (controller_ref(made) or {}).get("uid") == d["metadata"]["uid"]
            if not ours or not du.equal_ignore_hash(made["spec"].get("template"), d["spec"].get("template")):
                # Another object holds the name this template hashes to: hash again, counted apart.
                status["collisionCount"] = (status.get("collisionCount") or 0) + 1
                await self.write_deployment_status(d)
                raise
            already = True
        if not already and du.spec_replicas(made) > 0:
            minor = self.served_minor()
            message = (f"Scaled up replica set {name} from 0 to {du.spec_replicas(made)}" if minor >= 31
                       else f"Scaled up replica set {name} to {du.spec_replicas(made)}")
            self.recorder.event(d, "Normal", "ScalingReplicaSet", message)
        needs = self.set_revision(d, revision)
        if not already and deadline is not None:
            du.set_condition(status, du.new_condition("Progressing", "True", du.NEW_RS_CREATED,
                                                      f'Created new replica set "{name}"', self.stamp()))
            needs = True
        if needs:
            await self.write_deployment_status(d)
        return made

    def replicaset_for(self, d: dict, old: list[dict]) -> dict:
        """The ReplicaSet of the Deployment's current template, sized as the strategy allows now."""
        template = copy.deepcopy(d["spec"]["template"])
        hashed = du.template_hash(d["spec"]["template"], (d.get("status") or {}).get("collisionCount"))
        template.setdefault("metadata", {}).setdefault("labels", {})[du.HASH_LABEL] = hashed
        selector = copy.deepcopy(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[du.HASH_LABEL] = hashed
        spec = {"replicas": 0, "selector": selector, "template": template}
        if d["spec"].get("minReadySeconds"):
            spec["minReadySeconds"] = d["spec"]["minReadySeconds"]
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": f"{d['metadata']['name']}-{hashed}", "namespace": d["metadata"]["namespace"],
                           "labels": dict(template["metadata"]["labels"]),
                           "ownerReferences": [owner_reference(d, "apps/v1", "Deployment")]},
              "spec": spec}
        spec["replicas"] = du.new_rs_replicas(d, old + [rs], rs)
        return rs

    def set_revision(self, d: dict, revision: str) -> bool:
        notes = du.annotations(d)
        if notes.get(du.REVISION) == revision:
            return False
        notes[du.REVISION] = revision
        return True

    def served_minor(self) -> int:
        return served_minor(self.api)

    async def write_replicaset(self, rs: dict) -> dict:
        meta = rs["metadata"]
        return await self.api.update(self.resource(*RS), meta["namespace"], meta["name"], rs)

    async def scale_rs(self, rs: dict, size: int, d: dict, operation: str | None = None) -> tuple[bool, dict]:
        """Set a ReplicaSet's size and its desired/max annotations; (whether the size changed, the
        ReplicaSet as written)."""
        if operation is None:
            if du.spec_replicas(rs) == size:
                return False, rs
            operation = "up" if du.spec_replicas(rs) < size else "down"
        copied = copy.deepcopy(rs)
        desired = du.spec_replicas(d)
        annotated = du.set_replicas_annotations(copied, desired, desired + du.max_surge(d))
        resized = du.spec_replicas(rs) != size
        if not resized and not annotated:
            return False, rs
        copied["spec"]["replicas"] = size
        written = await self.write_replicaset(copied)
        if resized:
            self.recorder.event(d, "Normal", "ScalingReplicaSet", du.scaling_message(
                self.served_minor(), operation, rs["metadata"]["name"], du.spec_replicas(rs), size))
        return resized, written

    async def scale_and_record(self, rs: dict, size: int, d: dict) -> bool:
        return (await self.scale_rs(rs, size, d))[0]

    async def scaled(self, rs: dict, size: int, d: dict) -> dict:
        return (await self.scale_rs(rs, size, d))[1]

    async def scale_replicaset(self, rs: dict, size: int, d: dict, operation: str) -> None:
        await self.scale_rs(rs, size, d, operation)
