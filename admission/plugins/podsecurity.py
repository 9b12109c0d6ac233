"""PodSecurity: the Pod Security Standards a namespace's labels ask for.

`pod-security.kubernetes.io/<mode>` names a level (privileged, baseline, restricted) and
`<mode>-version` a policy version (`v1.NN` or `latest`, the default). `enforce` refuses pods that
violate it; `warn` tells the client in `Warning` headers; `audit` records the violation in the
request's audit annotations. Pod controllers (Deployment, Job, ...) are never refused: their pod
templates are checked for warnings and audit only, as kube-apiserver does.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from ..chain import CREATE, UPDATE, Attributes, ValidatingPlugin
from .podsecurity_checks import evaluate, reasons

PREFIX = "pod-security.kubernetes.io/"
LEVELS = ("privileged", "baseline", "restricted")
# (group, resource) -> path of the pod template in the object
TEMPLATES = {
    ("", "podtemplates"): ("template",), ("", "replicationcontrollers"): ("spec", "template"),
    ("apps", "deployments"): ("spec", "template"), ("apps", "replicasets"): ("spec", "template"),
    ("apps", "statefulsets"): ("spec", "template"), ("apps", "daemonsets"): ("spec", "template"),
    ("batch", "jobs"): ("spec", "template"), ("batch", "cronjobs"): ("spec", "jobTemplate", "spec", "template"),
}
SECURITY_ANNOTATIONS = ("container.apparmor.security.beta.kubernetes.io/", "seccomp.security.alpha.kubernetes.io/",
                        "container.seccomp.security.alpha.kubernetes.io/")


def _policy(labels: dict, mode: str) -> tuple[str, int | None, str]:
    """(level, policy minor version or None for latest, the "level:version" kube prints)."""
    level = labels.get(PREFIX + mode) or "privileged"
    if level not in LEVELS:
        level = "restricted"  # kube enforces the strictest level when the label is not one it knows
    version = labels.get(f"{PREFIX}{mode}-version") or "latest"
    m = re.fullmatch(r"v1\.(0|[1-9][0-9]*)", version)
    if m is None:
        version = "latest"
    return level, int(m.group(1)) if m else None, f"{level}:{version}"


def _at(obj: dict, path: tuple[str, ...]) -> dict | None:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj if isinstance(obj, dict) else None


def _significant_pod_update(new: dict, old: dict) -> bool:
    """kube re-checks a pod on update only when what the checks see could have changed."""
    def view(pod):
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k.startswith(SECURITY_ANNOTATIONS)}
        return annotations, {k: v for k, v in spec.items() if k not in ("activeDeadlineSeconds", "tolerations")}
    return view(new) != view(old)


class PodSecurity(ValidatingPlugin):
    name = "PodSecurity"
    operations = frozenset((CREATE, UPDATE))

    def __init__(self, namespace_live: Callable[[str], Awaitable[dict | None]], pods: Callable[[str], list[dict]]):
        self.live = namespace_live
        self.pods = pods

    async def validate(self, attrs: Attributes) -> None:
        if (attrs.group, attrs.resource, attrs.operation, attrs.subresource) == ("", "namespaces", UPDATE, ""):
            self._new_enforce_level(attrs)
            return
        if not attrs.namespace or attrs.object is None:
            return
        is_pod = (attrs.group, attrs.resource) == ("", "pods")
        if is_pod:
            if attrs.subresource not in ("", "ephemeralcontainers"):
                return
            if attrs.operation == UPDATE and not _significant_pod_update(attrs.object, attrs.old_object or {}):
                return
            meta, spec = attrs.object.get("metadata") or {}, attrs.object.get("spec") or {}
        else:
            path = TEMPLATES.get((attrs.group, attrs.resource))
            if path is None or attrs.subresource:
                return
            template = _at(attrs.object, path) or {}
            meta, spec = template.get("metadata") or {}, template.get("spec") or {}
        # Read as stored: a label set a moment ago must already count (the cache may lag behind).
        namespace = await self.live(attrs.namespace)
        labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
        enforce, audit, warn = (_policy(labels, mode) for mode in ("enforce", "audit", "warn"))
        results: dict[str, str] = {}

        def violations(policy) -> str:
            if policy[2] not in results:
                results[policy[2]] = evaluate(policy[0], policy[1], meta, spec)
            return results[policy[2]]
        if enforce[0] != "privileged" or labels.get(PREFIX + "enforce"):
            attrs.audit_annotations[PREFIX + "enforce-policy"] = enforce[2]
        if violations(enforce):
            if is_pod:
                raise attrs.forbidden(f'violates PodSecurity "{enforce[2]}": {violations(enforce)}')
            attrs.warnings.append(f'would violate PodSecurity "{enforce[2]}": {violations(enforce)}')
        if violations(audit):
            attrs.audit_annotations[PREFIX + "audit-violations"] = \
                f'would violate PodSecurity "{audit[2]}": {violations(audit)}'
        if violations(warn) and not (not is_pod and warn[2] == enforce[2]):
            attrs.warnings.append(f'would violate PodSecurity "{warn[2]}": {violations(warn)}')

    def _new_enforce_level(self, attrs: Attributes) -> None:
        """A stricter enforce label does not touch running pods: kube warns about those that
        violate it, one warning per distinct set of reasons naming the first pod by name."""
        labels = lambda ns: ((ns or {}).get("metadata") or {}).get("labels") or {}  # noqa: E731
        enforce = _policy(labels(attrs.object), "enforce")
        if enforce[0] == "privileged" or enforce == _policy(labels(attrs.old_object), "enforce"):
            return
        found: dict[str, list[str]] = {}
        for pod in self.pods(attrs.name):
            why = reasons(enforce[0], enforce[1], pod.get("metadata") or {}, pod.get("spec") or {})
            if why:
                found.setdefault(why, []).append(pod["metadata"]["name"])
        if not found:
            return
        attrs.warnings.append(f'existing pods in namespace "{attrs.name}" violate the new PodSecurity enforce '
                              f'level "{enforce[2]}"')
        attrs.warnings.extend(sorted(f"{_counted(names)}: {why}" for why, names in found.items()))


def _counted(names: list[str]) -> str:
    first, others = min(names), len(names) - 1
    if others == 0:
        return first
    return f"{first} (and {others} other pod{'' if others == 1 else 's'})"
