"""Connections that send too little, too slowly, or the wrong bytes.

kube-apiserver's HTTP server closes a connection whose request head has not arrived whole within
its ReadHeaderTimeout (32 s), and one idle between requests for 90 s. aiohttp has the idle bound
(which, from a connection's start, also bounds its first request head); the head of any later
request is bounded here, by a timer started with its first byte and stopped when the head is
parsed. A malformed request is the client's fault: it is answered 400 as before, and logged at
debug level without a traceback, so that nobody can flood the log with garbage bytes; an
exception inside the server still logs its traceback.
"""
from __future__ import annotations

import asyncio
import ctypes
import gc
import ctypes.util
from asyncio import sslproto

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

READ_HEADER_TIMEOUT = 32.0
IDLE_TIMEOUT = 90.0
# asyncio gives every TLS connection a 256 KiB receive buffer from its first byte: a thousand idle
# connections would hold 256 MB. A TLS record is at most 16 KiB, so 64 KiB loses nothing.
TLS_BUFFER = 64 * 1024
_M_MMAP_THRESHOLD = -3


TRIM_SECONDS = 10.0
# Connections closed since the last collection past which one is worth its cost.
COLLECT_AFTER_CLOSED = 100


class _Closed:
    count = 0


def _libc():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


async def give_back_memory() -> None:
    """Once many connections have closed, collect what they left (a transport and its protocol
    hold each other, so only the cycle collector frees them, and its oldest generation runs
    rarely) and hand the freed heap back to the system (glibc's malloc_trim): RSS after a crowd
    of connections comes back near where it was."""
    trim = getattr(_libc(), "malloc_trim", None)
    seen = _Closed.count
    while True:
        await asyncio.sleep(TRIM_SECONDS)
        if _Closed.count - seen >= COLLECT_AFTER_CLOSED:
            seen = _Closed.count
            gc.collect()
            if trim is not None:
                trim(0)


def bound_connection_memory() -> None:
    """Per-connection buffers small, and given back to the system once freed: glibc otherwise
    raises its mmap threshold after the first large free and keeps later buffers in its heap for
    good, so RSS after a crowd of connections would never come down."""
    sslproto.SSLProtocol.max_size = TLS_BUFFER
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is not None:  # not glibc: its own allocator's policy stands
        mallopt(_M_MMAP_THRESHOLD, 128 * 1024)


class _Handler(RequestHandler):
    header_timeout = READ_HEADER_TIMEOUT

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._header_timer: asyncio.TimerHandle | None = None
        self._client_fault = False
        super().connection_made(transport)
        self._start_header_timer()

    def _start_header_timer(self) -> None:
        if self._header_timer is None and self.header_timeout > 0:
            self._header_timer = self._loop.call_later(self.header_timeout, self._header_timed_out)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        self.force_close()
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        before = self._request_count
        if self._header_timer is None and not self._messages and self._waiter is not None:
            self._start_header_timer()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self._request_count != before:
            self._stop_header_timer()

    def connection_lost(self, exc: BaseException | None) -> None:
        _Closed.count += 1
        self._stop_header_timer()
        super().connection_lost(exc)

    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        self._client_fault = status < 500
        try:
            return super().handle_error(request, status, exc, message)
        finally:
            self._client_fault = False

    def log_exception(self, *args, **kw) -> None:
        if self._client_fault:
            kw.pop("exc_info", None)
            self.logger.debug(*args, **kw)
            return
        super().log_exception(*args, **kw)


SHUTDOWN_GRACE = 2.0


class Runner(web.AppRunner):
    """An AppRunner whose connections are served by `_Handler`, with `header_timeout` seconds for
    each request head (0: no bound)."""

    def __init__(self, app: web.Application, *, header_timeout: float = READ_HEADER_TIMEOUT, **kwargs):
        kwargs.setdefault("keepalive_timeout", IDLE_TIMEOUT)
        # On SIGTERM, requests in flight get this long to finish; watches and streams, which never
        # finish by themselves, are then cut, as kube-apiserver ends them at shutdown, rather than
        # holding the process for aiohttp's default minute.
        kwargs.setdefault("shutdown_timeout", SHUTDOWN_GRACE)
        super().__init__(app, **kwargs)
        self.header_timeout = header_timeout

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        timeout = self.header_timeout
        handler = type("Handler", (_Handler,), {"header_timeout": timeout})
        server.__class__ = type("Server", (web.Server,), {
            "__call__": lambda self: handler(self, loop=self._loop, **self._kwargs)})
        return server


class Site(web.TCPSite):
    """A TCPSite whose TLS handshakes get the same bound as a request head, as Go's server gives
    them the smallest of its read timeouts."""

    def __init__(self, runner: Runner, *args, **kwargs):
        super().__init__(runner, *args, **kwargs)
        self.handshake_timeout = runner.header_timeout or None

    async def start(self) -> None:
        await web.BaseSite.start(self)
        self._server = await asyncio.get_running_loop().create_server(
            self._runner.server, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port,
            ssl_handshake_timeout=self.handshake_timeout if self._ssl_context else None)
        self._bound_port = self._server.sockets[0].getsockname()[1]
