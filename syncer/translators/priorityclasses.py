"""PriorityClasses to the host (opt-in; cluster-scoped, so named `NAME-x-VC` and owned by no
anchor). kube's own `system-` classes exist on every host and are used as they are. The host copy
is never the host's global default. A class's value and preemption policy cannot change: a host
copy that differs (the virtual class was made again) is deleted and made anew."""
from __future__ import annotations

from ..host import HostResource
from ..syncer import Translator

FIXED = ("value", "preemptionPolicy")


class PriorityClasses(Translator):
    kind = "PriorityClass"
    key = "priorityClasses"
    virtual = ("scheduling.k8s.io", "v1", "priorityclasses")
    host = HostResource("scheduling.k8s.io", "v1", "priorityclasses", namespaced=False)

    def selected(self, priority_class: dict) -> bool:
        return not priority_class["metadata"]["name"].startswith("system-")

    async def fields(self, priority_class: dict, host: dict | None) -> dict:
        fields = {key: priority_class[key] for key in (*FIXED, "description") if key in priority_class}
        if host is not None:
            fields.update({key: host[key] for key in FIXED if key in host})
            if "description" in host and "description" not in priority_class:
                fields["description"] = ""
        fields["globalDefault"] = False
        return fields

    async def back(self, priority_class: dict, host: dict) -> float | None:
        if any(priority_class.get(key) != host.get(key) for key in FIXED):
            await self.remove(host)   # its deletion brings the key back, to make it anew
        return None
