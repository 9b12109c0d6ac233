"""The rules of the apps group's workloads (pkg/apis/apps/validation): Deployments, ReplicaSets,
StatefulSets and DaemonSets, their selectors against their pod templates, and their update
strategies.
"""
from __future__ import annotations

from admission.gofmt import Go, go_interface, go_quote
from admission.validation.fielderrors import Causes, child
from admission.validation.names import is_valid_percent
from admission.validation.objects import as_dict, semantic, without
from admission.validation.rules.meta import (go_label_selector, selector_converts, selector_is_empty, selector_matches,
                                             validate_label_selector)
from admission.validation.rules.podspec import (controller_template, restarts_always, template_meta,
                                                template_selector_match, validate_pod_template_spec)


def _go_strategy(type_name: str, rolling_name: str, strategy: dict) -> Go:
    """An apps update strategy as %#v prints it; kube names the whole strategy when its type is wrong."""
    rolling = strategy.get("rollingUpdate")
    rendered = f"(*apps.{rolling_name})(nil)" if rolling is None else go_interface(rolling)
    return Go(f"apps.{type_name}{{Type:{go_quote(strategy.get('type') or '')}, RollingUpdate:{rendered}}}")


def _workload_selector(c: Causes, spec: dict, kind_word: str, *, required: bool = True) -> bool:
    """The LabelSelector of apps workloads; whether it converts, so the template can be checked."""
    selector = spec.get("selector")
    if selector is None and required:
        c.required("spec.selector")
    elif selector is not None:
        validate_label_selector(c, selector, "spec.selector")
        if selector_is_empty(selector):
            c.invalid("spec.selector", go_label_selector(selector), f"empty selector is invalid for {kind_word}")
    return selector_converts(selector)


def _template_matches(spec: dict) -> bool:
    """Whether the template passes kube's `selector` check: an empty selector selects everything."""
    selector = spec.get("selector")
    labels = as_dict(as_dict(as_dict(spec.get("template")).get("metadata")).get("labels"))
    return selector_is_empty(selector) or selector_matches(selector, labels)


def _replica_set_spec(c: Causes, spec: dict) -> None:
    c.nonnegative("spec.replicas", spec.get("replicas"))
    if _workload_selector(c, spec, "deployment"):
        controller_template(c, spec.get("template"), _template_matches(spec), "ReplicaSet", "spec.template")
    else:
        c.invalid("spec.selector", go_label_selector(spec.get("selector")), "invalid label selector")


def validate_replica_set(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    c.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    _replica_set_spec(c, spec)


def _percent(value: str) -> int | None:
    """The number in a percent such as "25%"; None for any other string."""
    return None if is_valid_percent(value) else int(value[:-1])


def _int_or_percent(value) -> int:
    if isinstance(value, str):
        percent = _percent(value)
        return percent if percent is not None else (int(value) if value.isdigit() else 0)
    return value or 0


def _positive_int_or_percent(c: Causes, value, path: str) -> None:
    if isinstance(value, str):
        c.invalid_each(path, Go(value), is_valid_percent(value))
    else:
        c.nonnegative(path, value)
    if isinstance(value, str) and (_percent(value) or 0) > 100:
        c.invalid(path, Go(value), "must not be greater than 100%")


def _rolling_update_bounds(c: Causes, rolling: dict, path: str) -> tuple:
    """maxUnavailable and maxSurge, each checked as a count or a percent, for the rules between them."""
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    _positive_int_or_percent(c, unavailable, child(path, "maxUnavailable"))
    _positive_int_or_percent(c, surge, child(path, "maxSurge"))
    return unavailable, surge


def validate_deployment(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    _replica_set_spec(c, spec)
    strategy, path = as_dict(spec.get("strategy")), "spec.strategy"
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type") == "Recreate":
        if rolling is not None:
            c.forbidden(child(path, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")
    elif strategy.get("type") == "RollingUpdate":
        if not isinstance(rolling, dict):
            c.required(child(path, "rollingUpdate"), "this should be defaulted and never be nil")
        else:
            at = child(path, "rollingUpdate")
            unavailable, surge = _rolling_update_bounds(c, rolling, at)
            if _int_or_percent(unavailable) == 0 and _int_or_percent(surge) == 0:
                c.invalid(child(at, "maxUnavailable"), Go(str(unavailable or 0)), "may not be 0 when `maxSurge` is 0")
    else:
        c.not_supported(path, _go_strategy("DeploymentStrategy", "RollingUpdateDeployment", strategy),
                        ["Recreate", "RollingUpdate"])
    for field in ("minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"):
        c.nonnegative(child("spec", field), spec.get(field))
    deadline = spec.get("progressDeadlineSeconds")
    if isinstance(deadline, int) and deadline <= (spec.get("minReadySeconds") or 0):
        c.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")


def validate_daemon_set(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    template = as_dict(spec.get("template"))
    converts = _workload_selector(c, spec, "daemonset", required=False)
    if converts and not selector_matches(spec.get("selector"), as_dict(template.get("metadata")).get("labels")):
        template_selector_match(c, template, False, "spec.template")
    validate_pod_template_spec(c, template, "spec.template")
    restarts_always(c, template, "DaemonSet", "spec.template")
    c.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    strategy, path = as_dict(spec.get("updateStrategy")), "spec.updateStrategy"
    if strategy.get("type") == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            c.required(child(path, "rollingUpdate"))
        else:
            at = child(path, "rollingUpdate")
            unavailable, surge = _rolling_update_bounds(c, rolling, at)
            if _int_or_percent(unavailable) and _int_or_percent(surge):
                c.invalid(child(at, "maxSurge"), Go(str(surge)), "may not be set when maxUnavailable is non-zero")
            elif not _int_or_percent(unavailable) and not _int_or_percent(surge):
                c.required(child(at, "maxUnavailable"), "cannot be 0 when maxSurge is 0")
    elif strategy.get("type") != "OnDelete":
        c.not_supported(path, _go_strategy("DaemonSetUpdateStrategy", "RollingUpdateDaemonSet", strategy),
                        ["RollingUpdate", "OnDelete"])
    c.nonnegative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))


_STATEFUL_SET_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy",
                         "persistentVolumeClaimRetentionPolicy", "minReadySeconds")


def validate_stateful_set(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    policy = spec.get("podManagementPolicy")
    if not policy:
        c.required("spec.podManagementPolicy")
    elif policy not in ("OrderedReady", "Parallel"):
        c.invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'")
    strategy = as_dict(spec.get("updateStrategy"))
    kind = strategy.get("type")
    if not kind:
        c.required("spec.updateStrategy")
    elif kind == "OnDelete" and strategy.get("rollingUpdate") is not None:
        c.invalid("spec.updateStrategy.rollingUpdate", strategy["rollingUpdate"],
                  "only allowed for updateStrategy 'RollingUpdate'")
    elif kind == "RollingUpdate":
        partition = as_dict(strategy.get("rollingUpdate")).get("partition")
        c.nonnegative("spec.updateStrategy.rollingUpdate.partition", partition)
    elif kind != "OnDelete":
        c.invalid("spec.updateStrategy", _go_strategy("StatefulSetUpdateStrategy", "RollingUpdateStatefulSetStrategy",
                                                      strategy), "must be 'RollingUpdate' or 'OnDelete'")
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(retention, dict):
        for field in ("whenDeleted", "whenScaled"):
            if retention.get(field) not in ("Retain", "Delete"):
                c.not_supported(child("spec.persistentVolumeClaimRetentionPolicy", field), retention.get(field) or "",
                                ["Retain", "Delete"])
    c.nonnegative("spec.replicas", spec.get("replicas"))
    c.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    template = as_dict(spec.get("template"))
    if _workload_selector(c, spec, "statefulset"):
        template_selector_match(c, template, _template_matches(spec), "spec.template")
        # kube checks only the template's metadata here, not its pod spec.
        template_meta(c, template, "spec.template")
    else:
        c.invalid("spec.selector", go_label_selector(spec.get("selector")), "")
    restarts_always(c, template, "StatefulSet", "spec.template")
    if old is not None:
        old_spec = as_dict(old.get("spec"))
        rest = without(spec, _STATEFUL_SET_MUTABLE)
        old_rest = without(old_spec, _STATEFUL_SET_MUTABLE)
        if semantic(rest) != semantic(old_rest):
            c.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                                "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                                "'minReadySeconds' are forbidden")


def validate_controller_revision(c: Causes, obj: dict, old: dict | None) -> None:
    """ValidateControllerRevision: the revision a number from 0 up, and data present."""
    if obj.get("data") is None:
        c.required("data", "data is mandatory")
    c.nonnegative("revision", obj.get("revision"))
