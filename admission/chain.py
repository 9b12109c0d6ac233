"""The admission chain, run as kube-apiserver runs it.

Every write is described once as `Attributes` (who, what operation, which kind and resource, the
object and the object it replaces) and handed to the plugins: all mutating plugins first, in
order, then all validating ones. A plugin refuses a request by raising a `StatusError`, which the
server answers as it is. Plugins see the kind's behaviour through `Attributes.behaviour` (its
strategy: `default`, `validate`), so this layer needs nothing from the server above it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .status import StatusError

CREATE, UPDATE, DELETE, CONNECT = "CREATE", "UPDATE", "DELETE", "CONNECT"


@dataclass(slots=True)
class Attributes:
    operation: str
    group: str
    version: str
    kind: str
    resource: str
    subresource: str
    # "" for cluster-scoped resources.
    namespace: str
    # "" while a create has only a generateName.
    name: str
    object: dict | None
    old_object: dict | None
    user: object
    dry_run: bool
    behaviour: object
    # What plugins tell the client (`Warning` headers) and the audit log (annotations on the event).
    warnings: list[str] = field(default_factory=list)
    audit_annotations: dict[str, str] = field(default_factory=dict)

    @property
    def group_resource(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def forbidden(self, why: str) -> StatusError:
        """kube's admission.NewForbidden: the resource and name, then the plugin's reason."""
        what = f'{self.group_resource} "{self.name}"' if self.name else self.group_resource
        details = {"name": self.name} if self.name else {}
        if self.group:
            details["group"] = self.group
        details["kind"] = self.resource
        return StatusError(403, "Forbidden", f"{what} is forbidden: {why}", details)


class Plugin:
    """One admission plugin. `operations` are the ones it handles (kube's admission.Handler)."""

    name = ""
    operations: frozenset[str] = frozenset((CREATE, UPDATE, DELETE, CONNECT))


class MutatingPlugin(Plugin):
    async def admit(self, attrs: Attributes) -> None:
        raise NotImplementedError


class ValidatingPlugin(Plugin):
    async def validate(self, attrs: Attributes) -> None:
        raise NotImplementedError


class Chain:
    """The plugins in kube's order; each phase keeps only the plugins that take part in it."""

    def __init__(self, plugins: list[Plugin]):
        self.plugins = list(plugins)
        self._mutating = {op: [p for p in plugins if isinstance(p, MutatingPlugin) and op in p.operations]
                          for op in (CREATE, UPDATE, DELETE, CONNECT)}
        self._validating = {op: [p for p in plugins if isinstance(p, ValidatingPlugin) and op in p.operations]
                            for op in (CREATE, UPDATE, DELETE, CONNECT)}

    def names(self) -> list[str]:
        return [p.name for p in self.plugins]

    async def admit(self, attrs: Attributes) -> None:
        for plugin in self._mutating[attrs.operation]:
            await plugin.admit(attrs)

    async def validate(self, attrs: Attributes) -> None:
        for plugin in self._validating[attrs.operation]:
            await plugin.validate(attrs)
