"""The printers of the workload API groups: apps, batch, autoscaling and policy."""
from __future__ import annotations

from ...registry.strategies import hpa
from .cells import (AGE, Cell, Column, Doc, NAME, NONE, Printer, UNKNOWN, UNSET, bool_word, condition_true,
                    count, field, human_duration, label_selector_string, labels_at, parse_time, printer,
                    quantity, ready_of, selector_at, since_or_none, template_columns, value_at)


_REPLICAS = "Number of the pod with ready state"


def _job_completions(o, now):
    succeeded = value_at(o, "status.succeeded", 0)
    completions = value_at(o, "spec.completions")
    if completions is not None:
        return f"{succeeded}/{completions}"
    parallelism = value_at(o, "spec.parallelism", 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(o, now):
    start = parse_time(value_at(o, "status.startTime"))
    if start is None:
        return ""
    return human_duration((parse_time(value_at(o, "status.completionTime")) or now) - start)


def _job_status(*pending: str) -> Cell:
    """STATUS: finished, then being deleted, then the first of the `pending` conditions that holds
    (1.34 added SuccessCriteriaMet to them), else Running."""
    def cell(o, now):
        conditions = value_at(o, "status.conditions")
        if condition_true(conditions, "Complete"):
            return "Complete"
        if condition_true(conditions, "Failed"):
            return "Failed"
        if value_at(o, "metadata.deletionTimestamp"):
            return "Terminating"
        return next((kind for kind in pending if condition_true(conditions, kind)), "Running")
    return cell


def _deployment_selector(o, now):
    text = label_selector_string(value_at(o, "spec.selector"))
    return "<invalid>" if text is None else text


def _controller_of(o, now):
    ref = next((r for r in value_at(o, "metadata.ownerReferences", []) if r.get("controller")), None)
    if ref is None:
        return NONE
    api_version, kind = ref.get("apiVersion", ""), ref.get("kind", "")
    group = api_version.split("/")[0] if "/" in api_version else ""
    group_kind = f"{kind}.{group}" if group else kind
    return f"{group_kind.lower()}/{ref.get('name', '')}" if group_kind else ref.get("name", "")


_METRIC_SOURCES = {"External": "external", "Pods": "pods", "Object": "object", "Resource": "resource",
                   "ContainerResource": "containerResource"}


def _hpa_metric(spec: dict, status: dict | None) -> str:
    kind = spec.get("type")
    key = _METRIC_SOURCES.get(kind)
    if key is None:
        return "<unknown type>"
    source = spec.get(key) or {}
    target = source.get("target") or {}
    # The status at the same index reports this metric only if it has the same source.
    reported = (status or {}).get(key)
    current = (reported or {}).get("current") or {}

    def now_(name: str, required: bool = False) -> str:
        missing = reported is None or (required and current.get(name) is None)
        return UNKNOWN if missing else quantity(current.get(name))

    if kind == "Pods":
        return f"{now_('averageValue')}/{quantity(target.get('averageValue'))}"
    if kind in ("External", "Object"):
        if target.get("averageValue") is not None:
            return f"{now_('averageValue', required=True)}/{target['averageValue']} (avg)"
        return f"{now_('value')}/{quantity(target.get('value'))}"
    named = f"{source.get('name', '')}: "
    if target.get("averageValue") is not None:
        return f"{named}{now_('averageValue')}/{target['averageValue']}"
    used = now_("averageUtilization", required=True)
    used = used if used == UNKNOWN else f"{used}%"
    wanted = "<auto>" if target.get("averageUtilization") is None else f"{target['averageUtilization']}%"
    return f"{named}{used}/{wanted}"


def _hpa_targets(o, now):
    specs = value_at(o, "spec.metrics") or []
    if not specs:
        return NONE
    statuses = value_at(o, "status.currentMetrics") or []
    shown = [_hpa_metric(s, statuses[i] if i < len(statuses) else None) for i, s in enumerate(specs[:2])]
    more = f" + {len(specs) - 2} more..." if len(specs) > 2 else ""
    return ", ".join(shown) + more


def _int_or_string(path: str) -> Cell:
    return lambda o, now: "N/A" if value_at(o, path) is None else str(value_at(o, path))


PRINTERS: dict[tuple[str, str], Printer] = {
    ("apps", "deployments"): printer(
        NAME, Column("Ready", ready_of("spec.replicas"), _REPLICAS),
        Column("Up-to-date", field("status.updatedReplicas", 0),
               Doc("apps.v1.DeploymentStatus", "updatedReplicas")),
        Column("Available", field("status.availableReplicas", 0),
               Doc("apps.v1.DeploymentStatus", "availableReplicas")),
        AGE, *template_columns("spec.template", (_deployment_selector, Doc("apps.v1.DeploymentSpec", "selector")))),
    ("apps", "replicasets"): printer(
        NAME, Column("Desired", field("spec.replicas", 1), Doc("apps.v1.ReplicaSetSpec", "replicas"), "integer"),
        Column("Current", field("status.replicas", 0), Doc("apps.v1.ReplicaSetStatus", "replicas"), "integer"),
        Column("Ready", field("status.readyReplicas", 0), Doc("apps.v1.ReplicaSetStatus", "readyReplicas"),
               "integer"),
        AGE, *template_columns("spec.template", (selector_at("spec.selector"),
                                                 Doc("apps.v1.ReplicaSetSpec", "selector")))),
    ("apps", "statefulsets"): printer(
        NAME, Column("Ready", ready_of("spec.replicas"), _REPLICAS), AGE,
        *template_columns("spec.template")),
    ("apps", "daemonsets"): printer(
        NAME, *(Column(title, field(f"status.{key}", 0), Doc("apps.v1.DaemonSetStatus", key), "integer")
                for title, key in (("Desired", "desiredNumberScheduled"), ("Current", "currentNumberScheduled"),
                                   ("Ready", "numberReady"), ("Up-to-date", "updatedNumberScheduled"),
                                   ("Available", "numberAvailable"))),
        Column("Node Selector", labels_at("spec.template.spec.nodeSelector"), Doc("core.v1.PodSpec", "nodeSelector")),
        AGE, *template_columns("spec.template", (selector_at("spec.selector"),
                                                 Doc("apps.v1.DaemonSetSpec", "selector")))),
    ("apps", "controllerrevisions"): printer(
        NAME, Column("Controller", _controller_of, "Controller of the object"),
        Column("Revision", field("revision", 0), Doc("apps.v1.ControllerRevision", "revision")), AGE),
    ("batch", "jobs"): printer(
        NAME, Column("Status", _job_status("Suspended", "FailureTarget"), "Status of the job.", since="1.30",
                     until="1.34"),
        Column("Status", _job_status("Suspended", "FailureTarget", "SuccessCriteriaMet"), "Status of the job.",
               since="1.34"),
        Column("Completions", _job_completions, Doc("batch.v1.JobStatus", "succeeded")),
        Column("Duration", _job_duration, "Time required to complete the job."), AGE,
        *template_columns("spec.template", (selector_at("spec.selector"), Doc("batch.v1.JobSpec", "selector")))),
    ("batch", "cronjobs"): printer(
        NAME, Column("Schedule", field("spec.schedule"), Doc("batch.v1.CronJobSpec", "schedule")),
        Column("Timezone", field("spec.timeZone", NONE), Doc("batch.v1.CronJobSpec", "timeZone")),
        Column("Suspend", lambda o, now: bool_word(value_at(o, "spec.suspend")), Doc("batch.v1.CronJobSpec", "suspend"),
               "boolean"),
        Column("Active", count("status.active"), Doc("batch.v1.CronJobStatus", "active"), "integer"),
        Column("Last Schedule", since_or_none("status.lastScheduleTime"), Doc("batch.v1.CronJobStatus",
                                                                             "lastScheduleTime")),
        AGE, *template_columns("spec.jobTemplate.spec.template", (selector_at("spec.jobTemplate.spec.selector"),
                                                                  Doc("batch.v1.JobSpec", "selector")))),
    # kube prints the internal type: a v1 object shows its v2 metrics as well.
    ("autoscaling", "horizontalpodautoscalers"): printer(
        NAME, Column("Reference", lambda o, now: f"{value_at(o, 'spec.scaleTargetRef.kind', '')}/"
                                              f"{value_at(o, 'spec.scaleTargetRef.name', '')}",
                     Doc("autoscaling.v2.HorizontalPodAutoscalerSpec", "scaleTargetRef")),
        Column("Targets", _hpa_targets, Doc("autoscaling.v2.HorizontalPodAutoscalerSpec", "metrics")),
        Column("MinPods", lambda o, now: str(value_at(o, "spec.minReplicas", UNSET)),
               Doc("autoscaling.v2.HorizontalPodAutoscalerSpec", "minReplicas")),
        Column("MaxPods", field("spec.maxReplicas", 0), Doc("autoscaling.v2.HorizontalPodAutoscalerSpec",
                                                          "maxReplicas")),
        Column("Replicas", field("status.currentReplicas", 0),
               Doc("autoscaling.v2.HorizontalPodAutoscalerStatus", "currentReplicas")), AGE, adapt=hpa.as_stored),
    ("policy", "poddisruptionbudgets"): printer(
        NAME, Column("Min Available", _int_or_string("spec.minAvailable"),
                     "The minimum number of pods that must be available."),
        Column("Max Unavailable", _int_or_string("spec.maxUnavailable"),
               "The maximum number of pods that may be unavailable."),
        Column("Allowed Disruptions", field("status.disruptionsAllowed", 0),
               "Calculated number of pods that may be disrupted at this time.", "integer"), AGE),
}
