"""MutatingAdmissionWebhook and ValidatingAdmissionWebhook, as kube-apiserver runs them.

Mutating webhooks are called one after another (configurations by name); a JSONPatch they answer
is applied to the object, which is then decoded and defaulted again, as kube does. A webhook with
reinvocationPolicy IfNeeded is called once more when a webhook after it changed the object.
Validating webhooks are called all at once; the first refusal is the answer.
"""
from __future__ import annotations

import asyncio
import base64
import copy

import jsonpatch
import orjson

from ..chain import Attributes, MutatingPlugin, ValidatingPlugin
from ..mutation import adopt, run_steps
from ..status import StatusError
from .dispatch import Webhooks


class _WebhookPlugin:
    def __init__(self, webhooks: Webhooks):
        self.webhooks = webhooks

    async def close(self) -> None:
        """Closes the HTTPS connections kept to webhooks (when the server stops)."""
        await self.webhooks.client.close()


class MutatingAdmissionWebhook(_WebhookPlugin, MutatingPlugin):
    name = "MutatingAdmissionWebhook"

    async def admit(self, attrs: Attributes) -> None:
        hooks = await self.webhooks.matching(attrs)
        await run_steps(attrs, hooks, lambda webhook: self._call(webhook, attrs),
                        lambda webhook: webhook.get("reinvocationPolicy") == "IfNeeded")

    async def _call(self, webhook: dict, attrs: Attributes) -> None:
        answer = await self.webhooks.call(webhook, attrs)
        if not answer or not answer.get("patch") or attrs.object is None:
            return
        name = str(webhook.get("name") or "")
        if answer.get("patchType") != "JSONPatch":
            raise _invalid_answer(name, f"expected patchType JSONPatch, got {answer.get('patchType')!r}")
        try:
            operations = orjson.loads(base64.b64decode(answer["patch"]))
            patched = jsonpatch.JsonPatch(operations).apply(copy.deepcopy(attrs.object))
        except (ValueError, TypeError, KeyError, jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
            raise _invalid_answer(name, f"failed to apply patch: {e}") from None
        if not isinstance(patched, dict):
            raise _invalid_answer(name, "the patched object is not an object")
        adopt(attrs, patched)


def _invalid_answer(name: str, why: str) -> StatusError:
    message = f'failed calling webhook "{name}": received invalid webhook response: {why}'
    return StatusError(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


class ValidatingAdmissionWebhook(_WebhookPlugin, ValidatingPlugin):
    name = "ValidatingAdmissionWebhook"

    async def validate(self, attrs: Attributes) -> None:
        hooks = await self.webhooks.matching(attrs)
        if not hooks:
            return
        results = await asyncio.gather(*(self.webhooks.call(w, attrs) for w in hooks), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result


__all__ = ["MutatingAdmissionWebhook", "ValidatingAdmissionWebhook"]
