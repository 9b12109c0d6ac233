"""The host client: the official `kubernetes` client, its blocking calls kept off the event loop.

Requests run on a small thread pool of their own (so the server's `to_thread` work never waits
behind a slow host); each watch reads its stream on a thread of its own and hands events to the
loop. Errors come back as the host's own Status, raised as `errors.StatusError`, so callers read
`code` and `reason` as they would from the in-process pipeline.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import ssl
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client as kube_client, config as kube_config

from vapi import errors

REQUEST_TIMEOUT = 30.0
WATCH_SECONDS = 300          # the host ends each watch after this; the informer watches again
POOL_THREADS = 8

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"


@dataclass(frozen=True)
class HostResource:
    group: str
    version: str
    plural: str
    namespaced: bool = True

    @property
    def group_resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str = "", subresource: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if subresource:
            base += f"/{subresource}"
        return base


def status_error(status: int, body: bytes) -> errors.StatusError:
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        return errors.StatusError(status, parsed.get("reason") or "", parsed.get("message") or "",
                                  parsed.get("details"))
    return errors.StatusError(status or 503, "ServiceUnavailable",
                              f"the host answered {status}: {body[:200].decode(errors='replace')}")


def unreachable(e: Exception) -> errors.StatusError:
    return errors.StatusError(503, "ServiceUnavailable", f"the host cluster is unreachable: {e}")


class Host:
    def __init__(self, kubeconfig: Path, namespace: str | None = None, context: str | None = None):
        self.kubeconfig = Path(kubeconfig)
        self.configuration = kube_client.Configuration()
        kube_config.load_kube_config(config_file=str(self.kubeconfig), context=context,
                                     client_configuration=self.configuration, persist_config=False)
        # The syncer retries with its own backoff; urllib3's retries would only add log lines.
        self.configuration.retries = False
        _, active = kube_config.list_kube_config_contexts(config_file=str(self.kubeconfig))
        self.namespace = namespace or (active or {}).get("context", {}).get("namespace") or "default"
        self.server = self.configuration.host
        self.client = kube_client.ApiClient(self.configuration)
        self._pool = concurrent.futures.ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="host")

    # --- connection details, for the streams proxied to host pods ----------------------------

    def ssl_context(self) -> ssl.SSLContext:
        c = self.configuration
        context = ssl.create_default_context(cafile=c.ssl_ca_cert or None)
        if not c.verify_ssl:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if c.cert_file:
            context.load_cert_chain(c.cert_file, c.key_file)
        return context

    def auth_headers(self) -> dict[str, str]:
        token = self.configuration.get_api_key_with_prefix("authorization") or \
            self.configuration.get_api_key_with_prefix("BearerToken")
        return {"Authorization": token} if token else {}

    # --- requests -----------------------------------------------------------------------------

    def _call(self, method: str, path: str, query: dict | None = None, body=None,
              content_type: str = JSON, timeout: float | tuple = REQUEST_TIMEOUT):
        headers = {"Accept": JSON, **self.auth_headers()}
        if body is not None:
            headers["Content-Type"] = content_type
        url = self.server + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        try:
            # a JSON content type makes the client serialise `body` itself
            return self.client.rest_client.request(method, url, headers=headers, body=body,
                                                   _request_timeout=timeout)
        except kube_client.ApiException as e:
            raise unreachable(e) from None
        except Exception as e:  # noqa: BLE001 - urllib3's many connection errors are one thing to us
            raise unreachable(e) from None

    def _request(self, method: str, path: str, query: dict | None = None, body=None,
                 content_type: str = JSON) -> dict:
        response = self._call(method, path, query, body, content_type)
        data = response.read()
        if not 200 <= response.status < 300:
            raise status_error(response.status, data)
        return json.loads(data) if data else {}

    async def request(self, method: str, path: str, query: dict | None = None, body=None,
                      content_type: str = JSON) -> dict:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._request, method, path, query, body, content_type)

    async def get(self, resource: HostResource, name: str, namespace: str | None = None) -> dict | None:
        try:
            return await self.request("GET", resource.path(namespace or self.namespace, name))
        except errors.StatusError as e:
            if e.code == 404:
                return None
            raise

    async def list(self, resource: HostResource, namespace: str | None = None,
                   label_selector: str | None = None) -> dict:
        return await self.request("GET", resource.path(namespace or self.namespace),
                                  {"labelSelector": label_selector})

    async def create(self, resource: HostResource, body: dict, namespace: str | None = None) -> dict:
        return await self.request("POST", resource.path(namespace or self.namespace), body=body)

    async def update(self, resource: HostResource, body: dict, subresource: str = "") -> dict:
        meta = body["metadata"]
        return await self.request("PUT", resource.path(meta.get("namespace") or self.namespace, meta["name"],
                                                       subresource), body=body)

    async def patch(self, resource: HostResource, name: str, patch: dict, namespace: str | None = None,
                    content_type: str = MERGE_PATCH, subresource: str = "") -> dict:
        return await self.request("PATCH", resource.path(namespace or self.namespace, name, subresource),
                                  body=patch, content_type=content_type)

    async def delete(self, resource: HostResource, name: str, namespace: str | None = None, *,
                     uid: str | None = None, grace_seconds: int | None = None,
                     propagation: str | None = None) -> bool:
        """Delete; False when it was already gone (or is another object by now, `uid` given)."""
        options: dict = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if uid:
            options["preconditions"] = {"uid": uid}
        if grace_seconds is not None:
            options["gracePeriodSeconds"] = grace_seconds
        if propagation:
            options["propagationPolicy"] = propagation
        try:
            await self.request("DELETE", resource.path(namespace or self.namespace, name), body=options)
        except errors.StatusError as e:
            if e.code in (404, 409):
                return False
            raise
        return True

    # --- watch --------------------------------------------------------------------------------

    def watch(self, resource: HostResource, resource_version: str, namespace: str | None = None,
              label_selector: str | None = None) -> HostWatch:
        query = {"watch": "1", "resourceVersion": resource_version, "allowWatchBookmarks": "true",
                 "timeoutSeconds": str(WATCH_SECONDS), "labelSelector": label_selector}
        path = resource.path(namespace or self.namespace) if resource.namespaced else resource.path()
        return HostWatch(self, path, query)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()


class HostWatch:
    """The events of one host watch, as an async iterator of (type, object); ends when the host
    ends the watch, and an ERROR event (410 Gone...) is passed on for the informer to list again."""

    def __init__(self, host: Host, path: str, query: dict):
        self._host, self._path, self._query = host, path, query
        self._queue: asyncio.Queue = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._response = None
        self._closed = False
        self._thread = threading.Thread(target=self._read, name=f"host watch {path}", daemon=True)
        self._thread.start()

    def _put(self, item) -> None:
        if not self._closed:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def _read(self) -> None:
        try:
            response = self._host._call("GET", self._path, self._query,
                                        timeout=(REQUEST_TIMEOUT, WATCH_SECONDS + 30))
            self._response = response
            if response.status != 200:
                self._put(status_error(response.status, response.read()))
                return
            buffer = b""
            for chunk in response.response.stream(64 * 1024, decode_content=True):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        event = json.loads(line)
                        self._put((event["type"], event["object"]))
            self._put(None)
        except Exception as e:  # noqa: BLE001 - a broken stream ends the watch; the informer lists again
            self._put(unreachable(e) if not isinstance(e, errors.StatusError) else e)

    def __aiter__(self):
        return self

    async def __anext__(self):
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        if isinstance(item, Exception):
            raise item
        return item

    async def aclose(self) -> None:
        self._closed = True
        response = self._response
        if response is not None:
            await asyncio.get_running_loop().run_in_executor(None, _shut, response)


def _shut(response) -> None:
    try:
        response.response.shutdown()
    except AttributeError:
        response.response.release_conn()
    except Exception:  # noqa: BLE001 - closing what is already broken
        pass
