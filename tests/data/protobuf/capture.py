"""Regenerate the protobuf/JSON fixture pairs in this directory.

kubectl 1.32+ sends typed create bodies as Kubernetes protobuf, kubectl 1.27-1.31 as JSON; the
same command run by both gives a protobuf body and the JSON that body must decode to. This
script runs each command against a recording stub (plain HTTP on 127.0.0.1, legacy discovery
only) and writes <name>.pb (kubectl 1.33) and <name>.json (kubectl 1.31).

    /tmp/venv/bin/python tests/data/protobuf/capture.py [--kubectl-dir DIR]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import pathlib
import sys
import tempfile

from aiohttp import web

HERE = pathlib.Path(__file__).resolve().parent
PROTOBUF = "application/vnd.kubernetes.protobuf"

# (group, version, plural, kind, namespaced, subresources); just what the commands below resolve.
RESOURCES = [
    ("", "v1", "namespaces", "Namespace", False, ()),
    ("", "v1", "nodes", "Node", False, ()),
    ("", "v1", "configmaps", "ConfigMap", True, ()),
    ("", "v1", "secrets", "Secret", True, ()),
    ("", "v1", "serviceaccounts", "ServiceAccount", True,
     (("token", "authentication.k8s.io", "v1", "TokenRequest"),)),
    ("", "v1", "services", "Service", True, ()),
    ("", "v1", "resourcequotas", "ResourceQuota", True, ()),
    ("", "v1", "pods", "Pod", True, ()),
    ("apps", "v1", "deployments", "Deployment", True, ()),
    ("batch", "v1", "jobs", "Job", True, ()),
    ("batch", "v1", "cronjobs", "CronJob", True, ()),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", True, ()),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, ()),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, ()),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False, ()),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ()),
    ("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, ()),
    ("networking.k8s.io", "v1", "ingresses", "Ingress", True, ()),
    ("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False, ()),
    ("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False, ()),
]

# A pod touching inline structs (volume sources, key selectors, probe handlers), pointer
# fields set to zero/false (which must survive decoding) and non-pointer fields left at zero.
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p1", "namespace": "default", "labels": {"app": "p1"},
                 "annotations": {"empty": ""}},
    "spec": {
        "terminationGracePeriodSeconds": 0,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {"runAsUser": 1000, "fsGroup": 0, "runAsNonRoot": True},
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0}],
        "nodeSelector": {"disk": "ssd"},
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]}}},
        "volumes": [
            {"name": "scratch", "emptyDir": {}},
            {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
            {"name": "cfg", "configMap": {"name": "cm1", "defaultMode": 420, "optional": False,
                                          "items": [{"key": "a", "path": "a.txt"}]}},
            {"name": "sec", "secret": {"secretName": "s1"}},
            {"name": "token", "projected": {"sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600, "audience": "api"}},
                {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}]}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "pvc1"}},
        ],
        "containers": [{
            "name": "p1",
            "image": "nginx",
            "args": ["--flag", ""],
            "env": [
                {"name": "EMPTY", "value": ""},
                {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "cm1", "key": "a"}}},
                {"name": "FROM_SECRET",
                 "valueFrom": {"secretKeyRef": {"name": "s1", "key": "user", "optional": True}}},
                {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}},
            ],
            "envFrom": [{"configMapRef": {"name": "cm1"}, "prefix": "CM_"}],
            "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "0"}},
            "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg", "readOnly": True},
                             {"name": "scratch", "mountPath": "/tmp"}],
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": 80,
                                          "httpHeaders": [{"name": "X", "value": "y"}]},
                              "periodSeconds": 10, "terminationGracePeriodSeconds": 0},
            "readinessProbe": {"tcpSocket": {"port": "http"}, "failureThreshold": 3},
            "startupProbe": {"exec": {"command": ["true"]}},
            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False,
                                "runAsUser": 0, "capabilities": {"drop": ["ALL"]}},
            "imagePullPolicy": "IfNotPresent",
        }],
    },
}

CRONJOB = {
    "apiVersion": "batch/v1", "kind": "CronJob",
    "metadata": {"name": "c1", "namespace": "default", "uid": "0f7e5a8c-0000-4000-8000-000000000002",
                 "creationTimestamp": "2024-01-02T03:04:05Z", "annotations": {"note": "x"}},
    "spec": {"schedule": "@hourly", "successfulJobsHistoryLimit": 0, "suspend": False,
             "jobTemplate": {"metadata": {"labels": {"job": "c1"}}, "spec": {
                 "backoffLimit": 0, "ttlSecondsAfterFinished": 0, "completions": 1, "parallelism": 1,
                 "activeDeadlineSeconds": 600, "podFailurePolicy": {"rules": [{"action": "FailJob", "onExitCodes": {
                     "operator": "In", "values": [1, 42]}}]},
                 "template": {"spec": {"restartPolicy": "Never", "containers": [
                     {"name": "c", "image": "busybox", "command": ["date"]}]}}}}},
}

# GET answers the commands that read an object first
OBJECTS = {"/api/v1/namespaces/default/pods/p1": POD, "/apis/batch/v1/namespaces/default/cronjobs/c1": CRONJOB}

# fixture name -> kubectl arguments (after the global flags)
COMMANDS = {
    "namespace": ["create", "namespace", "ns1"],
    "configmap": ["create", "configmap", "cm1", "--from-literal=a=1", "--from-literal=b=two"],
    "secret-generic": ["create", "secret", "generic", "s1", "--from-literal=user=admin", "--type=Opaque"],
    "secret-tls": ["create", "secret", "tls", "tls1", "--cert={cert}", "--key={key}"],
    "secret-docker-registry": ["create", "secret", "docker-registry", "reg1", "--docker-server=r.example.com",
                               "--docker-username=u", "--docker-password=p", "--docker-email=u@example.com"],
    "serviceaccount": ["create", "serviceaccount", "sa1"],
    "deployment-replicas0": ["create", "deployment", "d0", "--image=nginx", "--replicas=0"],
    "deployment-replicas3": ["create", "deployment", "d3", "--image=nginx:1.27", "--replicas=3", "--port=80"],
    "job": ["create", "job", "j1", "--image=busybox", "--", "sh", "-c", "echo hi"],
    "cronjob": ["create", "cronjob", "c1", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"],
    "role": ["create", "role", "r1", "--verb=get,list", "--resource=pods,configmaps"],
    "rolebinding": ["create", "rolebinding", "rb1", "--role=r1", "--user=alice", "--serviceaccount=default:sa1"],
    "clusterrole": ["create", "clusterrole", "cr1", "--verb=get", "--resource=nodes",
                    "--non-resource-url=/healthz"],
    "clusterrolebinding": ["create", "clusterrolebinding", "crb1", "--clusterrole=cr1", "--group=devs"],
    "service-clusterip": ["create", "service", "clusterip", "svc1", "--tcp=80:8080", "--tcp=443:https"],
    "service-headless": ["create", "service", "clusterip", "svc2", "--clusterip=None"],
    "quota": ["create", "quota", "q1", "--hard=cpu=1,memory=1Gi,pods=10", "--scopes=NotBestEffort"],
    "pdb-min-available": ["create", "pdb", "pdb1", "--selector=app=web", "--min-available=1"],
    "pdb-max-unavailable": ["create", "pdb", "pdb2", "--selector=app=web", "--max-unavailable=50%"],
    "priorityclass": ["create", "priorityclass", "pc1", "--value=1000", "--description=high",
                      "--preemption-policy=Never"],
    "priorityclass-zero": ["create", "priorityclass", "pc0", "--value=0", "--global-default"],
    "ingress": ["create", "ingress", "ing1", "--class=nginx", "--rule=foo.com/bar*=svc1:8080,tls=cert1",
                "--annotation=a=b"],
    "token": ["create", "token", "sa1", "--duration=1h", "--audience=api"],
    "token-bound": ["create", "token", "sa1", "--bound-object-kind=Pod", "--bound-object-name=p1",
                    "--bound-object-uid=0f7e5a8c-0000-4000-8000-000000000001"],
    "job-from-cronjob": ["create", "job", "j2", "--from=cronjob/c1"],
    "can-i": ["auth", "can-i", "get", "pods"],
    "can-i-subresource": ["auth", "can-i", "create", "pods", "--subresource=log", "-n", "kube-system"],
    "whoami": ["auth", "whoami"],
    # kubectl run sends JSON even in 1.33; debug --copy-to reads a pod and creates its copy with the
    # typed client, so the stub's POD reaches the wire in protobuf.
    "pod-copy": ["debug", "p1", "--copy-to=p1-copy", "--image=busybox", "--container=debugger",
                 "--share-processes", "--", "sleep", "1"],
}


class Stub:
    """Answers legacy discovery and records every write's body.

    With an `echo`, it answers a protobuf write with echo(body) in protobuf (tests use it to have
    kubectl read vapi's encoding back).
    """

    def __init__(self, echo=None):
        self.echo = echo
        self.bodies: list[tuple[str, bytes]] = []
        self.kinds = {}  # plural or plural/sub -> (apiVersion, kind)
        for group, version, plural, kind, _, subs in RESOURCES:
            self.kinds[plural] = (f"{group}/{version}" if group else version, kind)
            for sub, sgroup, sversion, skind in subs:
                self.kinds[f"{plural}/{sub}"] = (f"{sgroup}/{sversion}", skind)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/version", self.version)
        app.router.add_get("/api", self.api)
        app.router.add_get("/apis", self.apis)
        app.router.add_get("/api/{version}", self.resource_list)
        app.router.add_get("/apis/{group}/{version}", self.resource_list)
        app.router.add_route("*", "/{tail:.*}", self.write)
        return app

    async def version(self, request):
        return web.json_response({"major": "1", "minor": "33", "gitVersion": "v1.33.0"})

    async def api(self, request):
        return web.json_response({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": request.host}]})

    async def apis(self, request):
        groups = {}
        for group, version, *_ in RESOURCES:
            if group:
                groups.setdefault(group, version)
        items = [{"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                  "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v}} for g, v in groups.items()]
        return web.json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": items})

    async def resource_list(self, request):
        group, version = request.match_info.get("group", ""), request.match_info["version"]
        out = []
        for g, v, plural, kind, namespaced, subs in RESOURCES:
            if (g, v) != (group, version):
                continue
            out.append({"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
                        "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
            for sub, sgroup, sversion, skind in subs:
                out.append({"name": f"{plural}/{sub}", "singularName": "", "namespaced": namespaced,
                            "group": sgroup, "version": sversion, "kind": skind, "verbs": ["create"]})
        if not out:
            raise web.HTTPNotFound()
        gv = f"{group}/{version}" if group else version
        return web.json_response({"kind": "APIResourceList", "groupVersion": gv, "resources": out})

    async def write(self, request):
        if request.method == "GET" and request.path in OBJECTS:
            return web.json_response(OBJECTS[request.path])
        if request.method not in ("POST", "PUT", "PATCH"):
            raise web.HTTPNotFound()
        body = await request.read()
        self.bodies.append((request.content_type, body))
        if self.echo and request.content_type == PROTOBUF:
            return web.Response(status=201, body=self.echo(body), content_type=PROTOBUF)
        parts = request.path.strip("/").split("/")
        key = parts[-1] if parts[-1] in self.kinds else f"{parts[-3]}/{parts[-1]}"
        api_version, kind = self.kinds[key]
        # Just enough of an answer for each command to print its success line.
        return web.json_response({
            "apiVersion": api_version, "kind": kind, "metadata": {"name": "captured"},
            "status": {"allowed": True, "token": "captured-token", "userInfo": {"username": "captured"},
                       "expirationTimestamp": "2030-01-01T00:00:00Z"}}, status=201)


def write_tls_pair(directory: pathlib.Path) -> tuple[str, str]:
    """A fixed Ed25519 key and self-signed certificate (deterministic signatures: stable fixtures)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, None))
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class Session:
    """The stub on a free port, a kubeconfig for it, TLS files, and kubectl runs against it."""

    def __init__(self, kubectl_dir: str, echo=None):
        self.kubectl_dir = kubectl_dir
        self.stub = Stub(echo)

    async def __aenter__(self) -> "Session":
        self.runner = web.AppRunner(self.stub.app())
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        port = self.runner.addresses[0][1]
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self._tmp.name)
        self.cert, self.key = write_tls_pair(self.dir)
        kubeconfig = self.dir / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: stub\n"
            f"clusters:\n- name: stub\n  cluster:\n    server: http://127.0.0.1:{port}\n"
            "contexts:\n- name: stub\n  context:\n    cluster: stub\n    user: stub\n    namespace: default\n"
            "users:\n- name: stub\n  user: {}\n")
        self.env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.dir), "KUBECONFIG": str(kubeconfig)}
        return self

    async def __aexit__(self, *exc) -> None:
        await self.runner.cleanup()
        self._tmp.cleanup()

    async def kubectl(self, version: str, name: str, *extra: str) -> str:
        """Run fixture `name`'s command; its stdout."""
        args = [a.format(cert=self.cert, key=self.key) for a in COMMANDS[name]]
        flags = ["--cache-dir", str(self.dir / f"cache-{version}")]
        if args[0] == "create" and args[1] != "token":
            flags.append("--validate=false")  # client-side validation needs OpenAPI, not served here
        if "--" in args:
            args[args.index("--"):args.index("--")] = list(extra)
        else:
            args += extra
        binary = os.path.join(self.kubectl_dir, f"kubectl.{version}")
        proc = await asyncio.create_subprocess_exec(binary, *flags, *args, env=self.env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        if proc.returncode:
            raise RuntimeError(f"kubectl {version} {' '.join(args)} failed: {err.decode()}{out.decode()}")
        return out.decode()


async def capture(kubectl_dir: str, out_dir: pathlib.Path) -> None:
    async with Session(kubectl_dir) as session:
        for version, suffix, expect in (("1.33", ".pb", PROTOBUF), ("1.31", ".json", "application/json")):
            for name in COMMANDS:
                session.stub.bodies.clear()
                await session.kubectl(version, name)
                bodies = session.stub.bodies
                if len(bodies) != 1 or bodies[0][0] != expect:
                    raise RuntimeError(f"kubectl {version} {name}: unexpected writes "
                                       f"{[(ct, len(b)) for ct, b in bodies]}")
                body = bodies[0][1]
                if suffix == ".json":
                    body = (json.dumps(json.loads(body), indent=2, sort_keys=True) + "\n").encode()
                (out_dir / f"{name}{suffix}").write_bytes(body)
                print(f"kubectl {version} {name}: {len(body)} bytes", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubectl-dir", default="/usr/lib/google-cloud-sdk/bin")
    parser.add_argument("--out-dir", default=str(HERE))
    args = parser.parse_args()
    asyncio.run(capture(args.kubectl_dir, pathlib.Path(args.out_dir)))


if __name__ == "__main__":
    main()
