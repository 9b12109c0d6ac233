"""The Pod Security Standards' checks, each a function of a pod's metadata and spec that answers
None (allowed) or (reason, detail) worded as kube's pod-security-admission words them.

`evaluate` runs them in kube's order (baseline checks by ID, then restricted ones by ID), leaving
out at the restricted level the baseline checks a restricted one supersedes (host paths, added
capabilities, seccomp), so that no violation is reported twice.
"""
from __future__ import annotations

BASELINE_CAPABILITIES = frozenset(("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                                   "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"))
SAFE_SYSCTLS = frozenset(("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
                          "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"))
SELINUX_TYPES = frozenset(("", "container_t", "container_init_t", "container_kvm_t"))
RESTRICTED_VOLUME_OK = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                        "projected", "secret")
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _q(names) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def _containers(spec: dict, name: str) -> str:
    return f"{_plural('container', 'containers', len(name))} {_q(name)}"


def _all_containers(spec: dict) -> list[dict]:
    return [c for key in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(key) or []]


def _sc(obj: dict) -> dict:
    return obj.get("securityContext") or {}


def _setters(pod_bad: bool, containers: list[str]) -> list[str]:
    return (["pod"] if pod_bad else []) + ([_containers({}, containers)] if containers else [])


def app_armor(meta, spec):
    bad_values: set[str] = set()
    pod_bad = (_sc(spec).get("appArmorProfile") or {}).get("type") == "Unconfined"
    if pod_bad:
        bad_values.add("Unconfined")
    bad = []
    for c in _all_containers(spec):
        if (_sc(c).get("appArmorProfile") or {}).get("type") == "Unconfined":
            bad.append(c.get("name", ""))
            bad_values.add("Unconfined")
    annotations = sorted(f'{k}="{v}"' for k, v in (meta.get("annotations") or {}).items()
                         if k.startswith(APPARMOR_ANNOTATION) and v and v != "runtime/default"
                         and not v.startswith("localhost/"))
    values = sorted(bad_values) + annotations
    if not values:
        return None
    return _plural("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)), ", ".join(values)


def host_namespaces(meta, spec):
    found = sorted(f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k))
    return ("host namespaces", ", ".join(found)) if found else None


def _offenders(spec: dict, bad_values) -> tuple[list[str], set[str]]:
    """The containers for which `bad_values(container)` names anything, and every value named."""
    names, values = [], set()
    for c in _all_containers(spec):
        found = bad_values(c)
        if found:
            names.append(c.get("name", ""))
            values.update(found)
    return names, values


def host_ports(meta, spec):
    bad, ports = _offenders(spec, lambda c: [str(p["hostPort"]) for p in c.get("ports") or [] if p.get("hostPort")])
    if not bad:
        return None
    return "hostPort", (f"{_containers(spec, bad)} {_plural('uses', 'use', len(bad))} "
                        f"{_plural('hostPort', 'hostPorts', len(ports))} {', '.join(sorted(ports))}")


def privileged(meta, spec):
    bad = [c.get("name", "") for c in _all_containers(spec) if _sc(c).get("privileged") is True]
    return ("privileged", f"{_containers(spec, bad)} must not set securityContext.privileged=true") if bad else None


def proc_mount(meta, spec):
    if spec.get("hostUsers") is False:
        return None  # user namespaces relax it
    bad, kinds = _offenders(spec, lambda c: [m] if (m := _sc(c).get("procMount")) not in (None, "Default") else [])
    if not bad:
        return None
    return "procMount", f"{_containers(spec, bad)} must not set securityContext.procMount to {_q(sorted(kinds))}"


def se_linux(meta, spec):
    bad_types: set[str] = set()
    flags = {"user": False, "role": False}

    def valid(opts: dict) -> bool:
        ok = True
        if (opts.get("type") or "") not in SELINUX_TYPES:
            bad_types.add(opts["type"])
            ok = False
        for key in ("user", "role"):
            if opts.get(key):
                flags[key] = ok = False
        return ok
    pod_opts = _sc(spec).get("seLinuxOptions")
    pod_bad = pod_opts is not None and not valid(pod_opts)
    bad = [c.get("name", "") for c in _all_containers(spec)
           if _sc(c).get("seLinuxOptions") is not None and not valid(_sc(c)["seLinuxOptions"])]
    setters = _setters(pod_bad, bad)
    if not setters:
        return None
    data = []
    if bad_types:
        data.append(f"{_plural('type', 'types', len(bad_types))} {_q(sorted(bad_types))}")
    # kube names user and role only after a bad type (its message's own quirk).
    if bad_types and flags["user"]:
        data.append("user may not be set")
    if bad_types and flags["role"]:
        data.append("role may not be set")
    return "seLinuxOptions", f"{' and '.join(setters)} set forbidden securityContext.seLinuxOptions: {'; '.join(data)}"


def sysctls(meta, spec):
    bad = [s.get("name", "") for s in _sc(spec).get("sysctls") or [] if s.get("name") not in SAFE_SYSCTLS]
    return ("forbidden sysctls", ", ".join(bad)) if bad else None


def capabilities_baseline(meta, spec):
    bad, caps = _offenders(spec, lambda c: [a for a in (_sc(c).get("capabilities") or {}).get("add") or []
                                            if a not in BASELINE_CAPABILITIES])
    if not bad:
        return None
    return "non-default capabilities", (f"{_containers(spec, bad)} must not include {_q(sorted(caps))} in "
                                        "securityContext.capabilities.add")


def host_path_volumes(meta, spec):
    bad = [v.get("name", "") for v in spec.get("volumes") or [] if v.get("hostPath") is not None]
    return ("hostPath volumes", f"{_plural('volume', 'volumes', len(bad))} {_q(bad)}") if bad else None


def _seccomp_ok(profile: dict) -> bool:
    return profile.get("type") in ("RuntimeDefault", "Localhost")


def _seccomp(spec, restricted: bool):
    bad_values: set[str] = set()
    pod_profile = _sc(spec).get("seccompProfile")
    pod_bad = pod_profile is not None and not _seccomp_ok(pod_profile)
    if pod_bad:
        bad_values.add(pod_profile.get("type") or "")
    pod_set = pod_profile is not None and not pod_bad
    explicit, implicit = [], []
    for c in _all_containers(spec):
        profile = _sc(c).get("seccompProfile")
        if profile is not None:
            if not _seccomp_ok(profile):
                explicit.append(c.get("name", ""))
                bad_values.add(profile.get("type") or "")
        elif not pod_set:
            implicit.append(c.get("name", ""))
    setters = _setters(pod_bad, explicit)
    if setters:
        return "seccompProfile", (f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to "
                                  f"{_q(sorted(bad_values))}")
    if restricted and implicit:
        return "seccompProfile", (f'pod or {_containers(spec, implicit)} must set securityContext.seccompProfile.type '
                                  'to "RuntimeDefault" or "Localhost"')
    return None


def seccomp_baseline(meta, spec):
    return _seccomp(spec, False)


def seccomp_restricted(meta, spec):
    return _seccomp(spec, True)


def allow_privilege_escalation(meta, spec):
    bad = [c.get("name", "") for c in _all_containers(spec) if _sc(c).get("allowPrivilegeEscalation") is not False]
    if not bad:
        return None
    return "allowPrivilegeEscalation != false", (f"{_containers(spec, bad)} must set "
                                                 "securityContext.allowPrivilegeEscalation=false")


def capabilities_restricted(meta, spec):
    missing_drop, adding, caps = [], [], set()
    for c in _all_containers(spec):
        capabilities = _sc(c).get("capabilities")
        if capabilities is None:
            missing_drop.append(c.get("name", ""))
            continue
        if "ALL" not in (capabilities.get("drop") or []):
            missing_drop.append(c.get("name", ""))
        added = [a for a in capabilities.get("add") or [] if a != "NET_BIND_SERVICE"]
        if added:
            adding.append(c.get("name", ""))
            caps.update(added)
    details = []
    if missing_drop:
        details.append(f'{_containers(spec, missing_drop)} must set securityContext.capabilities.drop=["ALL"]')
    if adding:
        details.append(f"{_containers(spec, adding)} must not include {_q(sorted(caps))} in "
                       "securityContext.capabilities.add")
    return ("unrestricted capabilities", "; ".join(details)) if details else None


def restricted_volumes(meta, spec):
    bad = sorted({v.get("name", "") for v in spec.get("volumes") or []
                  if not any(v.get(k) is not None for k in RESTRICTED_VOLUME_OK)})
    if not bad:
        return None
    # Go's %q of a string slice: ["a" "b"]
    return "restricted volume types", f"volumes [{' '.join(chr(34) + n + chr(34) for n in bad)}] have restricted types"


def _non_root_or_user(spec, key: str, bad_value, reason: str, must_not: str, must: str | None):
    pod_value = _sc(spec).get(key)
    pod_bad = pod_value is not None and pod_value == bad_value
    pod_good = pod_value is not None and not pod_bad
    explicit, implicit = [], []
    for c in _all_containers(spec):
        value = _sc(c).get(key)
        if value is not None:
            if value == bad_value:
                explicit.append(c.get("name", ""))
        elif not pod_good:
            implicit.append(c.get("name", ""))
    setters = _setters(pod_bad, explicit)
    if setters:
        return reason, f"{' and '.join(setters)} {must_not}"
    if must and implicit:
        return reason, f"pod or {_containers(spec, implicit)} {must}"
    return None


def run_as_non_root(meta, spec):
    if spec.get("hostUsers") is False:
        return None
    return _non_root_or_user(spec, "runAsNonRoot", False, "runAsNonRoot != true",
                             "must not set securityContext.runAsNonRoot=false",
                             "must set securityContext.runAsNonRoot=true")


def run_as_user(meta, spec):
    if spec.get("hostUsers") is False:
        return None
    return _non_root_or_user(spec, "runAsUser", 0, "runAsUser=0", "must not set runAsUser=0", None)


# (check, first policy minor version it applies to, superseded by a restricted check), in kube's
# order: baseline checks sorted by ID, then restricted ones sorted by ID.
BASELINE = ((app_armor, 0, False), (capabilities_baseline, 0, True), (host_namespaces, 0, False),
            (host_path_volumes, 0, True), (host_ports, 0, False), (privileged, 0, False), (proc_mount, 0, False),
            (se_linux, 0, False), (seccomp_baseline, 19, True), (sysctls, 0, False))
RESTRICTED = ((allow_privilege_escalation, 8, False), (capabilities_restricted, 22, False),
              (restricted_volumes, 0, False), (run_as_non_root, 0, False), (run_as_user, 23, False),
              (seccomp_restricted, 19, False))


def violations(level: str, minor: int | None, meta: dict, spec: dict) -> list[tuple[str, str]]:
    """(reason, detail) of each check of `level` at policy version 1.`minor` (None: latest) that
    the pod fails, in kube's order."""
    if level == "privileged":
        return []
    restricted = level == "restricted"
    found = []
    for check, since, superseded in BASELINE + (RESTRICTED if restricted else ()):
        if (minor is not None and minor < since) or (restricted and superseded):
            continue
        result = check(meta, spec)
        if result:
            found.append(result)
    return found


def evaluate(level: str, minor: int | None, meta: dict, spec: dict) -> str:
    """kube's AggregateCheckResult.ForbiddenDetail(): each reason with its detail; "" for a pass."""
    return ", ".join(f"{reason} ({detail})" if detail else reason
                     for reason, detail in violations(level, minor, meta, spec))


def reasons(level: str, minor: int | None, meta: dict, spec: dict) -> str:
    """kube's AggregateCheckResult.ForbiddenReason(): the reasons alone."""
    return ", ".join(reason for reason, _ in violations(level, minor, meta, spec))
