"""A virtual pod's logs, exec, attach and port-forward, reached through its host copy.

kube-apiserver proxies these subresources to the kubelet; a virtual cluster proxies them to the
host's API server, which proxies them to its kubelet. The virtual server has already read the
pod, authorized the request and chosen the container (`vapi.wire.streams.Streams`); here the
host copy's same subresource is asked with the host client's credentials, and:
- a log's body is passed on as it arrives (a followed log stays open as long as both ends do);
- an upgrade (SPDY, or WebSocket with kube's channel subprotocols) is forwarded with the
  client's own handshake headers; once the host answers 101, the client gets the same answer
  and bytes are piped both ways as they come, unparsed, each direction reading only as fast as
  the other side takes them, so no stream is held whole.
A refusal of the host reaches the client as the host's Status, with the host copy's name put
back to the virtual pod's.
"""
from __future__ import annotations

import asyncio
import contextlib
import ssl
import urllib.parse
from collections.abc import AsyncIterator

from aiohttp import web
from multidict import CIMultiDict

from vapi import errors
from vapi.wire import channels

from .host import HostResource, status_error, unreachable

PODS = HostResource("", "v1", "pods")
CHUNK = 64 * 1024
MAX_HEAD = 64 * 1024
MAX_REFUSAL = 1024 * 1024
CONNECT_SECONDS = 30.0
# The client's side of an upgrade handshake, passed to the host as it is.
HANDSHAKE = ("Connection", "Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol",
             "Sec-WebSocket-Extensions", "X-Stream-Protocol-Version")
# What the server here writes itself on its 101.
OWN_HEADERS = {"date", "server", "content-length", "transfer-encoding", "content-type", "keep-alive"}


class _Answer:
    """The host's answer: status and headers read, the rest still on the connection."""

    def __init__(self, status: int, headers: CIMultiDict, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter):
        self.status, self.headers, self.reader, self.writer = status, headers, reader, writer

    async def body(self) -> AsyncIterator[bytes]:
        """The body as it arrives, in whichever framing the host chose."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while size := int((await self.reader.readline()).split(b";")[0].strip() or b"0", 16):
                async for piece in self._pieces(size):
                    yield piece
                await self.reader.readline()
            return
        length = self.headers.get("Content-Length")
        if length is not None:
            async for piece in self._pieces(int(length)):
                yield piece
            return
        while piece := await self.reader.read(CHUNK):
            yield piece

    async def _pieces(self, size: int) -> AsyncIterator[bytes]:
        while size > 0:
            piece = await self.reader.read(min(size, CHUNK))
            if not piece:
                raise ConnectionResetError("the host ended the answer early")
            size -= len(piece)
            yield piece

    def close(self) -> None:
        self.writer.close()


class HostStreams:
    def __init__(self, ctx):
        self.ctx = ctx
        url = urllib.parse.urlsplit(ctx.host.server)
        self.hostname, self.port = url.hostname, url.port or 443
        self.authority, self.prefix = url.netloc, url.path.rstrip("/")
        self._ssl: ssl.SSLContext | None = None

    def _target(self, pod: dict, subresource: str, query: list[tuple[str, str]]) -> str:
        meta = pod["metadata"]
        path = PODS.path(self.ctx.host.namespace, self.ctx.host_name(meta["name"], meta["namespace"]), subresource)
        return f"{self.prefix}{urllib.parse.quote(path)}?{urllib.parse.urlencode(query)}"

    async def _ask(self, method: str, target: str, headers: list[tuple[str, str]],
                   patient: bool = False) -> _Answer:
        """Send the request and read the answer's head. `patient`: the host may hold its head back
        until there is something to say (a followed log of a quiet container), so no deadline."""
        if self._ssl is None:
            self._ssl = self.ctx.host.ssl_context()
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                reader, writer = await asyncio.open_connection(self.hostname, self.port, ssl=self._ssl,
                                                               limit=CHUNK)
        except (OSError, TimeoutError, ssl.SSLError) as e:
            raise unreachable(e) from None
        try:
            lines = [f"{method} {target} HTTP/1.1", f"Host: {self.authority}",
                     *(f"{k}: {v}" for k, v in [*headers, *self.ctx.host.auth_headers().items()])]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            async with asyncio.timeout(None if patient else CONNECT_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            status_line, *fields = head.decode("latin-1").split("\r\n")
            status = int(status_line.split()[1])
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                IndexError) as e:
            writer.close()
            raise unreachable(e) from None
        except BaseException:   # the client went away meanwhile
            writer.close()
            raise
        answer = CIMultiDict()
        for field in fields:
            if ":" in field:
                key, value = field.split(":", 1)
                answer.add(key.strip(), value.strip())
        return _Answer(status, answer, reader, writer)

    # --- log -------------------------------------------------------------------------------

    async def log(self, request: web.Request, pod: dict, container: str, follow: bool) -> web.StreamResponse:
        query = [(k, v) for k, v in request.query.items() if k != "container"] + [("container", container)]
        answer = await self._ask("GET", self._target(pod, "log", query), [("Accept", "*/*"), ("Connection", "close")],
                                 patient=follow)
        try:
            if answer.status != 200:
                raise await self._refusal(answer, pod, "log", container)
            response = web.StreamResponse(headers={"Content-Type": answer.headers.get("Content-Type", "text/plain")})
            await response.prepare(request)
            with contextlib.suppress(ConnectionError):   # the host went away mid-log: the log ends there
                async for piece in answer.body():
                    await response.write(piece)
            await response.write_eof()
            return response
        finally:
            answer.close()

    # --- exec, attach, port-forward --------------------------------------------------------

    async def connect(self, request: web.Request, subresource: str, pod: dict,
                      container: str | None) -> web.StreamResponse:
        query = list(request.query.items())
        if container is not None:
            query = [(k, v) for k, v in query if k != "container"] + [("container", container)]
        handshake = [(k, v) for k in HANDSHAKE for v in request.headers.getall(k, ())]
        answer = await self._ask(request.method, self._target(pod, subresource, query), handshake)
        try:
            if answer.status != 101:
                raise await self._refusal(answer, pod, subresource, container)
            try:
                client = await channels.hijack(request, [(k, v) for k, v in answer.headers.items()
                                                         if k.lower() not in OWN_HEADERS])
            except ConnectionResetError:   # the client went away while the host answered
                return web.Response()
            try:
                await _pipe(client, answer)
            finally:
                client.close()
            return client.response
        finally:
            answer.close()

    # --- refusals --------------------------------------------------------------------------

    async def _refusal(self, answer: _Answer, pod: dict, subresource: str,
                       container: str | None) -> errors.StatusError:
        body = b""
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            async for piece in answer.body():
                body += piece
                if len(body) > MAX_REFUSAL:
                    break
        meta = pod["metadata"]
        name, namespace = meta["name"], meta["namespace"]
        if answer.status == 404:
            # The host copy is gone (deleted by hand, not yet made again): what the kubelet says
            # of a pod it does not run.
            if subresource == "log":
                return errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: '
                                          "ContainerCreating")
            if container is not None:
                return errors.bad_request(f'container not found ("{container}")')
            return errors.bad_request(f'pod not found ("{name}_{namespace}")')
        host_name = self.ctx.host_name(name, namespace)
        refusal = status_error(answer.status, body)
        details = refusal.details
        if isinstance(details, dict) and details.get("name") == host_name:
            details = {**details, "name": name}
        return errors.StatusError(refusal.code, refusal.reason, refusal.message.replace(host_name, name), details)


async def _pipe(client: channels.Hijacked, answer: _Answer) -> None:
    """Bytes both ways until either side ends; each write waits until the other side takes it."""
    async def up() -> None:
        while data := await client.read():
            answer.writer.write(data)
            await answer.writer.drain()

    async def down() -> None:
        while data := await answer.reader.read(CHUNK):
            await client.write(data)

    tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
