"""RequestInfo is read off a request as kube's RequestInfoFactory reads it: authorization, audit
and the handlers all rely on the same verb, namespace, resource, name and subresource."""
from __future__ import annotations

import json

import pytest

from vapi.auth.requestinfo import request_info
from vapi.testing import run_kubectl


@pytest.mark.parametrize("method,path,query,expect", [
    ("GET", "/api/v1/namespaces/default/pods", {}, ("list", "", "v1", "default", "pods", "", "")),
    ("GET", "/api/v1/namespaces/default/pods", {"watch": "true"}, ("watch", "", "v1", "default", "pods", "", "")),
    ("GET", "/api/v1/namespaces/default/pods/web", {}, ("get", "", "v1", "default", "pods", "web", "")),
    ("POST", "/api/v1/namespaces/default/pods/web/eviction", {},
     ("create", "", "v1", "default", "pods", "web", "eviction")),
    ("DELETE", "/apis/apps/v1/namespaces/ns/deployments", {},
     ("deletecollection", "apps", "v1", "ns", "deployments", "", "")),
    ("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d/scale", {},
     ("patch", "apps", "v1", "ns", "deployments", "d", "scale")),
    # A namespace names itself: its namespace is its name.
    ("GET", "/api/v1/namespaces/kube-system", {}, ("get", "", "v1", "kube-system", "namespaces", "kube-system", "")),
    ("PUT", "/api/v1/namespaces/gone/finalize", {}, ("update", "", "v1", "gone", "namespaces", "gone", "finalize")),
    ("GET", "/api/v1/namespaces", {}, ("list", "", "v1", "", "namespaces", "", "")),
    ("GET", "/api/v1/nodes/n1/status", {}, ("get", "", "v1", "", "nodes", "n1", "status")),
    # The deprecated watch prefix, and a list narrowed to one name by its field selector.
    ("GET", "/api/v1/watch/namespaces/default/pods", {}, ("watch", "", "v1", "default", "pods", "", "")),
    ("GET", "/api/v1/namespaces/default/configmaps", {"fieldSelector": "metadata.name==cm", "watch": "1"},
     ("watch", "", "v1", "default", "configmaps", "cm", "")),
])
def test_resource_requests(method, path, query, expect):
    info = request_info(method, path, query)
    assert info.resource_request
    assert (info.verb, info.group, info.version, info.namespace, info.resource, info.name,
            info.subresource) == expect


@pytest.mark.parametrize("method,path,verb", [
    ("GET", "/healthz", "get"), ("GET", "/version", "get"), ("POST", "/foo", "post"),
    ("GET", "/api", "get"), ("GET", "/api/v1", "get"), ("GET", "/apis/apps", "get"),
    ("GET", "/apis/apps/v1", "get"), ("GET", "/openapi/v3/apis/apps/v1", "get"),
])
def test_non_resource_requests(method, path, verb):
    info = request_info(method, path, {})
    assert not info.resource_request
    assert (info.verb, info.path) == (verb, path)



def test_deprecated_watch_path_is_served(kubeconfig):
    """`/api/v1/watch/...` (still sent by old clients) streams what `?watch=true` would, for one
    object when the path names it."""
    run_kubectl(kubeconfig, "create", "configmap", "watched-legacy", "-n", "default")
    run_kubectl(kubeconfig, "create", "configmap", "watched-other", "-n", "default")
    raw = run_kubectl(kubeconfig, "get", "--raw",
                      "/api/v1/watch/namespaces/default/configmaps/watched-legacy?timeoutSeconds=1").stdout
    events = [json.loads(line) for line in raw.splitlines() if line.strip()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "watched-legacy")]
