"""kube's streaming protocols on the wire: the numbered channels of exec, attach and port-forward,
over WebSocket (`v5.channel.k8s.io` down to `channel.k8s.io`, kubectl 1.30+ and most libraries)
and over SPDY/3.1 streams (kubectl 1.27 to 1.29; port-forward from 1.31 tunnels SPDY through a
WebSocket, `SPDY/3.1+portforward.k8s.io`).

Exec and attach see one `Terminal` whichever the transport: stdin as a `Pipe`, stdout and stderr
to write, and `finish(status)` writing the error channel's Status (JSON from v4 on; before, the
message alone, and only on failure) and closing.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import struct
from collections.abc import Callable

import orjson
from aiohttp import WSMsgType, web

from .. import errors
from ..nodes.commands import Pipe
from . import spdy

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
V5, V4 = "v5.channel.k8s.io", "v4.channel.k8s.io"
EXEC_PROTOCOLS = (V5, V4, "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")
SPDY_EXEC_PROTOCOLS = (V4, "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")
PORT_FORWARD = "portforward.k8s.io"
TUNNELED_PORT_FORWARD = "SPDY/3.1+portforward.k8s.io"
STREAM_WAIT_SECONDS = 30.0   # kube's streamCreationTimeout
WRITE_HIGH_WATER = 256 * 1024
READ_LIMIT = 64 * 1024


def status_bytes(protocol: str, status: dict) -> bytes:
    if protocol in (V5, V4):
        return orjson.dumps(status)
    return b"" if status.get("status") == "Success" else status.get("message", "").encode()


# --- upgrading an HTTP connection to SPDY --------------------------------------------------------


class _Upgraded(web.StreamResponse):
    """A 101 answer after which the connection is the handler's: no body framing, no end of body."""
    _length_check = False

    async def write_eof(self, data: bytes = b"") -> None:
        return None


class _Raw:
    """What aiohttp reads off an upgraded connection, handed to a reader that holds at most
    `READ_LIMIT` bytes: past that the connection stops reading until the handler catches up."""

    def __init__(self, reader: asyncio.StreamReader):
        self.reader = reader

    def feed_data(self, data) -> tuple[bool, bytes]:
        self.reader.feed_data(bytes(data))
        return False, b""

    def feed_eof(self) -> None:
        self.reader.feed_eof()


@dataclasses.dataclass
class Hijacked:
    """A connection the handler owns after its 101: bytes in and out, nothing framed by HTTP."""
    response: web.StreamResponse
    read: spdy.Read          # some bytes, b"" once the client has closed
    write: spdy.Write
    close: Callable[[], None]


def requested_protocols(request: web.Request) -> list[str]:
    return [p.strip() for value in request.headers.getall("X-Stream-Protocol-Version", ())
            for p in value.split(",") if p.strip()]


def negotiate(request: web.Request, supported: tuple[str, ...]) -> str:
    """The first protocol the client lists that we speak; kube's handshake refuses with 403 else."""
    asked = requested_protocols(request)
    if not asked:
        return ""
    for protocol in asked:
        if protocol in supported:
            return protocol
    raise errors.StatusError(403, "Forbidden", f"unable to upgrade: unable to negotiate protocol: client supports "
                                                f"{asked}, server supports {list(supported)}")


def wants_spdy(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower().startswith("spdy/")


def wants_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


async def hijack(request: web.Request, headers) -> Hijacked:
    """Answer 101 with `headers` and take the connection over, as kube's upgrade-aware handlers do."""
    transport = request.transport
    if transport is None or transport.is_closing():
        raise ConnectionResetError("the client has gone")
    response = _Upgraded(status=101, headers=headers)
    await response.prepare(request)
    reader = asyncio.StreamReader(limit=READ_LIMIT)
    reader.set_transport(transport)
    request.protocol.set_parser(_Raw(reader))

    async def read() -> bytes:
        return await reader.read(READ_LIMIT)

    async def write(data: bytes) -> None:
        if transport.is_closing():
            raise ConnectionResetError("the client has gone")
        transport.write(data)
        if transport.get_write_buffer_size() > WRITE_HIGH_WATER:
            await request.protocol._drain_helper()

    return Hijacked(response, read, write, transport.close)


async def upgrade_spdy(request: web.Request, protocol: str) -> spdy.Session:
    headers = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1"}
    if protocol:
        headers["X-Stream-Protocol-Version"] = protocol
    connection = await hijack(request, headers)
    session = spdy.Session(connection.read, connection.write)
    session.response = connection.response
    session.hang_up = connection.close
    return session


async def websocket(request: web.Request, protocols: tuple[str, ...]) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=protocols, autoping=True, max_msg_size=0)
    await ws.prepare(request)
    return ws


def websocket_session(ws: web.WebSocketResponse) -> spdy.Session:
    """SPDY carried in binary WebSocket messages, as kubectl's port-forward tunnels it."""
    async def read() -> bytes:
        while True:
            msg = await ws.receive()
            if msg.type == WSMsgType.BINARY:
                if msg.data:       # the client writes empty messages too: not an end
                    return msg.data
                continue
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return b""

    async def write(data: bytes) -> None:
        await ws.send_bytes(data)

    return spdy.Session(read, write)


# --- exec and attach ---------------------------------------------------------------------------


class Terminal:
    """The client's end of a command: its stdin, its stdout and stderr, the error channel."""

    def __init__(self, protocol: str, stdin: bool, tty: bool):
        self.protocol = protocol
        self.stdin: Pipe | None = Pipe() if stdin else None
        self.tty = tty
        self.gone = asyncio.Event()     # the client went away
        self.response: web.StreamResponse | None = None   # what the handler answers with

    async def stdout(self, data: bytes) -> None:
        raise NotImplementedError

    async def stderr(self, data: bytes) -> None:
        raise NotImplementedError

    async def finish(self, status: dict) -> None:
        raise NotImplementedError


class WebSocketTerminal(Terminal):
    def __init__(self, ws: web.WebSocketResponse, stdin: bool, tty: bool):
        super().__init__(ws.ws_protocol or "", stdin, tty)
        self.ws = self.response = ws
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                data = msg.data.encode() if msg.type == WSMsgType.TEXT else msg.data
                if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT) or not data:
                    continue
                channel, payload = data[0], data[1:]
                if channel == STDIN and self.stdin is not None:
                    self.stdin.feed(payload)
                elif channel == CLOSE and payload[:1] == bytes([STDIN]) and self.stdin is not None:
                    self.stdin.close()
        finally:
            if self.stdin is not None:
                self.stdin.close()
            self.gone.set()

    async def _send(self, channel: int, data: bytes) -> None:
        if data and not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_bytes(bytes([channel]) + data)

    async def stdout(self, data: bytes) -> None:
        await self._send(STDOUT, data)

    async def stderr(self, data: bytes) -> None:
        await self._send(STDERR, data)

    async def finish(self, status: dict) -> None:
        await self._send(ERROR, status_bytes(self.protocol, status))
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close()
        self.reader.cancel()


class SpdyTerminal(Terminal):
    """The streams kubectl opens, one per channel, named by their `streamtype` header."""

    def __init__(self, session: spdy.Session, protocol: str, streams: dict[str, spdy.Stream], stdin: bool,
                 tty: bool):
        super().__init__(protocol, stdin, tty)
        self.session, self.streams = session, streams
        self.response = session.response
        self.tasks = [asyncio.create_task(self._watch())]
        if stdin:
            self.tasks.append(asyncio.create_task(self._read_stdin()))

    @classmethod
    async def open(cls, session: spdy.Session, protocol: str, stdin: bool, stdout: bool, stderr: bool,
                   tty: bool) -> SpdyTerminal:
        wanted = {"error"} | {name for name, on in (("stdin", stdin), ("stdout", stdout),
                                                    ("stderr", stderr and not tty)) if on}
        if tty and protocol not in ("v2.channel.k8s.io", "channel.k8s.io"):
            wanted.add("resize")
        streams: dict[str, spdy.Stream] = {}
        reading = asyncio.create_task(session.run())
        try:
            async with asyncio.timeout(STREAM_WAIT_SECONDS):
                while not wanted <= streams.keys():
                    stream = await session.accept()
                    if stream is None:
                        break
                    streams[stream.headers.get("streamtype", "")] = stream
        except TimeoutError:
            pass
        terminal = cls(session, protocol, streams, stdin and "stdin" in streams, tty)
        terminal.tasks.append(reading)
        return terminal

    async def _watch(self) -> None:
        await self.session.closed.wait()
        if self.stdin is not None:
            self.stdin.close()
        self.gone.set()

    async def _read_stdin(self) -> None:
        stream = self.streams["stdin"]
        while data := await stream.read():
            self.stdin.feed(data)
        self.stdin.close()

    async def stdout(self, data: bytes) -> None:
        if "stdout" in self.streams:
            await self.streams["stdout"].write(data)

    async def stderr(self, data: bytes) -> None:
        if "stderr" in self.streams:
            await self.streams["stderr"].write(data)

    async def finish(self, status: dict) -> None:
        if "error" in self.streams:
            await self.streams["error"].write(status_bytes(self.protocol, status))
        for stream in self.streams.values():
            await stream.close()
        await self.session.go_away()
        for task in self.tasks:
            task.cancel()
        self.session.hang_up()


# --- port-forward ------------------------------------------------------------------------------


async def echo(read, write, close) -> None:
    """What a forwarded port answers here: every byte it receives, sent back."""
    while data := await read():
        await write(data)
    await close()


async def spdy_port_forward(session: spdy.Session) -> None:
    """Each connection kubectl forwards opens an error and a data stream (same `requestid`); the
    data stream's bytes come back on it."""
    errors_by_request: dict[str, spdy.Stream] = {}
    tasks = set()
    while (stream := await session.accept()) is not None:
        if stream.headers.get("streamtype") == "error":
            errors_by_request[stream.headers.get("requestid", "")] = stream
            continue
        if stream.headers.get("streamtype") != "data":
            await stream.reset()
            continue

        async def serve(stream=stream) -> None:
            await echo(stream.read, stream.write, stream.close)
            error = errors_by_request.pop(stream.headers.get("requestid", ""), None)
            if error is not None:
                await error.close()

        task = asyncio.create_task(serve())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    for task in list(tasks):
        task.cancel()


async def websocket_port_forward(ws: web.WebSocketResponse, ports: list[int]) -> None:
    """The channel form: port i speaks on channel 2i (data) and 2i+1 (errors); each channel's first
    message names its port (two bytes, little-endian)."""
    for i, port in enumerate(ports):
        for channel in (2 * i, 2 * i + 1):
            await ws.send_bytes(bytes([channel]) + struct.pack("<H", port))
    async for msg in ws:
        if msg.type != WSMsgType.BINARY or not msg.data:
            continue
        channel = msg.data[0]
        if channel % 2 == 0 and channel // 2 < len(ports) and len(msg.data) > 1:
            await ws.send_bytes(msg.data)
