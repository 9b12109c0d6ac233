"""The rules of the core group's kinds (pkg/apis/core/validation): Pods and their updates,
PodTemplates, ReplicationControllers, Services, ConfigMaps and Secrets, Namespaces, Nodes,
PersistentVolumes and their claims. Each rule takes the causes, the object and the stored object
on update (None on create).
"""
from __future__ import annotations

from admission.gofmt import Go, go_interface, go_quote
from admission.validation.fielderrors import Causes, child, IMMUTABLE, keyed
from admission.validation.formats import quantity_or_none, quantity_text
from admission.validation.names import (is_config_map_key, is_dns1123_label, is_dns1123_subdomain, is_ip,
                                        is_label_value, is_qualified_name, is_valid_port_num, range_error)
from admission.validation.objects import as_dict, as_list, diff, semantic, without
from admission.validation.rules.meta import validate_kube_finalizer_name, validate_label_selector, validate_labels
from admission.validation.rules.podspec import (controller_template, MAX_INT32, port_num_or_name, PROTOCOLS,
                                                TAINT_EFFECTS, validate_pod_spec, validate_pod_template_spec)

_UPDATABLE_POD_FIELDS = ",".join((
    "`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))


def validate_pod(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    validate_pod_spec(c, spec, "spec")
    for field in ("containers", "initContainers"):
        for i, container in enumerate(as_list(spec.get(field))):
            image = as_dict(container).get("image") or ""
            if image != image.strip():
                c.invalid(child("spec", field, i, "image"), image, "must not have leading or trailing whitespace")
    if old is None:
        if spec.get("ephemeralContainers"):
            c.forbidden("spec.ephemeralContainers", "cannot be set on create")
        return
    _pod_update(c, spec, as_dict(old.get("spec")))


def _pod_update(c: Causes, spec: dict, old_spec: dict) -> None:
    munged = dict(spec)
    for field in ("containers", "initContainers"):
        new, previous = as_list(spec.get(field)), as_list(old_spec.get(field))
        if len(new) != len(previous):
            c.forbidden(child("spec", field), "pod updates may not add or remove containers")
            return
        munged[field] = [{**as_dict(n), "image": as_dict(o).get("image")} for n, o in zip(new, previous)]
    deadline, old_deadline = spec.get("activeDeadlineSeconds"), old_spec.get("activeDeadlineSeconds")
    if deadline is not None:
        if not 0 <= deadline <= MAX_INT32:
            c.invalid("spec.activeDeadlineSeconds", deadline, range_error(0, MAX_INT32))
            return
        if old_deadline is not None and old_deadline < deadline:
            c.invalid("spec.activeDeadlineSeconds", deadline, "must be less than or equal to previous value")
            return
    elif old_deadline is not None:
        c.invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value")
    def without_seconds(tolerations) -> list:
        return [without(as_dict(t), ("tolerationSeconds",)) for t in as_list(tolerations)]
    kept = without_seconds(spec.get("tolerations"))
    if any(t not in kept for t in without_seconds(old_spec.get("tolerations"))):
        c.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")
    added_gates = [g for g in as_list(spec.get("schedulingGates")) if g not in as_list(old_spec.get("schedulingGates"))]
    for gate in added_gates:
        i = spec["schedulingGates"].index(gate)
        c.forbidden(child("spec", "schedulingGates", i, "name"),
                    f"only deletion is allowed, but found new scheduling gate '{as_dict(gate).get('name', '')}'")
    munged.update({"activeDeadlineSeconds": old_deadline, "tolerations": old_spec.get("tolerations"),
                   "schedulingGates": old_spec.get("schedulingGates")})
    if semantic(munged) != semantic(old_spec):
        c.forbidden("spec", f"pod updates may not change fields other than {_UPDATABLE_POD_FIELDS}\n"
                    + "\n".join(diff(semantic(old_spec), semantic(munged))))


def validate_pod_template(c: Causes, obj: dict, old: dict | None) -> None:
    validate_pod_template_spec(c, obj.get("template"), "template")


def validate_replication_controller(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    c.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    selector = as_dict(spec.get("selector"))
    if not selector:
        c.required("spec.selector")
    c.nonnegative("spec.replicas", spec.get("replicas"))
    template = spec.get("template")
    if not isinstance(template, dict):
        c.required("spec.template")
        return
    labels = as_dict(as_dict(template.get("metadata")).get("labels"))
    matches = not selector or all(labels.get(k) == v for k, v in selector.items())
    controller_template(c, template, matches, "ReplicationController", "spec.template")


_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def _cluster_ips(spec: dict) -> list:
    """The strategy's normalizeClusterIPs: clusterIP names the first entry."""
    ips = list(as_list(spec.get("clusterIPs")))
    if spec.get("clusterIP"):
        ips[:1] = [spec["clusterIP"]]
    return ips


def validate_service(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    kind, ports = spec.get("type"), [as_dict(p) for p in as_list(spec.get("ports"))]
    ips = _cluster_ips(spec)
    headless = ips[:1] == ["None"]
    if old is not None:
        _service_ip_update(c, spec, as_dict(old.get("spec")))
    if not ports and not headless and kind != "ExternalName":
        c.required("spec.ports")
    if kind in ("LoadBalancer", "NodePort") and headless:
        c.invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services")
    if kind == "ExternalName":
        name = (spec.get("externalName") or "").removesuffix(".")
        if name:
            c.check("spec.externalName", name, is_dns1123_subdomain)
        else:
            c.required("spec.externalName")
    names = set()
    for i, port in enumerate(ports):
        at, name = child("spec.ports", i), port.get("name") or ""
        if len(ports) > 1 and not name:
            c.required(child(at, "name"))
        elif name:
            c.check(child(at, "name"), name, is_dns1123_label)
            if name in names:
                c.duplicate(child(at, "name"), name)
            names.add(name)
        c.check(child(at, "port"), port.get("port") or 0, is_valid_port_num)
        c.one_of(child(at, "protocol"), port.get("protocol"), PROTOCOLS)
        port_num_or_name(c, port.get("targetPort"), child(at, "targetPort"))
        if port.get("appProtocol") is not None:
            c.check(child(at, "appProtocol"), port["appProtocol"], is_qualified_name)
    validate_labels(c, spec.get("selector"), "spec.selector")
    affinity = spec.get("sessionAffinity")
    c.one_of("spec.sessionAffinity", affinity, ["ClientIP", "None"])
    if affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        c.forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")
    if affinity == "ClientIP":
        _client_ip_config(c, spec.get("sessionAffinityConfig"), "spec.sessionAffinityConfig")
    for i, ip in enumerate(ips):
        if ip != "None" and not is_ip(ip):
            c.invalid(child("spec.clusterIPs", i), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
    for i, ip in enumerate(as_list(spec.get("externalIPs"))):
        if not is_ip(str(ip)):
            c.invalid(child("spec.externalIPs", i), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
    c.one_of("spec.type", kind, _SERVICE_TYPES)
    _service_ports_by_type(c, spec, ports)
    _service_traffic_policies(c, spec)


def _client_ip_config(c: Causes, config, path: str) -> None:
    why = "when session affinity type is ClientIP"
    client_ip = as_dict(config).get("clientIP")
    timeout = as_dict(client_ip).get("timeoutSeconds")
    if not isinstance(config, dict):
        c.required(path, why)
    elif not isinstance(client_ip, dict):
        c.required(child(path, "clientIP"), why)
    elif timeout is None:
        c.required(child(path, "clientIP", "timeoutSeconds"), why)
    elif not 0 < timeout <= 86400:
        c.invalid(child(path, "clientIP", "timeoutSeconds"), timeout, "must be greater than 0 and less than 86400")


def _go_service_port_key(port: dict) -> Go:
    return Go(f"core.ServicePort{{Name:\"\", Protocol:{go_quote(port.get('protocol') or '')}, "
              f"AppProtocol:(*string)(nil), Port:{port.get('port') or 0}, "
              "TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}")


def _service_ports_by_type(c: Causes, spec: dict, ports: list[dict]) -> None:
    kind = spec.get("type")
    node_ports, keys = set(), []
    for i, port in enumerate(ports):
        at = child("spec.ports", i)
        if kind == "ClusterIP" and port.get("nodePort"):
            c.forbidden(child(at, "nodePort"), "may not be used when `type` is 'ClusterIP'")
        if port.get("nodePort"):
            key = (port.get("protocol"), port["nodePort"])
            if key in node_ports:
                c.duplicate(child(at, "nodePort"), port["nodePort"])
            node_ports.add(key)
        key = (port.get("protocol"), port.get("port"))
        if key in keys:
            c.duplicate(at, _go_service_port_key(port))
        keys.append(key)
    if spec.get("loadBalancerSourceRanges") and kind != "LoadBalancer":
        c.forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'")
    if spec.get("allocateLoadBalancerNodePorts") is not None and kind != "LoadBalancer":
        c.forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'")
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        c.required("allocateLoadBalancerNodePorts")


def _service_traffic_policies(c: Causes, spec: dict) -> None:
    kind, external = spec.get("type"), spec.get("externalTrafficPolicy")
    if kind in ("NodePort", "LoadBalancer") or (kind == "ClusterIP" and spec.get("externalIPs")):
        c.one_of("spec.externalTrafficPolicy", external, ["Cluster", "Local"])
    elif external:
        c.invalid("spec.externalTrafficPolicy", external, "may only be set for externally-accessible services")
    internal = spec.get("internalTrafficPolicy")
    if internal is None and kind in ("NodePort", "LoadBalancer", "ClusterIP"):
        c.required("spec.internalTrafficPolicy")
    elif internal is not None and internal not in ("Cluster", "Local"):
        c.not_supported("spec.internalTrafficPolicy", internal, ["Cluster", "Local"])


def _service_ip_update(c: Causes, spec: dict, old_spec: dict) -> None:
    # A write that leaves the addresses out keeps the allocated ones; only a different one is a change.
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    new, previous = _cluster_ips(spec), _cluster_ips(old_spec)
    if not new or (new[:1] == ["None"] and previous[:1] == ["None"]):
        return
    for i, ip in enumerate(previous[:len(new)]):
        if new[i] != ip:
            c.invalid(child("spec.clusterIPs", i), new, "may not change once set")


_MAX_SECRET_SIZE = 1024 * 1024


def _data_keys(c: Causes, data: dict, path: str) -> None:
    for key in data:
        c.check(keyed(path, key), key, is_config_map_key)


def _decoded_size(values) -> int:
    return sum(len(v) * 3 // 4 - v.count("=") for v in values if isinstance(v, str))


def _frozen_data(c: Causes, obj: dict, old: dict | None, fields: tuple[str, ...]) -> None:
    if old is None or old.get("immutable") is not True:
        return
    if obj.get("immutable") is not True:
        c.forbidden("immutable", "field is immutable when `immutable` is set")
    for field in fields:
        if as_dict(obj.get(field)) != as_dict(old.get(field)):
            c.forbidden(field, "field is immutable when `immutable` is set")


def validate_config_map(c: Causes, obj: dict, old: dict | None) -> None:
    _frozen_data(c, obj, old, ("data", "binaryData"))
    data, binary = as_dict(obj.get("data")), as_dict(obj.get("binaryData"))
    _data_keys(c, data, "data")
    for key in data:
        if key in binary:
            c.invalid(keyed("data", key), key, "duplicate of key present in binaryData")
    _data_keys(c, binary, "binaryData")
    if sum(len(str(v).encode()) for v in data.values()) + _decoded_size(binary.values()) > _MAX_SECRET_SIZE:
        # kube reports the whole object, under an empty path.
        c.too_long("", _MAX_SECRET_SIZE)


_SECRET_REQUIRED_KEYS = {"kubernetes.io/dockercfg": (".dockercfg",),
                         "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
                         "kubernetes.io/ssh-auth": ("ssh-privatekey",), "kubernetes.io/tls": ("tls.crt", "tls.key")}


def validate_secret(c: Causes, obj: dict, old: dict | None) -> None:
    _frozen_data(c, obj, old, ("data",))
    kind, data = obj.get("type") or "", as_dict(obj.get("data"))
    _data_keys(c, data, "data")
    if _decoded_size(data.values()) > _MAX_SECRET_SIZE:
        c.too_long("data", _MAX_SECRET_SIZE)
    if kind == "kubernetes.io/service-account-token":
        if not as_dict(as_dict(obj.get("metadata")).get("annotations")).get("kubernetes.io/service-account.name"):
            c.required("metadata.annotations[kubernetes.io/service-account.name]")
    elif kind == "kubernetes.io/basic-auth" and "username" not in data and "password" not in data:
        c.required("data[username]")
        c.required("data[password]")
    for key in _SECRET_REQUIRED_KEYS.get(kind, ()):
        if key not in data:
            c.required(keyed("data", key))
            if kind != "kubernetes.io/tls":
                break


def validate_namespace(c: Causes, obj: dict, old: dict | None) -> None:
    for f in as_list(as_dict(obj.get("spec")).get("finalizers")):
        c.check("spec.finalizers", f, is_qualified_name)
        validate_kube_finalizer_name(c, f, "spec.finalizers")


def _taints(c: Causes, taints, path: str) -> None:
    seen = set()
    for i, taint in enumerate(as_list(taints)):
        taint, at = as_dict(taint), child(path, i)
        c.check(child(at, "key"), taint.get("key") or "", is_qualified_name)
        problems = is_label_value(taint.get("value") or "")
        if problems:
            c.invalid(child(at, "value"), taint.get("value") or "", ";".join(problems))
        c.one_of(child(at, "effect"), taint.get("effect"), TAINT_EFFECTS)
        key = (taint.get("key"), taint.get("effect"))
        if key in seen:
            c.duplicate(at, Go(go_interface(taint)), "taints must be unique by key and effect pair")
        seen.add(key)


def validate_node(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    # kube names the node's taints under metadata, not spec, in these messages.
    _taints(c, spec.get("taints"), "metadata.taints")
    if old is None:
        return
    old_spec = as_dict(old.get("spec"))
    if old_spec.get("podCIDRs") and as_list(spec.get("podCIDRs")) != old_spec["podCIDRs"]:
        c.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
    if old_spec.get("providerID") and spec.get("providerID") != old_spec["providerID"]:
        c.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid')


_ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
_PV_SOURCES = ("hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd",
               "quobyte", "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume",
               "photonPersistentDisk", "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi")
_PV_NOT_SOURCES = ("accessModes", "capacity", "claimRef", "mountOptions", "nodeAffinity",
                   "persistentVolumeReclaimPolicy", "storageClassName", "volumeMode", "volumeAttributesClassName")


def _access_modes(c: Causes, modes: list, path: str, missing_detail: str) -> None:
    if not modes:
        c.required(path, missing_detail)
    for mode in modes:
        if mode not in _ACCESS_MODES:
            c.not_supported(path, mode, _ACCESS_MODES)
    if "ReadWriteOncePod" in modes and any(m in _ACCESS_MODES and m != "ReadWriteOncePod" for m in modes):
        c.forbidden(path, "may not use ReadWriteOncePod with other access modes")


def _volume_mode(c: Causes, spec: dict, path: str) -> None:
    if spec.get("volumeMode") is not None and spec["volumeMode"] not in ("Block", "Filesystem"):
        c.not_supported(path, spec["volumeMode"], ["Block", "Filesystem"])


def validate_persistent_volume(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    _access_modes(c, as_list(spec.get("accessModes")), "spec.accessModes", "")
    capacity = as_dict(spec.get("capacity"))
    if not capacity:
        c.required("spec.capacity")
    if "storage" not in capacity or len(capacity) > 1:
        c.not_supported("spec.capacity", capacity, ["storage"])
    for name, value in capacity.items():
        quantity = quantity_or_none(value)
        if quantity is not None and quantity <= 0:
            c.invalid(keyed("spec.capacity", name), quantity_text(value), "must be greater than zero")
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in ("Delete", "Recycle", "Retain"):
        c.not_supported("spec.persistentVolumeReclaimPolicy", policy, ["Delete", "Recycle", "Retain"])
    source = c.exactly_one(spec, _PV_SOURCES, "spec", "volume type")
    if source == "local" and spec.get("nodeAffinity") is None:
        c.required("spec.nodeAffinity", "Local volume requires node affinity")
    if spec.get("storageClassName"):
        c.check("spec.storageClassName", spec["storageClassName"], is_dns1123_subdomain)
    _volume_mode(c, spec, "spec.volumeMode")
    if old is None:
        return
    old_spec = as_dict(old.get("spec"))
    sources = without(spec, _PV_NOT_SOURCES)
    old_sources = without(old_spec, _PV_NOT_SOURCES)
    if semantic(sources) != semantic(old_sources):
        c.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation\n"
                    + "\n".join(diff(semantic(old_sources), semantic(sources))))
    if spec.get("volumeMode") != old_spec.get("volumeMode"):
        # kube names these two without their spec prefix.
        c.invalid("volumeMode", spec.get("volumeMode"), IMMUTABLE)


def validate_persistent_volume_claim(c: Causes, obj: dict, old: dict | None) -> None:
    spec = as_dict(obj.get("spec"))
    _access_modes(c, as_list(spec.get("accessModes")), "spec.accessModes", "at least 1 access mode is required")
    if spec.get("selector") is not None:
        validate_label_selector(c, spec["selector"], "spec.selector")
    requests = as_dict(as_dict(spec.get("resources")).get("requests"))
    storage = quantity_or_none(requests.get("storage")) if "storage" in requests else None
    if "storage" not in requests:
        c.required("spec.resources[storage]")
    elif storage is not None and storage <= 0:
        c.invalid("spec.resources[storage]", quantity_text(requests["storage"]), "must be greater than zero")
    if spec.get("storageClassName"):
        c.check("spec.storageClassName", spec["storageClassName"], is_dns1123_subdomain)
    _volume_mode(c, spec, "spec.volumeMode")
    if old is not None:
        _pvc_update(c, obj, old)


def _pvc_update(c: Causes, obj: dict, old: dict) -> None:
    spec, old_spec = as_dict(obj.get("spec")), as_dict(old.get("spec"))
    bound = as_dict(obj.get("status")).get("phase") == "Bound"
    mutable = {"volumeName"} if not old_spec.get("volumeName") else set()
    if bound:
        mutable |= {"resources", "volumeAttributesClassName"}
    rest = without(spec, mutable)
    old_rest = without(old_spec, mutable)
    if bound:
        # Only the storage request may change on a bound claim.
        for target, source in ((rest, spec), (old_rest, old_spec)):
            requests = as_dict(as_dict(source.get("resources")).get("requests"))
            requests = without(requests, ("storage",))
            target["resources"] = {**as_dict(source.get("resources")), "requests": requests}
    if semantic(rest) != semantic(old_rest):
        c.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName "
                            "for bound claims\n" + "\n".join(diff(semantic(old_rest), semantic(rest))))
    new_size = quantity_or_none(as_dict(as_dict(spec.get("resources")).get("requests")).get("storage"))
    old_size = quantity_or_none(as_dict(as_dict(old_spec.get("resources")).get("requests")).get("storage"))
    capacity = quantity_or_none(as_dict(as_dict(old.get("status")).get("capacity")).get("storage") or 0)
    if new_size is not None and old_size is not None and new_size < old_size and new_size <= capacity:
        c.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity")
    if spec.get("volumeMode") != old_spec.get("volumeMode"):
        c.invalid("volumeMode", spec.get("volumeMode"), IMMUTABLE)
