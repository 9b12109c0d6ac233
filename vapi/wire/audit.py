"""The audit log: audit.k8s.io/v1 Events as JSON lines, chosen by a kube audit policy file.

Every request gets an Audit-Id (the client's own `Audit-ID` header, or a new UUID) in its answer,
as kube-apiserver sets it whether or not audit is on. With a policy, each request's rule decides
its level (None, Metadata, Request, RequestResponse) and which stages are written:
RequestReceived once the user is known, ResponseStarted when a long-running answer (a watch)
sends its headers, ResponseComplete when the answer is whole, Panic when serving it raised.

The event loop only builds a line and hands it to a queue; a writer thread writes, flushes and
rotates the file, so a slow disk never stalls a request.
"""
from __future__ import annotations

import asyncio
import datetime
import os
import queue
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import yaml
from aiohttp import web

from ..auth.requestinfo import RequestInfo, request_info
from ..auth.user import anonymous, user_info
from ..registry.strategies import micro_rfc3339
from .http import AUDIT_ANNOTATIONS, AUDIT_BODY, decode_quietly

LEVELS = ("None", "Metadata", "Request", "RequestResponse")
STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")
AUDIT_ID = "Audit-Id"
# The authorizer's (decision, reason), as the audit annotations name them: "allow" or "forbid".
AUTHORIZATION = web.RequestKey("authorization", tuple)


class PolicyError(ValueError):
    pass


# --- the policy ----------------------------------------------------------------------------------

@dataclass
class Rule:
    level: str
    users: tuple = ()
    user_groups: tuple = ()
    verbs: tuple = ()
    resources: tuple = ()          # (group, resources, resourceNames) triples
    namespaces: tuple = ()
    non_resource_urls: tuple = ()
    omit_stages: tuple = ()
    omit_managed_fields: bool | None = None

    def matches(self, user, info: RequestInfo) -> bool:
        if self.users and user.name not in self.users:
            return False
        if self.user_groups and not set(self.user_groups) & set(user.groups):
            return False
        if self.verbs and info.verb not in self.verbs:
            return False
        if info.resource_request:
            if self.non_resource_urls:
                return False
            if self.namespaces and info.namespace not in self.namespaces:
                return False
            return not self.resources or any(_resource_matches(r, info) for r in self.resources)
        if self.resources or self.namespaces:
            return False
        return not self.non_resource_urls or any(
            info.path == url or (url.endswith("*") and info.path.startswith(url[:-1]))
            for url in self.non_resource_urls)


def _resource_matches(rule: tuple, info: RequestInfo) -> bool:
    group, resources, names = rule
    if group != info.group:
        return False
    if resources:
        full = f"{info.resource}/{info.subresource}" if info.subresource else info.resource
        if not any(r in ("*", full) or (r == "*/" + info.subresource and info.subresource)
                   or (r == info.resource + "/*" and info.subresource) for r in resources):
            return False
    return not names or info.name in names


def _strings(rule: dict, key: str) -> tuple:
    value = rule.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{key} must be a list of strings")
    return tuple(value)


def _stages(doc: dict) -> tuple:
    stages = _strings(doc, "omitStages")
    for s in stages:
        if s not in STAGES:
            raise PolicyError(f'omitStages: Unsupported value: "{s}"')
    return stages


@dataclass
class Policy:
    rules: list[Rule] = field(default_factory=list)
    omit_stages: tuple = ()
    omit_managed_fields: bool = False

    @classmethod
    def load(cls, path: Path) -> "Policy":
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        if len(docs) != 1 or not isinstance(docs[0], dict) or docs[0].get("kind") != "Policy" \
                or docs[0].get("apiVersion") != "audit.k8s.io/v1":
            raise PolicyError(f"{path}: want one audit.k8s.io/v1 Policy")
        doc = docs[0]
        rules = []
        for i, r in enumerate(doc.get("rules") or []):
            if r.get("level") not in LEVELS:
                raise PolicyError(f"rules[{i}].level: Unsupported value: {r.get('level')!r}")
            resources = tuple((g.get("group", ""), _strings(g, "resources"), _strings(g, "resourceNames"))
                              for g in r.get("resources") or [])
            rules.append(Rule(r["level"], _strings(r, "users"), _strings(r, "userGroups"), _strings(r, "verbs"),
                              resources, _strings(r, "namespaces"), _strings(r, "nonResourceURLs"), _stages(r),
                              r.get("omitManagedFields")))
        if not rules:
            raise PolicyError(f"{path}: a policy needs at least one rule")
        return cls(rules, _stages(doc), bool(doc.get("omitManagedFields")))

    def decide(self, user, info: RequestInfo) -> tuple[str, frozenset, bool]:
        """(level, stages to leave out, whether managedFields are left out) for one request."""
        for rule in self.rules:
            if rule.matches(user, info):
                omit_mf = self.omit_managed_fields if rule.omit_managed_fields is None else rule.omit_managed_fields
                return rule.level, frozenset(self.omit_stages + rule.omit_stages), omit_mf
        return "None", frozenset(), False


# --- the writer ----------------------------------------------------------------------------------

class LogWriter:
    """Lines written by a thread of their own; rotated by size, keeping `max_backups` old files."""

    def __init__(self, path: str, max_size_mb: int = 0, max_backups: int = 0):
        self.path = path
        self.max_bytes = max_size_mb * 1024 * 1024
        self.max_backups = max_backups
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self._file = sys.stdout.buffer if path == "-" else open(path, "ab")
        self._size = 0 if path == "-" else os.path.getsize(path)
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def put(self, line: bytes) -> None:
        self.queue.put(line)

    def _run(self) -> None:
        while True:
            line = self.queue.get()
            batch = [line]
            while True:  # a burst is written, and flushed, at once
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            stop = None in batch
            for item in batch:
                if item is not None:
                    self._write(item)
            self._file.flush()
            if stop:
                return

    def _write(self, line: bytes) -> None:
        if self.max_bytes and self._size and self._size + len(line) > self.max_bytes:
            self._rotate()
        self._file.write(line)
        self._size += len(line)

    def _rotate(self) -> None:
        self._file.close()
        base, ext = os.path.splitext(self.path)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H-%M-%S.%f")[:-3]
        os.replace(self.path, f"{base}-{stamp}{ext}")
        if self.max_backups:
            folder = os.path.dirname(self.path) or "."
            prefix = os.path.basename(base) + "-"
            old = sorted(f for f in os.listdir(folder) if f.startswith(prefix) and f.endswith(ext))
            for name in old[:-self.max_backups]:
                os.remove(os.path.join(folder, name))
        self._file = open(self.path, "ab")
        self._size = 0

    def close(self) -> None:
        self.queue.put(None)
        self._thread.join(timeout=5)
        if self.path != "-":
            self._file.close()


# --- events --------------------------------------------------------------------------------------

def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _object_ref(info: RequestInfo) -> dict | None:
    if not info.resource_request:
        return None
    ref = {"resource": info.resource, "namespace": info.namespace, "name": info.name,
           "apiGroup": info.group, "apiVersion": info.version, "subresource": info.subresource}
    return {k: v for k, v in ref.items() if v}


def _decoded(body: bytes, omit_managed_fields: bool, ctype: str = "application/json"):
    obj = decode_quietly(body, ctype) if body else None
    if omit_managed_fields and isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
        obj["metadata"].pop("managedFields", None)
    return obj


@dataclass
class _Context:
    audit_id: str
    received: datetime.datetime
    level: str = "None"
    omit: frozenset = frozenset()
    omit_managed_fields: bool = False
    event: dict | None = None


_KEY = web.RequestKey("audit", _Context)


class Auditor:
    """Two middlewares and a prepare hook: `begin` outermost (the Audit-Id, the last stage),
    `received` once the user is authenticated (the policy's decision, RequestReceived)."""

    def __init__(self, policy: Policy | None = None, writer: LogWriter | None = None):
        self.policy = policy
        self.writer = writer

    @property
    def enabled(self) -> bool:
        return self.policy is not None and self.writer is not None

    def install(self, app: web.Application) -> None:
        app.on_response_prepare.append(self._on_prepare)

    @web.middleware
    async def begin(self, request: web.Request, handler):
        ctx = request[_KEY] = _Context(request.headers.get("Audit-ID") or str(uuid.uuid4()), _now())
        try:
            response = await handler(request)
        except web.HTTPException as e:
            self._finish(request, ctx, e.status, None)
            raise
        except (asyncio.CancelledError, ConnectionResetError):
            # The client hung up (a watch it stopped): the answer ends there, as kube records it.
            started = (ctx.event or {}).get("responseStatus", {}).get("code", 200)
            self._finish(request, ctx, started, None)
            raise
        except BaseException:
            self._finish(request, ctx, 500, None, stage="Panic")
            raise
        self._finish(request, ctx, response.status, response)
        return response

    @web.middleware
    async def received(self, request: web.Request, handler):
        ctx = request.get(_KEY)
        if ctx is not None and self.enabled:
            self._decide(request, ctx, request["user"])
            self._emit(ctx, "RequestReceived")
        return await handler(request)

    def _decide(self, request, ctx: _Context, user) -> None:
        info = request.get("request_info")
        if info is None:
            info = request["request_info"] = request_info(request.method, request.path, request.query)
        ctx.level, ctx.omit, ctx.omit_managed_fields = self.policy.decide(user, info)
        if ctx.level == "None":
            return
        impersonator = request.get("impersonator")
        event = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": ctx.level, "auditID": ctx.audit_id,
                 "stage": "", "requestURI": request.raw_path, "verb": info.verb,
                 "user": user_info(impersonator or user)}
        if impersonator is not None:
            event["impersonatedUser"] = user_info(user)
        forwarded = [ip.strip() for ip in request.headers.get("X-Forwarded-For", "").split(",") if ip.strip()]
        event["sourceIPs"] = forwarded + [request.remote or ""]
        if request.headers.get("User-Agent"):
            event["userAgent"] = request.headers["User-Agent"]
        ref = _object_ref(info)
        if ref:
            event["objectRef"] = ref
        event["requestReceivedTimestamp"] = micro_rfc3339(ctx.received)
        ctx.event = event

    def _emit(self, ctx: _Context, stage: str) -> None:
        if ctx.event is None or stage in ctx.omit:
            return
        event = dict(ctx.event, stage=stage, stageTimestamp=micro_rfc3339(_now()))
        # The field order of kube's encoder: timestamps and annotations come last.
        for key in ("requestReceivedTimestamp", "stageTimestamp", "annotations"):
            if key in event:
                event[key] = event.pop(key)
        self.writer.put(orjson.dumps(event) + b"\n")

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        ctx = request.get(_KEY)
        if ctx is None:
            return
        response.headers[AUDIT_ID] = ctx.audit_id
        # Only a streamed answer (a watch) has a moment between its headers and its end.
        if ctx.event is not None and not isinstance(response, web.Response):
            ctx.event["responseStatus"] = {"metadata": {}, "code": response.status}
            self._emit(ctx, "ResponseStarted")

    def _finish(self, request, ctx: _Context, code: int, response, stage: str = "ResponseComplete") -> None:
        if not self.enabled:
            return
        if ctx.event is None and ctx.level == "None" and "user" not in request:
            # Refused before anyone was authenticated (a 401): audited as the anonymous request it was.
            self._decide(request, ctx, anonymous())
        event = ctx.event
        if event is None:
            return
        status = {"metadata": {}, "code": code}
        body = response.body if isinstance(response, web.Response) else None
        if code >= 400 and isinstance(body, bytes) and body.startswith(b"{"):
            decoded = _decoded(body, False)
            if isinstance(decoded, dict) and decoded.get("kind") == "Status":
                status.update({k: decoded[k] for k in ("status", "message", "reason", "details") if k in decoded})
        elif code >= 400:
            status["status"] = "Failure"
        event["responseStatus"] = status
        sent = request.get(AUDIT_BODY)
        ref = event.get("objectRef")
        creates = ref is not None and "name" not in ref and event["verb"] == "create"
        if sent is not None and (creates or ctx.level in ("Request", "RequestResponse")):
            obj = _decoded(sent[0], ctx.omit_managed_fields, sent[1])
            meta = obj.get("metadata") if isinstance(obj, dict) else None
            if creates and isinstance(meta, dict) and isinstance(meta.get("name"), str) and meta["name"]:
                # kube names a create's object after the name its body asks for.
                ref["name"] = meta["name"]
            if obj is not None and ctx.level in ("Request", "RequestResponse"):
                event["requestObject"] = obj
        if ctx.level == "RequestResponse" and isinstance(body, bytes) and \
                response.content_type == "application/json":
            if not ctx.omit_managed_fields and b"\n" not in body.rstrip():
                # Our own compact JSON, as it went out: no need to read it back to write it again.
                event["responseObject"] = orjson.Fragment(body.rstrip())
            else:
                obj = _decoded(body, ctx.omit_managed_fields)
                if obj is not None:
                    event["responseObject"] = obj
        annotations = {}
        authz = request.get(AUTHORIZATION)
        if authz is not None:
            annotations["authorization.k8s.io/decision"] = authz[0]
            annotations["authorization.k8s.io/reason"] = authz[1]
        annotations.update(request.get(AUDIT_ANNOTATIONS) or {})
        if annotations:
            event["annotations"] = annotations
        self._emit(ctx, stage)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
