"""What both webhook plugins do before a call: pick the configurations' webhooks that are for this
request (rules, selectors, matchConditions) and refuse dry runs to webhooks with side effects; and
what they do with an answer: pass warnings and audit annotations on, or refuse as kube words it."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ..chain import Attributes
from ..policies.bindings import conditions_hold
from ..policies.expressions import cel_request
from ..status import StatusError
from .client import CallFailed, WebhookClient
from .matching import is_configuration, namespace_selected, object_selected, rules_match
from .request import admission_request

log = logging.getLogger("vapi.admission")

Configs = Callable[[], list[dict]]
Namespace = Callable[[str], Awaitable[dict | None]]
DRY_RUN_SAFE = ("None", "NoneOnDryRun")


def denied(webhook: str, result: dict | None) -> StatusError:
    """kube's webhookerrors.ToStatusErr: the webhook's own status, at least a 400, its message
    prefixed with who denied it."""
    result = result if isinstance(result, dict) else {}
    code = result.get("code") if isinstance(result.get("code"), int) else 0
    prefix = f'admission webhook "{webhook}" denied the request'
    if result.get("message"):
        message = f"{prefix}: {result['message']}"
    elif result.get("reason"):
        message = f"{prefix}: {result['reason']}"
    else:
        message = f"{prefix} without explanation"
    details = result.get("details") if isinstance(result.get("details"), dict) else None
    return StatusError(max(code, 400), str(result.get("reason") or ""), message, details)


class Webhooks:
    """The calls one plugin makes: `configs()` lists its configurations (from an informer cache)."""

    def __init__(self, configs: Configs, namespace: Namespace, client: WebhookClient):
        self.configs = configs
        self.namespace = namespace
        self.client = client

    def hooks(self) -> list[dict]:
        """Every webhook, configurations by name, each one's webhooks in their order."""
        configs = sorted(self.configs(), key=lambda c: c.get("metadata", {}).get("name", ""))
        return [w for c in configs for w in (c.get("webhooks") or []) if isinstance(w, dict)]

    async def matching(self, attrs: Attributes) -> list[dict]:
        if is_configuration(attrs):
            return []
        hooks = [w for w in self.hooks() if rules_match(w.get("rules"), attrs, w.get("matchPolicy"))
                 and object_selected(w.get("objectSelector"), attrs)]
        if not hooks:
            return []
        namespace = await self.namespace(attrs.namespace) if attrs.namespace else None
        return [w for w in hooks if namespace_selected(w.get("namespaceSelector"), attrs, namespace)]

    def conditions_hold(self, webhook: dict, attrs: Attributes, request: dict) -> bool:
        """matchConditions, all of which must be true; an error counts as kube counts it: the
        webhook is skipped under failurePolicy Ignore, the request refused under Fail."""
        variables = {"object": attrs.object, "oldObject": attrs.old_object, "request": cel_request(request)}
        held = conditions_hold(webhook.get("matchConditions"), variables)
        if isinstance(held, str):
            failed = CallFailed(str(webhook.get("name")), held)
            if webhook.get("failurePolicy", "Fail") == "Ignore":
                log.info("%s", failed)
                return False
            raise failed.status()
        return held

    async def call(self, webhook: dict, attrs: Attributes) -> dict | None:
        """The webhook's answer, or None when it is not called or failed under failurePolicy Ignore."""
        request = admission_request(attrs)
        if not self.conditions_hold(webhook, attrs, request):
            return None
        name = str(webhook.get("name") or "")
        if attrs.dry_run and webhook.get("sideEffects") not in DRY_RUN_SAFE:
            raise StatusError(400, "BadRequest", f'admission webhook "{name}" does not support dry run')
        try:
            answer = await self.client.call(webhook, request)
        except CallFailed as e:
            if webhook.get("failurePolicy", "Fail") == "Ignore":
                log.info("%s; failurePolicy Ignore lets the request through", e)
                return None
            raise e.status() from None
        for warning in answer.get("warnings") or []:
            attrs.warnings.append(str(warning))
        for key, value in (answer.get("auditAnnotations") or {}).items():
            attrs.audit_annotations[f"{name}/{key}"] = str(value)
        if not answer.get("allowed"):
            raise denied(name, answer.get("status"))
        return answer
