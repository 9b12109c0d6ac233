"""The aiohttp application: authentication, routing, and the non-resource endpoints."""
from __future__ import annotations

import asyncio
import datetime
import logging
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from aiohttp import web

from admission import schemas as schema_store
from admission.plugins import default_chain
from admission.quota import NamespaceLocks
from storage.sqlite import SQLiteStore

from . import __version__, errors
from .api import API, WriteOptions
from .auth import reviews
from .auth.authn import Authentication, BearerTokens, ClientCertificates, ServiceAccountTokens, TokenFile
from .auth.authz import ALLOW, Attributes
from .auth.certificates import CertificateChecks
from .auth.certs import PKI
from .auth.escalation import BINDING_KINDS, ROLE_KINDS, EscalationCheck
from .auth.impersonation import ImpersonationError, impersonate
from .auth.rbac import GROUP as RBAC_GROUP, RBACAuthorizer, RuleResolver
from .auth.requestinfo import request_info
from .auth.tokens import ISSUER, Signer
from .controllers import Controllers
from .controllers.admission_sources import AdmissionSources
from .controllers.apiserver_endpoints import ensure_kubernetes_service
from .controllers.bootstrap import ensure_system_objects
from .controllers.eviction import Eviction
from .controllers.identity import APISERVER, SYNCER, ActingAs
from .controllers.informer import Informers
from .controllers.lookup import Lookups
from .controllers.settings import ControllerSettings
from .nodes import Kubelets, Runtime
from .registry import Registry
from .registry.strategies.review import ReviewStrategy
from .registry.selectors import SelectorError
from .subresources import TokenRequests
from .wire import gojson
from .wire.audit import AUTHORIZATION, Auditor, LogWriter, Policy
from .wire.connections import READ_HEADER_TIMEOUT, Runner, Site, bound_connection_memory, give_back_memory
from .wire.discovery import AGGREGATED_VERSIONS, Discovery
from .wire.http import JSON, ResourceHandler, accepted
from .wire.inflight import REQUEST_TIMEOUT, InFlight, deadline
from .wire.openapi import OpenAPI
from .wire.protobuf import encode_openapi_v2
from .wire.streams import Streams

log = logging.getLogger("vapi")

# Clients ask with `@v1.0`; kube-openapi answers `.v1.0`, the only spelling kubectl 1.27 can parse.
OPENAPI_V2_PROTOBUF_ACCEPT = "application/com.github.proto-openapi.spec.v2"
OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
MAX_HEADER = 1024 * 1024
RESOURCE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Any rest of a path, newlines (%0A) included: `.*` alone would leave such paths to aiohttp's own 404.
REST = "{path:[\\s\\S]*}"


@dataclass
class Config:
    data_dir: Path = Path(".vapi")
    port: int = 6443
    host: str = "127.0.0.1"
    kubernetes_version: str = schema_store.DEFAULT_VERSION
    store_options: dict = field(default_factory=dict)
    token_auth_file: Path | None = None
    anonymous_auth: bool = True
    max_requests_inflight: int = 400
    max_mutating_requests_inflight: int = 200
    request_timeout: float = REQUEST_TIMEOUT
    read_header_timeout: float = READ_HEADER_TIMEOUT
    audit_policy_file: Path | None = None
    audit_log_path: str | None = None
    audit_log_maxsize: int = 0
    audit_log_maxbackup: int = 0
    event_ttl: float = 3600.0
    controllers: ControllerSettings = field(default_factory=ControllerSettings)
    nodes: int = 1          # simulated nodes registered at start (vapi-node-0..N-1)
    # virtual mode: the host cluster's kubeconfig and this cluster's name there
    host_kubeconfig: Path | None = None
    name: str = ""
    host_namespace: str | None = None
    sync_config: Path | None = None
    advertise_address: str | None = None   # how the host's pods reach this server (default: host)

    @property
    def virtual(self) -> bool:
        return self.host_kubeconfig is not None


def _status_response(err: errors.StatusError) -> web.Response:
    return web.Response(body=gojson.dumps(err.status()), status=err.code, content_type=JSON)


def _plain_internal_error(request: web.Request, message: str) -> web.Response:
    """kube's responsewriters.InternalError: Go's http.Error, plain text naming the request URI."""
    escape = lambda text: text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return web.Response(status=500, text=f'Internal Server Error: "{escape(request.path_qs)}": {escape(message)}\n',
                        content_type="text/plain", charset="utf-8", headers={"X-Content-Type-Options": "nosniff"})


@web.middleware
async def status_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except errors.StatusError as e:
        return _status_response(e)
    except SelectorError as e:
        return _status_response(errors.bad_request(str(e)))
    except web.HTTPRequestEntityTooLarge as e:
        return _status_response(errors.StatusError(413, "RequestEntityTooLarge",
                                                   f"Request entity too large: {e.text}"))
    except web.HTTPException:
        raise
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception as e:  # noqa: BLE001 - the client gets a Status, the log gets the trace
        log.exception("internal error serving %s %s", request.method, request.path)
        return _status_response(errors.StatusError(500, "InternalError", f"Internal error occurred: {e}",
                                                   {"causes": [{"message": str(e)}]}))


class Server:
    def __init__(self, config: Config):
        self.config = config
        self.schemas = schema_store.load(config.kubernetes_version)
        self.registry = Registry(self.schemas)
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = SQLiteStore(str(config.data_dir / "state.db"), **config.store_options)
        self.api = API(self.registry, self.store, self.schemas)
        self.informers = Informers(self.api)
        namespaces = self.registry.get("", "v1", "namespaces")
        self.lookups = Lookups(self.api, self.informers)
        quota_locks = NamespaceLocks()
        namespace_cached = lambda name: self.informers.cached(namespaces, None, name)  # noqa: E731
        self.api.admission = default_chain(namespace_cached, self._namespace, self.lookups, quota_locks,
                                           AdmissionSources(self.lookups, self.registry, namespace_cached,
                                                            self._namespace))
        self.discovery = Discovery(self.registry)
        self.openapi = OpenAPI(self.registry)
        self.resources = ResourceHandler(self.api, self.registry)
        self.pki = PKI(config.data_dir / "pki")
        self.tokens = Signer(self.pki.dir / "sa.key")
        self.api.subresources["token"] = TokenRequests(self.tokens, [ISSUER])
        self.api.subresources["eviction"] = Eviction()
        token_sources = [TokenFile(config.token_auth_file, [ISSUER])] if config.token_auth_file else []
        self.bearer = BearerTokens(
            [*token_sources, ServiceAccountTokens(self.tokens, lambda plural, ns, name:
                                                  self.lookups.get("", plural, ns, name))], [ISSUER])
        self.authentication = Authentication([ClientCertificates(), self.bearer], config.anonymous_auth)
        self.rbac = RuleResolver(lambda plural, ns, name: self.lookups.get(RBAC_GROUP, plural, ns, name),
                                 lambda plural: self.lookups.list(RBAC_GROUP, plural, None))
        self.authorizer = RBACAuthorizer(self.rbac)
        answering = reviews.Reviewers(self.authorizer, self.rbac, self.bearer)
        for info in self.registry.all():
            if isinstance(info.strategy, ReviewStrategy):
                info.strategy.reviewers = answering
        escalation = EscalationCheck(self.rbac, self.authorizer)
        self.api.write_checks.update({(RBAC_GROUP, plural): escalation.check
                                      for plural in (*ROLE_KINDS, *BINDING_KINDS)})
        self.api.write_checks[("certificates.k8s.io", "certificatesigningrequests")] = \
            CertificateChecks(self.authorizer).check
        self.controllers = Controllers(self.api, self.informers, self.pki, self.tokens, quota_locks,
                                       self.authorizer.authorize, config.event_ttl, config.controllers,
                                       virtual=config.virtual)
        # The simulated containers, shared by the kubelets that run them and the streams that reach them.
        self.runtime = Runtime()
        self.streams = Streams(self.api, self.runtime, self.authorizer.authorize, config.kubernetes_version,
                               virtual=config.virtual)
        self.resources.connect = dict.fromkeys(("log", "exec", "attach", "portforward"), self.streams.serve)
        self.inflight = InFlight(config.max_requests_inflight, config.max_mutating_requests_inflight)
        policy = Policy.load(config.audit_policy_file) if config.audit_policy_file else None
        self.auditor = Auditor(policy, LogWriter(config.audit_log_path, config.audit_log_maxsize,
                                                 config.audit_log_maxbackup)
                               if policy and config.audit_log_path else None)
        self.runner: web.AppRunner | None = None
        self._v2_protobuf: tuple[str, bytes] = ("", b"")
        self.port = config.port
        major, minor = config.kubernetes_version.split(".")
        self.kubelets = Kubelets(self.api, self.informers, self.authorizer.authorize, self.runtime,
                                 count=config.nodes, kubelet_version=f"v{major}.{minor}.0")
        self.syncer = None
        self._syncer_task: asyncio.Task | None = None
        self._kubelets_task: asyncio.Task | None = None
        self.version_info = {
            "major": major, "minor": minor, "gitVersion": f"v{major}.{minor}.0-vapi.{__version__}",
            "gitCommit": "", "gitTreeState": "clean", "buildDate": "", "goVersion": f"python{platform.python_version()}",
            "compiler": platform.python_implementation().lower(), "platform": f"{sys.platform}/amd64",
        }

    def app(self) -> web.Application:
        # The body limit is enforced when reading, so a too-large body gets kube's own Status.
        app = web.Application(middlewares=[self.auditor.begin, status_errors, self._authenticate,
                                           self.auditor.received, self._authorize, self.inflight.middleware,
                                           deadline(self.config.request_timeout)],
                              client_max_size=64 * 1024 * 1024)
        self.auditor.install(app)
        r = app.router
        for path in ("/healthz", "/livez", "/readyz"):
            r.add_get(path, self.health)
            r.add_get(path + "/{check:[\\s\\S]+}", self.health)  # kube serves /healthz/ping..., not /healthz/
        r.add_get("/.well-known/openid-configuration", self.openid_configuration)
        r.add_get("/openid/v1/jwks", self.openid_keys)
        r.add_get("/version", self.version)
        r.add_get("/version/", self.version)
        r.add_get("/api", self.api_root)
        r.add_get("/apis", self.apis_root)
        r.add_get("/openapi/v2", self.openapi_v2)
        r.add_get("/swagger-2.0.0.pb-v1", self.openapi_v2_protobuf)
        r.add_get("/openapi/v3", self.openapi_v3_index)
        r.add_get("/openapi/v3/" + REST, self.openapi_v3)
        r.add_route("*", "/api/" + REST, self.core_group)
        r.add_route("*", "/apis/" + REST, self.named_group)
        r.add_route("*", "/" + REST, self.not_found)
        return app

    async def start(self) -> None:
        bound_connection_memory()
        self.pki.ensure()
        await self.store.start()
        await ensure_system_objects(self.api, WriteOptions(user=APISERVER))
        for plural in ("roles", "rolebindings", "clusterroles", "clusterrolebindings"):
            # What a user holds is recomputed after any change to a role or binding.
            self.informers.get(self.registry.get(RBAC_GROUP, "v1", plural)).add_handler(
                self.rbac.changed, self.rbac.resynced)
        self.controllers.crds.serve_stored()
        # Pods on a node report their containers to the runtime as their status changes.
        if not self.config.virtual:   # a virtual cluster's containers are the host's
            self.informers.get(self.registry.get("", "v1", "pods")).add_handler(self._pod_changed)
        # kube-apiserver takes request lines and headers up to 1 MiB (long field selectors, paths).
        self.runner = Runner(self.app(), access_log=None, handler_cancellation=True, max_line_size=MAX_HEADER,
                             max_field_size=MAX_HEADER, header_timeout=self.config.read_header_timeout)
        await self.runner.setup()
        site = Site(self.runner, self.config.host, self.config.port,
                           ssl_context=self.pki.server_context(), reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self.kubeconfig = self.config.data_dir / "kubeconfig.yaml"
        self.pki.write_kubeconfig(self.kubeconfig, f"https://{self.config.host}:{self.port}")
        await ensure_kubernetes_service(self.api, self.config.host, self.port, WriteOptions(user=APISERVER))
        self.controllers.start()
        if self.config.virtual:
            self._syncer_task = asyncio.create_task(self._start_syncer(), name="syncer start")
        if not self.config.virtual:   # the host's kubelets run a virtual cluster's pods
            self._kubelets_task = asyncio.create_task(self.kubelets.run(), name="kubelets")
        self._trimmer = asyncio.create_task(give_back_memory())

    async def _start_syncer(self) -> None:
        """The syncer of a virtual cluster. The host client (the official `kubernetes` client,
        a quarter second to load) is made on a thread, so the server answers meanwhile."""
        def host_client():
            from syncer.host import Host
            return Host(self.config.host_kubeconfig, self.config.host_namespace)
        try:
            host = await asyncio.to_thread(host_client)
        except Exception as e:  # noqa: BLE001 - a kubeconfig the client cannot use: say so, serve on
            log.error("virtual cluster %s: cannot use the host kubeconfig %s: %s", self.config.name,
                      self.config.host_kubeconfig, e)
            return
        from syncer.cluster import Syncer
        from syncer.config import SyncConfig
        from syncer.streams import HostStreams
        c = self.config
        self.syncer = Syncer(ActingAs(self.api, SYNCER, self.authorizer.authorize), self.informers, host, c.name,
                             SyncConfig.load(c.sync_config), (c.advertise_address or c.host, self.port),
                             c.kubernetes_version)
        self.streams.remote = HostStreams(self.syncer.ctx)   # pods run on the host: so do their streams
        self.syncer.start()

    @web.middleware
    async def _authenticate(self, request: web.Request, handler):
        user = self.authentication.authenticate(request)
        # Impersonation sits between authentication and authorization, as in kube's filter chain;
        # the audit log (next) records both who asked and whom they act as.
        try:
            acting = impersonate(request.headers, user, self.authorizer)
        except ImpersonationError as e:
            return _plain_internal_error(request, str(e))
        if acting is not user:
            request["impersonator"] = user
        request["user"] = acting
        return await handler(request)

    @web.middleware
    async def _authorize(self, request: web.Request, handler):
        info = request["request_info"] = request_info(request.method, request.path, request.query)
        decision, reason = self.authorizer.authorize(Attributes.of(request["user"], info))
        request[AUTHORIZATION] = ("allow" if decision == ALLOW else "forbid", reason)
        if decision != ALLOW:
            raise errors.forbidden_request(info, request["user"], reason)
        return await handler(request)

    async def _pod_changed(self, event: str, pod: dict, previous: dict | None) -> None:
        if event == "DELETED":
            self.runtime.forget(pod["metadata"]["uid"])
        elif (pod.get("spec") or {}).get("nodeName"):
            self.runtime.register(pod)

    async def _namespace(self, name: str) -> dict | None:
        """A namespace as stored now: admission's look-up when its cache has not seen it yet."""
        try:
            return self.api.get(self.registry.get("", "v1", "namespaces"), None, name)
        except errors.StatusError as e:
            if e.code == 404:
                return None
            raise

    async def stop(self) -> None:
        if getattr(self, "_trimmer", None):
            self._trimmer.cancel()
        if self._kubelets_task is not None:
            self._kubelets_task.cancel()
            await asyncio.gather(self._kubelets_task, return_exceptions=True)
            await self.kubelets.close()
        if self._syncer_task is not None:
            self._syncer_task.cancel()
            await asyncio.gather(self._syncer_task, return_exceptions=True)
        if self.syncer is not None:
            await self.syncer.stop()
        await self.controllers.stop()
        for plugin in self.api.admission.plugins:  # plugins holding connections (webhooks) let them go
            if hasattr(plugin, "close"):
                await plugin.close()
        if self.runner:
            await self.runner.cleanup()
        await self.store.close()
        self.auditor.close()

    # --- non-resource endpoints --------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def openid_configuration(self, request: web.Request) -> web.Response:
        """Where others find the keys that verify service-account tokens (kube's OIDC discovery)."""
        body = {"issuer": self.tokens.issuer, "jwks_uri": f"https://{self.config.host}:{self.port}/openid/v1/jwks",
                "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"]}
        return web.Response(body=orjson.dumps(body), content_type=JSON,
                            headers={"Cache-Control": "public, max-age=3600"})

    async def openid_keys(self, request: web.Request) -> web.Response:
        jwks = await asyncio.to_thread(self.tokens.jwks)  # the first use may make the key
        return web.Response(body=orjson.dumps(jwks), content_type="application/jwk-set+json",
                            headers={"Cache-Control": "public, max-age=3600"})

    async def version(self, request: web.Request) -> web.Response:
        # kube writes version.Info indented, without a trailing newline (responsewriters.WriteRawJSON).
        return web.Response(body=orjson.dumps(self.version_info, option=orjson.OPT_INDENT_2), content_type=JSON)

    def _aggregated_version(self, request: web.Request) -> str | None:
        for _, params in accepted(request):
            if params.get("as") == "APIGroupDiscoveryList" and params.get("g") == "apidiscovery.k8s.io" \
                    and params.get("v") in AGGREGATED_VERSIONS:
                return params["v"]
        return None

    def _cached_json(self, request, body: bytes, etag: str, content_type: str = JSON) -> web.Response:
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": content_type})

    def _aggregated(self, request, legacy: bool) -> web.Response | None:
        version = self._aggregated_version(request)
        if not version:
            return None
        body, etag = self.discovery.aggregated(legacy, version)
        return self._cached_json(request, body, etag,
                                 f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList")

    async def api_root(self, request: web.Request) -> web.Response:
        return self._aggregated(request, True) or web.Response(
            body=self.discovery.api_versions(f"{self.config.host}:{self.port}"), content_type=JSON)

    async def apis_root(self, request: web.Request) -> web.Response:
        aggregated = self._aggregated(request, False)
        if aggregated:
            return aggregated
        body, etag = self.discovery.group_list()
        return self._cached_json(request, body, etag)

    async def core_group(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.match_info["path"].split("/") if p]
        if not parts and request.method == "GET":
            return await self.api_root(request)  # /api/, as kube answers it
        if parts == ["v1"]:
            body, etag = self.discovery.resource_list("", "v1")
            return self._cached_json(request, body, etag)
        ri = request["request_info"]
        if not ri.resource_request or ri.version != "v1" or request.method not in RESOURCE_METHODS:
            raise errors.path_not_found()
        return await self.resources.handle(request, ri)

    async def named_group(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.match_info["path"].split("/") if p]
        if not parts and request.method == "GET":
            return await self.apis_root(request)  # /apis/, as kube answers it
        if len(parts) == 1 and request.method == "GET":
            found = self.discovery.group(parts[0])
            if found:
                return self._cached_json(request, *found)
            raise errors.path_not_found()
        if len(parts) == 2 and request.method == "GET":
            found = self.discovery.resource_list(parts[0], parts[1])
            if found:
                return self._cached_json(request, *found)
            raise errors.path_not_found()
        ri = request["request_info"]
        if not ri.resource_request or request.method not in RESOURCE_METHODS:
            raise errors.path_not_found()
        return await self.resources.handle(request, ri)

    async def not_found(self, request: web.Request) -> web.Response:
        # Paths outside the API are kube's mux's to refuse, with Go's http.NotFound.
        return web.Response(status=404, text="404 page not found\n", content_type="text/plain", charset="utf-8",
                            headers={"X-Content-Type-Options": "nosniff"})

    # --- OpenAPI -------------------------------------------------------------------------------

    async def openapi_v2(self, request: web.Request) -> web.Response:
        if OPENAPI_V2_PROTOBUF_ACCEPT in request.headers.get("Accept", ""):
            return await self.openapi_v2_protobuf(request)
        body, etag = self.openapi.v2_json()
        return self._cached_json(request, body, etag)

    async def openapi_v2_protobuf(self, request: web.Request) -> web.Response:
        _, etag = self.openapi.v2_json()
        if self._v2_protobuf[0] != etag:
            # Encoding the whole document takes a while; do it once per document version.
            self._v2_protobuf = (etag, encode_openapi_v2(self.openapi.v2_document()))
        return self._cached_json(request, self._v2_protobuf[1], etag, OPENAPI_V2_PROTOBUF)

    async def openapi_v3_index(self, request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(self.openapi.v3_index()), content_type=JSON)

    async def openapi_v3(self, request: web.Request) -> web.Response:
        found = self.openapi.v3_document(request.match_info["path"])
        if found is None:
            raise errors.path_not_found()
        body, digest = found
        headers = {"Content-Type": JSON, "ETag": f'"{digest}"'}
        if request.query.get("hash") == digest:
            # The hash names this exact content, so clients may cache it for good, as kube allows.
            headers["Cache-Control"] = "public, immutable"
            headers["Expires"] = (datetime.datetime.now(datetime.timezone.utc)
                                  + datetime.timedelta(days=365)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        if request.headers.get("If-None-Match") == headers["ETag"]:
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, headers=headers)
