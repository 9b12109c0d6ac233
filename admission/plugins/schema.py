"""The kind's own defaulting and validation, as steps of the chain.

kube defaults while decoding, before any plugin runs, and validates in the registry strategy
between the mutating and the validating plugins; placing these two steps first in their phases
keeps that order while letting the chain show every step a write goes through.
"""
from __future__ import annotations

import asyncio

from .. import validation
from ..chain import CREATE, UPDATE, Attributes, MutatingPlugin, ValidatingPlugin
from ..status import StatusError


class Defaulting(MutatingPlugin):
    name = "Defaulting"
    operations = frozenset((CREATE, UPDATE))

    async def admit(self, attrs: Attributes) -> None:
        attrs.behaviour.default(attrs.object)


class SchemaValidation(ValidatingPlugin):
    name = "SchemaValidation"
    operations = frozenset((CREATE, UPDATE))

    async def validate(self, attrs: Attributes) -> None:
        check = attrs.behaviour.validate
        args = (attrs.object, attrs.old_object, attrs.subresource or None)
        # Long validations (CEL over big lists) run beside the event loop, so other requests go on.
        causes = await asyncio.to_thread(check, *args) if attrs.behaviour.validates_off_loop else check(*args)
        if causes:
            name = attrs.object.get("metadata", {}).get("name", "")
            raise StatusError(422, "Invalid",
                                 validation.invalid_message(attrs.kind, name, causes, group=attrs.group),
                                 {"group": attrs.group, "kind": attrs.kind, "name": name, "causes": causes})
