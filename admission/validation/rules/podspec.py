"""What every pod and pod template must satisfy (ValidatePodSpec and ValidatePodTemplateSpec of
pkg/apis/core/validation): volumes, containers with their ports, environment, mounts, resources,
probes and lifecycle handlers, and tolerations. Pods, ReplicationControllers and the apps and
batch workloads all hold one.
"""
from __future__ import annotations

import re

from admission.gofmt import Go, go_string_map
from admission.validation.fielderrors import Causes, child, keyed, NONNEGATIVE
from admission.validation.formats import quantity_or_none, quantity_text
from admission.validation.names import (is_config_map_key, is_dns1123_label, is_dns1123_subdomain, is_env_var_name,
                                        is_http_header_name, is_label_value, is_qualified_name, is_valid_port_name,
                                        is_valid_port_num, range_error)
from admission.validation.objects import as_dict, as_list
from admission.validation.rules.meta import mask_trailing_dash, validate_annotations, validate_labels

MAX_INT32 = 2**31 - 1
_VOLUME_SOURCES = ("emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs",
                   "iscsi", "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte",
                   "downwardAPI", "fc", "flexVolume", "configMap", "azureFile", "vsphereVolume",
                   "photonPersistentDisk", "portworxVolume", "azureDisk", "storageos", "projected", "scaleIO",
                   "csi", "ephemeral", "image")
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
PROTOCOLS = ["SCTP", "TCP", "UDP"]
_FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
_DOWNWARD_API_ENV_PATHS = ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                           "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
                           "status.podIPs"]
_DOWNWARD_API_LABELS = ("metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
                        "metadata.uid", "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName",
                        "spec.schedulerName", "status.phase", "status.hostIP", "status.hostIPs", "status.podIP",
                        "status.podIPs")
_RESOURCE_FIELD_PATHS = ["limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu",
                         "requests.ephemeral-storage", "requests.memory"]
_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_STANDARD_RESOURCES = _CONTAINER_RESOURCES + (
    "requests.cpu", "requests.memory", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
    "limits.ephemeral-storage", "pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
    "configmaps", "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports",
    "services.loadbalancers")
_INTEGER_RESOURCES = ("pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
                      "persistentvolumeclaims", "services.nodeports", "services.loadbalancers")
TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
_INIT_ONLY_ALWAYS = "may not be set for init containers without restartPolicy=Always"


def _no_backsteps(c: Causes, target: str, path: str) -> None:
    if ".." in target.split("/"):
        c.invalid(path, target, "must not contain '..'")


def _local_descending_path(c: Causes, target: str, path: str) -> None:
    if target.startswith("/"):
        c.invalid(path, target, "must be a relative path")
    _no_backsteps(c, target, path)


def _file_mode(c: Causes, mode, path: str) -> None:
    if isinstance(mode, int) and not 0 <= mode <= 0o777:
        c.invalid(path, mode, _FILE_MODE_ERROR)


def _key_to_paths(c: Causes, items, path: str) -> None:
    for i, item in enumerate(as_list(items)):
        item, at = as_dict(item), child(path, i)
        if not item.get("key"):
            c.required(child(at, "key"))
        if not item.get("path"):
            c.required(child(at, "path"))
        target = item.get("path") or ""
        _local_descending_path(c, target, child(at, "path"))
        if target.startswith("..") and not target.startswith("../"):
            c.invalid(child(at, "path"), target, "must not start with '..'")
        _file_mode(c, item.get("mode"), child(at, "mode"))


def _volume_source(c: Causes, volume: dict, path: str) -> None:
    source = c.exactly_one(volume, _VOLUME_SOURCES, path, "volume type")
    if source is None:
        return
    spec, at = as_dict(volume.get(source)), child(path, source)
    required = {"hostPath": "path", "persistentVolumeClaim": "claimName", "secret": "secretName",
                "configMap": "name", "nfs": "server"}.get(source)
    if required and not spec.get(required):
        c.required(child(at, required))
    if source == "hostPath":
        _no_backsteps(c, spec.get("path") or "", child(at, "path"))
    if source in ("secret", "configMap"):
        _file_mode(c, spec.get("defaultMode"), child(at, "defaultMode"))
        _key_to_paths(c, spec.get("items"), child(at, "items"))


def _volumes(c: Causes, volumes, path: str) -> dict:
    """Validates the volumes and returns those without errors by name, as kube does for mounts."""
    valid = {}
    for i, volume in enumerate(as_list(volumes)):
        volume, at, before = as_dict(volume), child(path, i), len(c.items)
        _volume_source(c, volume, at)
        name = volume.get("name") or ""
        if not name:
            c.required(child(at, "name"))
        else:
            c.check(child(at, "name"), name, is_dns1123_label)
        if name in valid:
            c.duplicate(child(at, "name"), name)
        if len(c.items) == before:
            valid[name] = volume
    return valid


def port_num_or_name(c: Causes, port, path: str) -> None:
    if isinstance(port, str):
        c.check(path, port, is_valid_port_name)
    else:
        c.check(path, port or 0, is_valid_port_num)


def _handler(c: Causes, handler: dict, kinds: tuple[str, ...], grace, path: str) -> None:
    chosen = c.exactly_one(handler, kinds, path, "handler type")
    if chosen is None:
        return
    action, at = as_dict(handler.get(chosen)), child(path, chosen)
    if chosen == "exec" and not action.get("command"):
        c.required(child(at, "command"))
    elif chosen == "httpGet":
        if not action.get("path"):
            c.required(child(at, "path"))
        port_num_or_name(c, action.get("port"), child(at, "port"))
        if action.get("scheme") not in ("HTTP", "HTTPS"):
            c.not_supported(child(at, "scheme"), action.get("scheme") or "", ["HTTP", "HTTPS"])
        for header in as_list(action.get("httpHeaders")):
            name = as_dict(header).get("name") or ""
            c.invalid_each(child(at, "httpHeaders"), name, is_http_header_name(name))
    elif chosen in ("tcpSocket", "grpc"):
        port_num_or_name(c, action.get("port"), child(at, "port"))
    elif chosen == "sleep" and isinstance(grace, int):
        seconds = action.get("seconds") or 0
        if not 0 <= seconds <= grace:
            c.invalid(at, seconds, f"must be non-negative and less than terminationGracePeriodSeconds ({grace})")


def _probe(c: Causes, probe, kind: str, grace, path: str) -> None:
    if not isinstance(probe, dict):
        return
    _handler(c, probe, _PROBE_HANDLERS, grace, path)
    for field in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        c.nonnegative(child(path, field), probe.get(field))
    grace_override = probe.get("terminationGracePeriodSeconds")
    if isinstance(grace_override, int) and grace_override <= 0:
        c.invalid(child(path, "terminationGracePeriodSeconds"), grace_override, "must be greater than 0")
    if kind in ("livenessProbe", "startupProbe") and probe.get("successThreshold", 1) != 1:
        c.invalid(child(path, "successThreshold"), probe.get("successThreshold"), "must be 1")
    if kind == "readinessProbe" and grace_override is not None:
        c.invalid(child(path, "terminationGracePeriodSeconds"), grace_override, "must not be set for readinessProbes")


def _container_ports(c: Causes, ports, path: str) -> None:
    names = set()
    for i, port in enumerate(as_list(ports)):
        port, at = as_dict(port), child(path, i)
        name = port.get("name")
        if name:
            problems = is_valid_port_name(name)
            c.invalid_each(child(at, "name"), name, problems)
            if not problems and name in names:
                c.duplicate(child(at, "name"), name)
            names.add(name)
        if not port.get("containerPort"):
            c.required(child(at, "containerPort"))
        else:
            c.check(child(at, "containerPort"), port["containerPort"], is_valid_port_num)
        if port.get("hostPort"):
            c.check(child(at, "hostPort"), port["hostPort"], is_valid_port_num)
        c.one_of(child(at, "protocol"), port.get("protocol"), PROTOCOLS)


def _object_field_selector(c: Causes, ref: dict, path: str) -> None:
    if not ref.get("apiVersion"):
        c.required(child(path, "apiVersion"))
        return
    field_path = ref.get("fieldPath") or ""
    if not field_path:
        c.required(child(path, "fieldPath"))
        return
    subscripted, at = re.fullmatch(r"(.*)\['(.*)'\]", field_path), child(path, "fieldPath")
    if ref["apiVersion"] != "v1":
        c.invalid(at, field_path, f"error converting fieldPath: unsupported pod version: {ref['apiVersion']}")
    elif subscripted and subscripted.group(1) not in ("metadata.annotations", "metadata.labels"):
        c.invalid(at, field_path, f"error converting fieldPath: field label does not support subscript: {field_path}")
    elif subscripted:
        key = subscripted.group(2)
        c.invalid_each(path, key, is_qualified_name(key.lower() if "annotations" in field_path else key))
    elif field_path not in _DOWNWARD_API_LABELS + ("spec.host",):
        c.invalid(at, field_path, f"error converting fieldPath: field label not supported: {field_path}")
    elif field_path.replace("spec.host", "spec.nodeName") not in _DOWNWARD_API_ENV_PATHS:
        c.not_supported(at, field_path, _DOWNWARD_API_ENV_PATHS)


def _key_selector(c: Causes, ref: dict, path: str) -> None:
    name = ref.get("name") or ""
    c.check(child(path, "name"), name, is_dns1123_subdomain)
    if not ref.get("key"):
        c.required(child(path, "key"))
    else:
        c.check(child(path, "key"), ref["key"], is_config_map_key)


def _env(c: Causes, env, path: str) -> None:
    for i, var in enumerate(as_list(env)):
        var, at = as_dict(var), child(path, i)
        if not var.get("name"):
            c.required(child(at, "name"))
        else:
            c.check(child(at, "name"), var["name"], is_env_var_name)
        source = var.get("valueFrom")
        if not isinstance(source, dict):
            continue
        vf = child(at, "valueFrom")
        present = [k for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef") if source.get(k)]
        if "fieldRef" in present:
            _object_field_selector(c, source["fieldRef"], child(vf, "fieldRef"))
        if "resourceFieldRef" in present:
            resource = source["resourceFieldRef"].get("resource") or ""
            if not resource:
                c.required(child(vf, "resourceFieldRef", "resource"))
            elif resource not in _RESOURCE_FIELD_PATHS and not re.match("(requests|limits).hugepages-", resource):
                c.not_supported(child(vf, "resourceFieldRef", "resource"), resource, _RESOURCE_FIELD_PATHS)
        for key in ("configMapKeyRef", "secretKeyRef"):
            if key in present:
                _key_selector(c, source[key], child(vf, key))
        if not present:
            c.invalid(vf, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                              "`secretKeyRef`")
        elif var.get("value"):
            c.invalid(vf, "", "may not be specified when `value` is not empty")
        elif len(present) > 1:
            c.invalid(vf, "", "may not have more than one field specified at a time")


def _env_from(c: Causes, env_from, path: str) -> None:
    for i, source in enumerate(as_list(env_from)):
        source, at = as_dict(source), child(path, i)
        if source.get("prefix"):
            c.check(child(at, "prefix"), source["prefix"], is_env_var_name)
        present = [k for k in ("configMapRef", "secretRef") if isinstance(source.get(k), dict)]
        for key in present:
            name = source[key].get("name") or ""
            if not name:
                c.required(child(at, key, "name"))
            else:
                c.invalid_each(child(at, key, "name"), name, is_dns1123_subdomain(mask_trailing_dash(name)))
        if not present:
            c.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`")
        elif len(present) > 1:
            c.invalid(path, "", "may not have more than one field specified at a time")


def _volume_mounts(c: Causes, mounts, volumes: dict, path: str) -> None:
    seen = set()
    for i, mount in enumerate(as_list(mounts)):
        mount, at = as_dict(mount), child(path, i)
        name, mount_path = mount.get("name") or "", mount.get("mountPath") or ""
        if not name:
            c.required(child(at, "name"))
        if name not in volumes:
            c.not_found(child(at, "name"), name)
        if not mount_path:
            c.required(child(at, "mountPath"))
        if mount_path in seen:
            c.invalid(child(at, "mountPath"), mount_path, "must be unique")
        seen.add(mount_path)
        for sub in ("subPath", "subPathExpr"):
            if mount.get(sub):
                # kube names the list here, not the item: its path is built from the list's.
                _local_descending_path(c, mount[sub], child(path, sub))


def _resource_name(c: Causes, name: str, path: str) -> None:
    problems = is_qualified_name(name)
    c.invalid_each(path, name, problems)
    if problems:
        return
    if "/" not in name:
        if name not in _STANDARD_RESOURCES and not name.startswith("hugepages-"):
            c.invalid(path, name, "must be a standard resource type or fully qualified")
        if name not in _CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            c.invalid(path, name, "must be a standard resource for containers")


def _is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _overcommit_allowed(name: str) -> bool:
    return _is_native_resource(name) and not name.startswith("hugepages-")


def _resources(c: Causes, resources, path: str) -> None:
    resources = as_dict(resources)
    limits, requests = as_dict(resources.get("limits")), as_dict(resources.get("requests"))
    for section, values in (("limits", limits), ("requests", requests)):
        for name, raw in values.items():
            at = keyed(child(path, section), name)
            _resource_name(c, name, at)
            quantity = quantity_or_none(raw)
            if quantity is None:
                continue
            if quantity < 0:
                c.invalid(at, quantity_text(raw), NONNEGATIVE)
            integer = name in _INTEGER_RESOURCES or not (_is_native_resource(name) or name.startswith("requests."))
            if integer and quantity.denominator != 1:
                c.invalid(at, Go(quantity_text(raw)), "must be an integer")
            if section == "limits":
                continue
            limit = quantity_or_none(limits.get(name)) if name in limits else None
            if limit is not None and quantity != limit and not _overcommit_allowed(name):
                c.invalid(child(path, "requests"), quantity_text(raw),
                          f"must be equal to {name} limit of {quantity_text(limits[name])}")
            elif limit is not None and quantity > limit:
                c.invalid(child(path, "requests"), quantity_text(raw),
                          f"must be less than or equal to {name} limit of {quantity_text(limits[name])}")
            elif name not in limits and not _overcommit_allowed(name):
                c.required(child(path, "limits"), "Limit must be set for non overcommitable resources")


def _security_context(c: Causes, context, path: str) -> None:
    context = as_dict(context)
    for field in ("runAsUser", "runAsGroup"):
        value = context.get(field)
        if isinstance(value, int) and not 0 <= value <= 0xFFFFFFFF:
            c.invalid(child(path, field), value, range_error(0, 0xFFFFFFFF))
    if context.get("allowPrivilegeEscalation") is False and context.get("privileged") is True:
        c.invalid(path, context, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true")


def _container_common(c: Causes, container: dict, volumes: dict, path: str) -> None:
    name = container.get("name") or ""
    if not name:
        c.required(child(path, "name"))
    else:
        c.check(child(path, "name"), name, is_dns1123_label)
    if not container.get("image"):
        c.required(child(path, "image"))
    c.one_of(child(path, "terminationMessagePolicy"), container.get("terminationMessagePolicy"),
             ["File", "FallbackToLogsOnError"])
    _container_ports(c, container.get("ports"), child(path, "ports"))
    _env(c, container.get("env"), child(path, "env"))
    _env_from(c, container.get("envFrom"), child(path, "envFrom"))
    _volume_mounts(c, container.get("volumeMounts"), volumes, child(path, "volumeMounts"))
    c.one_of(child(path, "imagePullPolicy"), container.get("imagePullPolicy"), ["Always", "IfNotPresent", "Never"])
    _resources(c, container.get("resources"), child(path, "resources"))
    _security_context(c, container.get("securityContext"), child(path, "securityContext"))


def _probes_and_lifecycle(c: Causes, container: dict, grace, path: str) -> None:
    lifecycle = as_dict(container.get("lifecycle"))
    for hook in ("postStart", "preStop"):
        if isinstance(lifecycle.get(hook), dict):
            _handler(c, lifecycle[hook], _LIFECYCLE_HANDLERS, grace, child(path, "lifecycle", hook))
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(c, container.get(kind), kind, grace, child(path, kind))


def _host_port_conflicts(c: Causes, containers: list, path: str) -> None:
    seen = set()
    for ci, container in enumerate(containers):
        for pi, port in enumerate(as_list(as_dict(container).get("ports"))):
            port = as_dict(port)
            if not port.get("hostPort"):
                continue
            key = f"{port.get('protocol', '')}/{port.get('hostIP', '')}/{port['hostPort']}"
            if key in seen:
                c.duplicate(child(path, ci, "ports", pi, "hostPort"), key)
            seen.add(key)


def _containers(c: Causes, containers, volumes: dict, grace, path: str) -> None:
    containers = [as_dict(x) for x in as_list(containers)]
    if not containers:
        c.required(path)
        return
    names = set()
    for i, container in enumerate(containers):
        at = child(path, i)
        _container_common(c, container, volumes, at)
        if container.get("name", "") in names:
            c.duplicate(child(at, "name"), container.get("name", ""))
        names.add(container.get("name", ""))
        _probes_and_lifecycle(c, container, grace, at)
        if container.get("restartPolicy") is not None:
            c.forbidden(child(at, "restartPolicy"), "may not be set for non-init containers")
    _host_port_conflicts(c, containers, path)


def _init_containers(c: Causes, init, regular, volumes: dict, grace, path: str) -> None:
    names = {as_dict(x).get("name", "") for x in as_list(regular)}
    for i, container in enumerate(as_list(init)):
        container, at = as_dict(container), child(path, i)
        _container_common(c, container, volumes, at)
        policy = container.get("restartPolicy")
        if policy is not None and policy != "Always":
            c.not_supported(child(at, "restartPolicy"), policy, ["Always"])
        name = container.get("name") or ""
        if name in names:
            c.duplicate(child(at, "name"), name)
        elif name:
            names.add(name)
        _host_port_conflicts(c, [container], path)
        if policy == "Always":
            _probes_and_lifecycle(c, container, grace, at)
            continue
        for field in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
            if container.get(field) is not None:
                c.forbidden(child(at, field), _INIT_ONLY_ALWAYS)


def _tolerations(c: Causes, tolerations, path: str) -> None:
    for i, toleration in enumerate(as_list(tolerations)):
        toleration, at = as_dict(toleration), child(path, i)
        key, operator = toleration.get("key") or "", toleration.get("operator") or ""
        value, effect = toleration.get("value") or "", toleration.get("effect") or ""
        if key:
            c.check(child(at, "key"), key, is_qualified_name)
        if not key and operator != "Exists":
            c.invalid(child(at, "operator"), operator,
                      'operator must be Exists when `key` is empty, which means "match all values and all keys"')
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            c.invalid(child(at, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
        if operator in ("Equal", ""):
            problems = is_label_value(value)
            if problems:
                c.invalid(child(at, "operator"), value, ";".join(problems))
        elif operator == "Exists":
            if value:
                c.invalid(child(at, "operator"), value, "value must be empty when `operator` is 'Exists'")
        else:
            c.not_supported(child(at, "operator"), operator, ["Equal", "Exists"])
        if effect and effect not in TAINT_EFFECTS:
            c.not_supported(child(at, "effect"), effect, TAINT_EFFECTS)


def validate_pod_spec(c: Causes, spec, path: str) -> None:
    """ValidatePodSpec: what every pod and pod template must satisfy."""
    spec = as_dict(spec)
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is None:
        c.required(child(path, "terminationGracePeriodSeconds"))
    volumes = _volumes(c, spec.get("volumes"), child(path, "volumes"))
    _containers(c, spec.get("containers"), volumes, grace, child(path, "containers"))
    _init_containers(c, spec.get("initContainers"), spec.get("containers"), volumes, grace,
                     child(path, "initContainers"))
    c.one_of(child(path, "restartPolicy"), spec.get("restartPolicy"), ["Always", "OnFailure", "Never"])
    c.one_of(child(path, "dnsPolicy"), spec.get("dnsPolicy"),
             ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"])
    validate_labels(c, spec.get("nodeSelector"), child(path, "nodeSelector"))
    _security_context(c, spec.get("securityContext"), child(path, "securityContext"))
    if spec.get("dnsPolicy") == "None" and not isinstance(spec.get("dnsConfig"), dict):
        c.required(child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None")
    for field in ("serviceAccountName", "nodeName", "priorityClassName"):
        if spec.get(field):
            c.check(child(path, field), spec[field], is_dns1123_subdomain)
    deadline = spec.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and not 1 <= deadline <= MAX_INT32:
        c.invalid(child(path, "activeDeadlineSeconds"), deadline, range_error(1, MAX_INT32))
    for field in ("hostname", "subdomain"):
        if spec.get(field):
            c.check(child(path, field), spec[field], is_dns1123_label)
    _tolerations(c, spec.get("tolerations"), child(path, "tolerations"))


def template_meta(c: Causes, template: dict, path: str) -> None:
    meta = as_dict(template.get("metadata"))
    validate_labels(c, meta.get("labels"), child(path, "labels"))
    validate_annotations(c, meta.get("annotations"), child(path, "annotations"))


def validate_pod_template_spec(c: Causes, template, path: str) -> None:
    """ValidatePodTemplateSpec: labels and annotations at the template's own path, then the pod spec."""
    template = as_dict(template)
    template_meta(c, template, path)
    spec = as_dict(template.get("spec"))
    validate_pod_spec(c, spec, child(path, "spec"))
    if spec.get("ephemeralContainers"):
        c.forbidden(child(path, "spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template")


def template_selector_match(c: Causes, template: dict, matches: bool, path: str) -> None:
    if not matches:
        c.invalid(child(path, "metadata", "labels"), go_string_map(as_dict(template.get("metadata")).get("labels")),
                  "`selector` does not match template `labels`")


def controller_template(c: Causes, template, matches: bool, owner: str, path: str) -> None:
    """The pod template of a controller whose pods restart forever (RC, ReplicaSet, Deployment, DaemonSet)."""
    template = as_dict(template)
    template_selector_match(c, template, matches, path)
    validate_pod_template_spec(c, template, path)
    restarts_always(c, template, owner, path)


def restarts_always(c: Causes, template: dict, owner: str, path: str) -> None:
    spec = as_dict(template.get("spec"))
    if spec.get("restartPolicy") != "Always":
        c.not_supported(child(path, "spec", "restartPolicy"), spec.get("restartPolicy") or "", ["Always"])
    if spec.get("activeDeadlineSeconds") is not None:
        c.forbidden(child(path, "spec", "activeDeadlineSeconds"), f"activeDeadlineSeconds in {owner} is not Supported")
