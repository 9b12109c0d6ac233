"""PodDisruptionBudgets to the host (opt-in), their selector narrowed to this virtual namespace's
pods there. The virtual cluster's own disruption controller keeps the virtual status."""
from __future__ import annotations

import copy

from ..host import HostResource
from ..syncer import Translator
from .common import narrowed


class PodDisruptionBudgets(Translator):
    kind = "PodDisruptionBudget"
    key = "podDisruptionBudgets"
    virtual = ("policy", "v1", "poddisruptionbudgets")
    host = HostResource("policy", "v1", "poddisruptionbudgets")

    async def fields(self, pdb: dict, host: dict | None) -> dict:
        spec = copy.deepcopy(pdb.get("spec") or {})
        if spec.get("selector") is not None:
            spec["selector"] = narrowed(spec["selector"], self.ctx.vc, pdb["metadata"]["namespace"])
        return {"spec": spec}
