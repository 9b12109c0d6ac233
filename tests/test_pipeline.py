"""The pipeline from inside the process: admission as a chain, subresources through the
in-process client, exactly as HTTP clients reach them.

Each test runs a real server in its own event loop and drives it from both sides: the
in-process API (as controllers do) and kubectl over HTTPS.
"""
from __future__ import annotations

import asyncio
import http.client
import json
import ssl

import pytest

from admission.chain import CREATE, Attributes, Chain, ValidatingPlugin
from admission.status import StatusError
from vapi import errors
from vapi.api import ListOptions, WriteOptions
from vapi.server import Config, Server
from vapi.testing import run_kubectl


def serve(tmp_path, scenario):
    """Run `await scenario(server, kubectl)` against a started server; kubectl runs in a thread."""
    async def main():
        server = Server(Config(data_dir=tmp_path, port=0))
        await server.start()
        try:
            async def kubectl(*args, check=True):
                return await asyncio.to_thread(run_kubectl, server.kubeconfig, *args,
                                               cache_dir=tmp_path / "cache", check=check)
            await scenario(server, kubectl)
        finally:
            await server.stop()
    asyncio.run(main())


class RefuseLabelled(ValidatingPlugin):
    """A plugin as a later issue's plugins will be: it sees the attributes and may refuse."""
    name = "RefuseLabelled"
    operations = frozenset((CREATE,))

    def __init__(self):
        self.seen: list[Attributes] = []

    async def validate(self, attrs: Attributes) -> None:
        self.seen.append(attrs)
        if (attrs.object["metadata"].get("labels") or {}).get("refuse") == "yes":
            raise attrs.forbidden("refused by the test plugin")


def test_chain_runs_kube_order_and_takes_new_plugins(tmp_path):
    async def scenario(server, kubectl):
        chain = server.api.admission
        assert chain.names() == ["Defaulting", "SchemaValidation", "NamespaceLifecycle", "LimitRanger", "ServiceAccount",
                                 "DefaultTolerationSeconds", "RuntimeClass", "PodSecurity", "MutatingAdmissionPolicy",
                                 "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook",
                                 "ResourceQuota"]
        plugin = RefuseLabelled()
        server.api.admission = Chain(chain.plugins + [plugin])
        await kubectl("create", "configmap", "fine", "-n", "default")
        proc = await asyncio.to_thread(
            run_kubectl, server.kubeconfig, "apply", "-f", "-", "-n", "default",
            input=json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "no", "labels": {"refuse": "yes"}}}),
            cache_dir=tmp_path / "cache", check=False)
        assert proc.returncode != 0
        assert 'configmaps "no" is forbidden: refused by the test plugin' in proc.stderr
        attrs = next(a for a in plugin.seen if a.name == "fine")
        assert (attrs.operation, attrs.group, attrs.version, attrs.kind, attrs.resource) == \
            ("CREATE", "", "v1", "ConfigMap", "configmaps")
        assert (attrs.namespace, attrs.name, attrs.subresource, attrs.dry_run) == ("default", "fine", "", False)
        assert (attrs.user.name, "system:masters" in attrs.user.groups) == ("kubernetes-admin", True)
        # Validating plugins see the object after defaulting and the strategy's preparation.
        assert attrs.object["metadata"]["uid"]
        # The in-process client meets the same chain.
        info = server.registry.get("", "v1", "configmaps")
        with pytest.raises(errors.StatusError) as refused:
            await server.api.create(info, "default", {"metadata": {"name": "no2", "labels": {"refuse": "yes"}}},
                                    WriteOptions())
        assert (refused.value.code, refused.value.reason) == (403, "Forbidden")
    serve(tmp_path, scenario)


def test_admission_error_is_a_status(tmp_path):
    async def scenario(server, kubectl):
        class Deny(ValidatingPlugin):
            name = "Deny"
            operations = frozenset((CREATE,))

            async def validate(self, attrs):
                raise StatusError(429, "TooManyRequests", "slow down", {"retryAfterSeconds": 1})
        server.api.admission = Chain(server.api.admission.plugins + [Deny()])
        info = server.registry.get("", "v1", "secrets")
        with pytest.raises(errors.StatusError) as e:
            await server.api.create(info, "default", {"metadata": {"name": "s"}})
        assert (e.value.code, e.value.reason, e.value.message, e.value.details) == \
            (429, "TooManyRequests", "slow down", {"retryAfterSeconds": 1})
        # Refused before storage: nothing was written.
        with pytest.raises(errors.StatusError) as missing:
            server.api.get(info, "default", "s")
        assert missing.value.code == 404
    serve(tmp_path, scenario)


def test_subresources_in_process_as_over_http(tmp_path):
    async def scenario(server, kubectl):
        await kubectl("create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", "default")
        deployments = server.registry.get("apps", "v1", "deployments")
        scale = server.api.get(deployments, "default", "web", subresource="scale")
        assert (scale["kind"], scale["apiVersion"], scale["spec"]["replicas"]) == ("Scale", "autoscaling/v1", 2)
        assert scale["status"]["selector"] == "app=web"
        scale = await server.api.update(deployments, "default", "web", {"spec": {"replicas": 3}},
                                        subresource="scale")
        assert scale["spec"]["replicas"] == 3
        out = await kubectl("get", "deploy", "web", "-n", "default", "-o", "jsonpath={.spec.replicas}")
        assert out.stdout == "3"
        scale = await server.api.patch(deployments, "default", "web", "application/merge-patch+json",
                                       {"spec": {"replicas": 5}}, subresource="scale")
        assert scale["spec"]["replicas"] == 5
        await kubectl("scale", "deploy", "web", "--replicas=1", "-n", "default")
        assert server.api.get(deployments, "default", "web", subresource="scale")["spec"]["replicas"] == 1

        # status: a write to it changes status only.
        live = server.api.get(deployments, "default", "web")
        live["spec"]["replicas"] = 9
        live["status"] = {"replicas": 1, "readyReplicas": 1}
        written = await server.api.update(deployments, "default", "web", live, subresource="status")
        assert (written["spec"]["replicas"], written["status"]["readyReplicas"]) == (1, 1)
        out = await kubectl("get", "deploy", "web", "-n", "default", "-o", "jsonpath={.status.readyReplicas}")
        assert out.stdout == "1"

        pods = server.registry.get("", "v1", "pods")
        with pytest.raises(errors.StatusError) as e:
            server.api.get(pods, "default", "p", subresource="log")
        assert (e.value.code, e.value.reason, e.value.message) == \
            (501, "NotImplemented", "pods/log is not implemented yet")
    serve(tmp_path, scenario)


def test_watch_refuses_a_malformed_version_before_streaming(tmp_path):
    async def scenario(server, kubectl):
        configmaps = server.registry.get("", "v1", "configmaps")
        with pytest.raises(errors.StatusError) as e:
            server.api.watch(configmaps, "default", ListOptions(resource_version="abc"))
        assert (e.value.code, e.value.message) == (400, 'invalid resource version: "abc"')
        # Over HTTP: a Status answer, not a started stream.
        ns = await kubectl("get", "--raw", "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=abc",
                           check=False)
        assert ns.returncode != 0 and "invalid resource version" in ns.stderr
    serve(tmp_path, scenario)


def test_refused_watch_leaves_the_connection_open(tmp_path):
    def exchange(server):
        context = ssl.create_default_context(cafile=str(server.pki.ca_cert))
        context.load_cert_chain(server.pki.admin_cert, server.pki.admin_key)
        conn = http.client.HTTPSConnection(server.config.host, server.port, context=context, timeout=10)
        try:
            conn.request("GET", "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=abc")
            refused = conn.getresponse()
            answers = [(refused.status, refused.getheader("Content-Type"), json.loads(refused.read()))]
            sock = conn.sock
            conn.request("GET", "/api/v1/namespaces/default/configmaps")
            listed = conn.getresponse()
            answers.append((listed.status, listed.getheader("Content-Type"), json.loads(listed.read())))
            return answers, sock is not None and conn.sock is sock
        finally:
            conn.close()

    async def scenario(server, kubectl):
        (refused, listed), same_connection = await asyncio.to_thread(exchange, server)
        assert refused[:2] == (400, "application/json")
        assert (refused[2]["kind"], refused[2]["message"]) == ("Status", 'invalid resource version: "abc"')
        assert listed[0] == 200 and listed[2]["kind"] == "ConfigMapList"
        assert same_connection
    serve(tmp_path, scenario)


def test_watch_follows_objects_into_and_out_of_a_selection(tmp_path):
    async def scenario(server, kubectl):
        configmaps = server.registry.get("", "v1", "configmaps")
        events = server.api.watch(configmaps, "default", ListOptions(label_selector="tier=web"), timeout=5)
        seen = []

        async def collect():
            async for event_type, obj in events:
                seen.append((event_type, obj["metadata"]["name"], obj.get("apiVersion"), obj.get("kind")))
                if len(seen) == 3:
                    return
        task = asyncio.create_task(collect())
        await kubectl("create", "configmap", "c", "-n", "default")
        await kubectl("label", "configmap", "c", "tier=web", "-n", "default")
        await kubectl("label", "configmap", "c", "tier=db", "--overwrite", "-n", "default")
        await kubectl("label", "configmap", "c", "tier=web", "--overwrite", "-n", "default")
        await asyncio.wait_for(task, 10)
        assert seen == [("ADDED", "c", "v1", "ConfigMap"), ("DELETED", "c", "v1", "ConfigMap"),
                        ("ADDED", "c", "v1", "ConfigMap")]
    serve(tmp_path, scenario)


def test_shared_informer_cache_follows_http_writes(tmp_path):
    async def scenario(server, kubectl):
        secrets = server.registry.get("", "v1", "secrets")
        informer = server.informers.get(secrets)
        assert server.informers.get(secrets) is informer  # one per resource, shared
        await informer.wait_synced()
        heard = []

        async def handle(event_type, obj, prev):
            heard.append((event_type, obj["metadata"]["name"], prev is not None))
        informer.add_handler(handle)
        await kubectl("create", "secret", "generic", "s1", "--from-literal=a=b", "-n", "default")

        async def until(check):
            for _ in range(200):
                if check():
                    return
                await asyncio.sleep(0.02)
            raise AssertionError(heard)
        await until(lambda: informer.get("default", "s1") is not None)
        assert informer.get("default", "s1")["data"] == {"a": "Yg=="}
        await kubectl("delete", "secret", "s1", "-n", "default")
        await until(lambda: informer.get("default", "s1") is None)
        assert ("ADDED", "s1", False) in heard and ("DELETED", "s1", True) in heard
        # NamespaceLifecycle answers from the namespaces informer's cache.
        namespaces = server.registry.get("", "v1", "namespaces")
        await server.informers.get(namespaces).wait_synced()
        assert server.informers.cached(namespaces, None, "default")["status"]["phase"] == "Active"
    serve(tmp_path, scenario)


def test_each_reads_every_page_at_one_revision(tmp_path, monkeypatch):
    monkeypatch.setattr("vapi.api.LIST_PAGE", 2)

    async def scenario(server, kubectl):
        configmaps = server.registry.get("", "v1", "configmaps")
        for i in range(5):
            await server.api.create(configmaps, "default", {"metadata": {"name": f"c{i}", "labels": {"i": str(i % 2)}}})
        revision, objects = server.api.each(configmaps, "default")
        # Written after the first page was read: not part of the listing's revision.
        later = await server.api.create(configmaps, "default", {"metadata": {"name": "c9"}})
        listed = list(objects)
        names = [obj["metadata"]["name"] for obj in listed if obj["metadata"]["name"].startswith("c")]
        assert names == ["c0", "c1", "c2", "c3", "c4"]
        assert all(obj["kind"] == "ConfigMap" for obj in listed)
        assert max(int(obj["metadata"]["resourceVersion"]) for obj in listed) <= int(revision) \
            < int(later["metadata"]["resourceVersion"])
        selected = server.api.each(configmaps, "default", ListOptions(label_selector="i=1"))[1]
        assert [obj["metadata"]["name"] for obj in selected] == ["c1", "c3"]
        with pytest.raises(errors.StatusError) as e:
            server.api.each(configmaps, "default", ListOptions(resource_version="x"))
        assert e.value.code == 400
    serve(tmp_path, scenario)


def test_informer_cache_by_namespace_follows_http_writes(tmp_path):
    async def scenario(server, kubectl):
        configmaps = server.registry.get("", "v1", "configmaps")
        informer = server.informers.get(configmaps)
        await informer.wait_synced()
        await kubectl("create", "namespace", "other")
        await kubectl("create", "configmap", "a", "--from-literal=k=1", "-n", "default")
        await kubectl("create", "configmap", "b", "-n", "other")

        async def until(check):
            for _ in range(200):
                if check():
                    return
                await asyncio.sleep(0.02)
            raise AssertionError(informer.list())

        def names(namespace):
            return {obj["metadata"]["name"] for obj in informer.list(namespace)}
        await until(lambda: "a" in names("default") and "b" in names("other"))
        assert "b" not in names("default") and "a" not in names("other")
        assert {"a", "b"} <= names(None)
        await kubectl("patch", "configmap", "a", "-n", "default", "-p", '{"data":{"k":"2"}}')
        await until(lambda: (informer.get("default", "a") or {}).get("data") == {"k": "2"})
        assert [obj["data"] for obj in informer.list("default") if obj["metadata"]["name"] == "a"] == [{"k": "2"}]
        await kubectl("delete", "configmap", "b", "-n", "other")
        await until(lambda: "b" not in names("other"))
        assert informer.get("other", "b") is None
    serve(tmp_path, scenario)
