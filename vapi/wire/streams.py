"""The streaming subresources of pods: `log`, `exec`, `attach` and `portforward`.

As kube-apiserver does, the pod is read from the API first (404 when it is missing) and the
container named or defaulted as kube's pod strategy does; then, where kube would reach the
kubelet, the simulated runtime (`vapi.nodes.runtime`) answers: its container logs, its simulated
commands (`vapi.nodes.commands`), its echoing ports. Errors the kubelet would give are worded as
the kubelet words them.

In a virtual cluster the pods run on a host cluster instead: `remote` (the syncer's
`syncer.streams.HostStreams`) takes the runtime's place once the pod is read and checked here,
and reaches the host copy's same subresource.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import secrets

from aiohttp import web

from .. import errors
from ..auth.authz import ALLOW, Attributes
from ..nodes import commands
from . import channels

CONNECT = ("exec", "attach", "portforward")
TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%f"
# Since kube 1.35 a WebSocket (GET) exec, attach or port-forward is also authorized as `create`.
WEBSOCKET_CREATE_CHECK_SINCE = (1, 35)


def _bool(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true", "t")


def _container_names(containers) -> str:
    return " ".join(c.get("name", "") for c in containers or [])


def choose_container(pod: dict, name: str, requested: str) -> str:
    """kube's pod strategy: the one container when there is one, else the client must name it."""
    spec = pod.get("spec") or {}
    if not requested:
        containers = spec.get("containers") or []
        if len(containers) == 1:
            return containers[0].get("name", "")
        if not containers:
            raise errors.bad_request(f"a container name must be specified for pod {name}")
        message = f"a container name must be specified for pod {name}, choose one of: [{_container_names(containers)}]"
        if spec.get("initContainers"):
            message += f" or one of the init containers: [{_container_names(spec['initContainers'])}]"
        raise errors.bad_request(message)
    every = [c.get("name") for key in ("containers", "initContainers", "ephemeralContainers")
             for c in spec.get(key) or []]
    if requested not in every:
        raise errors.bad_request(f"container {requested} is not valid for pod {name}")
    return requested


def container_status(pod: dict, container: str) -> dict | None:
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            if cs.get("name") == container:
                return cs
    return None


def _invalid_log_options(name: str, causes: list[tuple[str, str, object]]) -> errors.StatusError:
    details = [f"{field}: Invalid value: {value}: {why}" for field, why, value in causes]
    message = f'PodLogOptions "{name}" is invalid: ' + (details[0] if len(details) == 1 else f"[{', '.join(details)}]")
    return errors.StatusError(422, "Invalid", message, {
        "name": name, "kind": "PodLogOptions",
        "causes": [{"reason": "FieldValueInvalid", "message": f"Invalid value: {value}: {why}", "field": field}
                   for field, why, value in causes]})


def _int_query(request: web.Request, key: str) -> int | None:
    raw = request.query.get(key)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


def _since_time(raw: str | None) -> datetime.datetime | None:
    if not raw:
        return None
    try:
        return datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise errors.bad_request(f'parsing time "{raw}" as "2006-01-02T15:04:05Z07:00": cannot parse') from None


def _on_a_node(pod: dict, name: str) -> None:
    """Where kube-apiserver finds no kubelet to reach."""
    if not (pod.get("spec") or {}).get("nodeName"):
        raise errors.bad_request(f"pod {name} does not have a host assigned")


def exit_status(argv: list[str], code: int) -> dict:
    """The error channel's Status for a finished command, as the container runtime reports it."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: command '{' '.join(argv)}' exited with {code}: ",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


class Streams:
    def __init__(self, api, runtime, authorize, kubernetes_version: str = "1.33", remote=None,
                 virtual: bool = False):
        self.api, self.runtime, self.authorize = api, runtime, authorize
        self.remote = remote
        self.virtual = virtual   # pods run on a host: until `remote` is set, their streams wait for it
        self.version = tuple(int(p) for p in kubernetes_version.split(".")[:2])

    async def serve(self, request: web.Request, info, ri, namespace: str, name: str) -> web.StreamResponse:
        if self.virtual and self.remote is None:
            raise errors.StatusError(503, "ServiceUnavailable", "the host cluster is not reached yet")
        if ri.subresource == "log":
            return await self.log(request, info, namespace, name)
        if request.method == "GET" and self.version >= WEBSOCKET_CREATE_CHECK_SINCE:
            as_create = dataclasses.replace(ri, verb="create")
            decision, reason = self.authorize(Attributes.of(request["user"], as_create))
            if decision != ALLOW:
                raise errors.forbidden_request(as_create, request["user"], reason)
        pod = self.api.get(info, namespace, name)
        if ri.subresource == "portforward":
            _on_a_node(pod, name)
            if self.remote is not None:
                return await self.remote.connect(request, "portforward", pod, None)
            return await self.port_forward(request)
        return await self.connect(request, ri.subresource, pod, name)

    # --- log -------------------------------------------------------------------------------

    async def log(self, request: web.Request, info, namespace: str, name: str) -> web.StreamResponse:
        pod = self.api.get(info, namespace, name)
        tail, limit = _int_query(request, "tailLines"), _int_query(request, "limitBytes")
        since_seconds = _int_query(request, "sinceSeconds")
        since = _since_time(request.query.get("sinceTime"))
        causes = []
        if since_seconds is not None and since is not None:
            causes.append(("sinceSeconds", "at most one of `sinceTime` or `sinceSeconds` may be specified",
                           since_seconds))
        if since_seconds is not None and since_seconds < 1:
            causes.append(("sinceSeconds", "must be greater than 0", since_seconds))
        if tail is not None and tail < 0:
            causes.append(("tailLines", "must be greater than or equal to 0", tail))
        if limit is not None and limit < 1:
            causes.append(("limitBytes", "must be greater than 0", limit))
        if causes:
            raise _invalid_log_options(name, causes)
        container = choose_container(pod, name, request.query.get("container", ""))
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        if not (pod.get("spec") or {}).get("nodeName"):
            await response.prepare(request)   # not on a node yet: kube answers with nothing
            return response
        if self.remote is not None:
            return await self.remote.log(request, pod, container, _bool(request, "follow"))
        uid = pod["metadata"]["uid"]
        instance, running = self._log_instance(pod, name, container, _bool(request, "previous"))
        if since_seconds is not None:
            since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=since_seconds)
        logs = self.runtime.logs
        if _bool(request, "follow") and running:
            entries = logs.follow(uid, container, instance, since=since, tail=tail)
        else:
            entries = _aiter(logs.read(uid, container, instance, since=since, tail=tail))
        await response.prepare(request)
        stamps = _bool(request, "timestamps")
        left = limit
        async for entry in entries:
            text = f"{entry.line}\n"
            if stamps:
                text = f"{entry.when.astimezone(datetime.timezone.utc).strftime(TIMESTAMP)}000Z {text}"
            data = text.encode()
            if left is not None:
                data, left = data[:left], left - len(data[:left])
            await response.write(data)
            if left is not None and left <= 0:
                break
        await response.write_eof()
        return response

    def _log_instance(self, pod: dict, name: str, container: str, previous: bool) -> tuple[int, bool]:
        """Which run of the container to read, and whether it still runs; the kubelet's refusals."""
        status = container_status(pod, container)
        if status is None:
            raise errors.bad_request(f'container "{container}" in pod "{name}" is not available')
        restarts = int(status.get("restartCount") or 0)
        state, last = status.get("state") or {}, status.get("lastState") or {}
        if previous:
            if "terminated" not in last:
                raise errors.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
            return restarts - 1, False
        if "running" in state:
            return restarts, True
        if "terminated" in state:
            return restarts, False
        if "terminated" in last:
            return restarts - 1, False
        if "waiting" in state:
            reason = (state["waiting"] or {}).get("reason", "")
            reason = {"ErrImagePull": "image can't be pulled",
                      "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
            raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start - no logs yet')

    # --- exec and attach -------------------------------------------------------------------

    async def connect(self, request: web.Request, subresource: str, pod: dict, name: str) -> web.StreamResponse:
        q = request.query
        argv = q.getall("command", [])
        stdin, stdout, stderr, tty = (_bool(request, k) for k in ("stdin", "stdout", "stderr", "tty"))
        if subresource == "exec" and not argv:
            raise errors.bad_request("you must specify at least one command for the container")
        if not (stdin or stdout or stderr):
            raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
        container = choose_container(pod, name, q.get("container", ""))
        _on_a_node(pod, name)
        phase = (pod.get("status") or {}).get("phase")
        if subresource == "exec" and phase in ("Succeeded", "Failed"):
            raise errors.bad_request(f"cannot exec into a container in a completed pod; current phase is {phase}")
        if self.remote is not None:
            return await self.remote.connect(request, subresource, pod, container)
        uid = pod["metadata"]["uid"]
        held = self.runtime.container(uid, container)
        if held is None:
            raise errors.bad_request(f'container not found ("{container}")')
        terminal = await self._terminal(request, stdin, stdout, stderr, tty)
        if terminal is None:
            raise errors.bad_request("Upgrade request required")
        if subresource == "exec":
            work = self._exec(terminal, held, argv)
        else:
            work = self._attach(terminal, held)
        runner = asyncio.create_task(work)
        gone = asyncio.create_task(terminal.gone.wait())
        try:
            await asyncio.wait({runner, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not runner.done():
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await runner
        if runner.done() and not runner.cancelled() and runner.exception() is None:
            await terminal.finish(runner.result())
        elif not terminal.gone.is_set():
            await terminal.finish({"metadata": {}, "status": "Failure", "message": "error executing command",
                                   "reason": "InternalError", "code": 500})
        return terminal.response

    async def _terminal(self, request, stdin, stdout, stderr, tty) -> channels.Terminal | None:
        if channels.wants_websocket(request):
            ws = await channels.websocket(request, channels.EXEC_PROTOCOLS)
            return channels.WebSocketTerminal(ws, stdin, tty)
        if channels.wants_spdy(request):
            protocol = channels.negotiate(request, channels.SPDY_EXEC_PROTOCOLS)
            session = await channels.upgrade_spdy(request, protocol)
            return await channels.SpdyTerminal.open(session, protocol, stdin, stdout, stderr, tty)
        return None

    async def _exec(self, terminal: channels.Terminal, held, argv: list[str]) -> dict:
        crlf = (lambda write: (lambda data: write(data.replace(b"\n", b"\r\n")))) if terminal.tty else (lambda w: w)
        stdin = terminal.stdin or commands.closed_pipe()
        if terminal.tty and terminal.stdin is not None:
            stdin = commands.terminal_input(stdin, terminal.stdout)
        proc = commands.Process(stdin, crlf(terminal.stdout),
                                crlf(terminal.stdout if terminal.tty else terminal.stderr),
                                commands.environment(held.pod, held.spec),
                                commands.hostname(held.pod), terminal.tty)
        try:
            return exit_status(argv, await commands.shell(proc, argv))
        except commands.NotFound as e:
            # containerd's words, through the kubelet's InternalError
            why = (f'error executing command in container: failed to exec in container: failed to start exec '
                   f'"{secrets.token_hex(32)}": {e}')
            return {"metadata": {}, "status": "Failure", "message": f"Internal error occurred: {why}",
                    "reason": "InternalError", "details": {"causes": [{"message": why}]}, "code": 500}

    async def _attach(self, terminal: channels.Terminal, held) -> dict:
        """The container's own output from now on; the client's input to its stdin, if it has one."""
        feeding = None
        if terminal.stdin is not None:
            async def feed():
                while data := await terminal.stdin.read():
                    if held.stdin is not None:
                        held.stdin.feed(data)
            feeding = asyncio.create_task(feed())
        try:
            async for entry in self.runtime.logs.follow(held.uid, held.name, held.instance, tail=0):
                await terminal.stdout(f"{entry.line}\n".encode())
        finally:
            if feeding is not None:
                feeding.cancel()
        return exit_status([], 0)

    # --- port-forward ----------------------------------------------------------------------

    async def port_forward(self, request: web.Request) -> web.StreamResponse:
        if channels.wants_websocket(request):
            asked = [p.strip() for v in request.headers.getall("Sec-WebSocket-Protocol", ()) for p in v.split(",")]
            if channels.TUNNELED_PORT_FORWARD in asked:
                ws = await channels.websocket(request, (channels.TUNNELED_PORT_FORWARD,))
                session = channels.websocket_session(ws)
                await asyncio.gather(session.run(), channels.spdy_port_forward(session))
                return ws
            ports = self._ports(request)
            ws = await channels.websocket(request, (channels.V4, channels.PORT_FORWARD))
            await channels.websocket_port_forward(ws, ports)
            return ws
        if channels.wants_spdy(request):
            protocol = channels.negotiate(request, (channels.PORT_FORWARD,))
            session = await channels.upgrade_spdy(request, protocol)
            try:
                await asyncio.gather(session.run(), channels.spdy_port_forward(session))
            finally:
                session.hang_up()
            return session.response
        raise errors.bad_request("Upgrade request required")

    def _ports(self, request: web.Request) -> list[int]:
        ports = []
        for value in request.query.getall("ports", []):
            for part in value.split(","):
                if not part.strip().isdigit() or not 0 < int(part) < 65536:
                    raise errors.bad_request(f'unable to parse "{part}" as a port: invalid port')
                ports.append(int(part))
        if not ports:
            raise errors.bad_request("query parameter \"port\" is required")
        return ports


async def _aiter(items):
    for item in items:
        yield item
