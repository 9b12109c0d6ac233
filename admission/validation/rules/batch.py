"""The rules of the batch group (pkg/apis/batch/validation): Jobs with their immutable template,
and CronJobs with their schedules and time zones.
"""
from __future__ import annotations

import zoneinfo

from admission.cron import split_zone
from admission.validation.fielderrors import Causes, child, IMMUTABLE
from admission.validation.formats import cron_error
from admission.validation.objects import as_dict, semantic, without
from admission.validation.rules.meta import (go_label_selector, selector_converts, selector_matches,
                                             validate_label_selector)
from admission.validation.rules.podspec import template_selector_match, validate_pod_template_spec


def _job_spec(c: Causes, spec: dict, path: str) -> None:
    """validateJobSpec: shared by Jobs and CronJob job templates."""
    for field in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"):
        c.nonnegative(child(path, field), spec.get(field))
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        c.not_supported(child(path, "completionMode"), mode, ["NonIndexed", "Indexed"])
    if mode == "Indexed" and spec.get("completions") is None:
        c.required(child(path, "completions"), "when completion mode is Indexed")
    template = as_dict(spec.get("template"))
    validate_pod_template_spec(c, template, child(path, "template"))
    policy = as_dict(template.get("spec")).get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        c.not_supported(child(path, "template", "spec", "restartPolicy"), policy or "", ["OnFailure", "Never"])


def validate_job(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    _job_spec(c, spec, "spec")
    selector = spec.get("selector")
    if selector is None:
        c.required("spec.selector")
    else:
        validate_label_selector(c, selector, "spec.selector")
    labels = as_dict(as_dict(spec.get("template")).get("metadata")).get("labels")
    if selector_converts(selector) and not selector_matches(selector, labels):
        template_selector_match(c, as_dict(spec.get("template")), False, "spec.template")
    if old is None:
        return
    old_spec = as_dict(old.get("spec"))
    elastic = spec.get("completionMode") == "Indexed" and spec.get("completions") == spec.get("parallelism")
    if not elastic and spec.get("completions") != old_spec.get("completions"):
        c.invalid("spec.completions", spec.get("completions"), IMMUTABLE)
    template, old_template = as_dict(spec.get("template")), as_dict(old_spec.get("template"))
    if old_spec.get("suspend") and not as_dict(old.get("status")).get("startTime"):
        # A suspended Job that never started may have its scheduling directives changed.
        template = _without_scheduling_directives(template)
        old_template = _without_scheduling_directives(old_template)
    if semantic(template) != semantic(old_template):
        c.invalid("spec.template", spec.get("template"), IMMUTABLE)


def _without_scheduling_directives(template: dict) -> dict:
    meta = without(as_dict(template.get("metadata")), ("labels", "annotations"))
    spec = without(as_dict(template.get("spec")), ("nodeSelector", "tolerations", "schedulingGates"))
    affinity = without(as_dict(spec.get("affinity")), ("nodeAffinity",))
    return {**template, "metadata": meta, "spec": {**spec, "affinity": affinity}}


def validate_cron_job(c: Causes, obj: dict, old: dict | None) -> None:
    name = as_dict(obj.get("metadata")).get("name") or ""
    if old is None and len(name) > 52:
        # The controller appends an 11-character suffix to name Jobs, and Job names stop at 63.
        c.invalid("metadata.name", name, "must be no more than 52 characters")
    spec, old_spec = as_dict(obj.get("spec")), as_dict((old or {}).get("spec"))
    schedule = spec.get("schedule") or ""
    if not schedule:
        c.required("spec.schedule")
    else:
        problem = cron_error(split_zone(schedule)[1])
        if problem:
            c.invalid("spec.schedule", schedule, problem)
        if "TZ" in schedule and "TZ" not in (old_spec.get("schedule") or ""):
            c.invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    c.nonnegative("spec.startingDeadlineSeconds", spec.get("startingDeadlineSeconds"))
    zone = spec.get("timeZone")
    if zone is not None and (old is None or zone != old_spec.get("timeZone")):
        _time_zone(c, zone, "spec.timeZone")
    c.one_of("spec.concurrencyPolicy", spec.get("concurrencyPolicy"), ["Allow", "Forbid", "Replace"])
    job_spec = as_dict(as_dict(spec.get("jobTemplate")).get("spec"))
    _job_spec(c, job_spec, "spec.jobTemplate.spec")
    if job_spec.get("selector") is not None:
        c.invalid("spec.jobTemplate.spec.selector", go_label_selector(job_spec["selector"]),
                  "`selector` will be auto-generated")
    if job_spec.get("manualSelector") is True:
        c.not_supported("spec.jobTemplate.spec.manualSelector", True, ["nil", "false"])
    for field in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        c.nonnegative(child("spec", field), spec.get(field))


def _time_zone(c: Causes, zone: str, path: str) -> None:
    if not zone:
        c.invalid(path, zone, "timeZone must be nil or non-empty string")
    elif zone.lower() == "local":
        c.invalid(path, zone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")
    else:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            c.invalid(path, zone, f"unknown time zone {zone}")
