"""SPDY/3.1, the server's side of as much as kubectl's streams use (exec, attach and port-forward
from kubectl 1.27 to 1.29, and port-forward tunnelled through a WebSocket after that).

A session carries streams the client opens (SYN_STREAM, each answered at once with an empty
SYN_REPLY, as kube's stream server answers them); data frames carry a stream's bytes and its FIN
ends that direction. PING is echoed, SETTINGS and WINDOW_UPDATE are read and let be (the
client's library does not hold data back for want of window; each data frame received is still
acknowledged with a WINDOW_UPDATE, as the protocol asks). Header blocks are zlib streams primed
with the protocol's fixed dictionary, one stream per direction for the whole session.

The session reads and writes through two callables, so it runs as well over an upgraded HTTP
connection as over WebSocket binary messages.
"""
from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import Awaitable, Callable

from ..nodes.commands import Pipe

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
RST_CANCEL = 5
MAX_FRAME = 1 << 24

# The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00, section 2.6.10.1):
# length-prefixed header names and values, then a run of common header text.
_DICTIONARY_WORDS = (
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
    "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
    "content-base", "content-encoding", "content-language", "content-length", "content-location", "content-md5",
    "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match",
    "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
    "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
    "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
    "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public",
    "set-cookie", "keep-alive", "origin")
_DICTIONARY_TEXT = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _DICTIONARY_WORDS) + _DICTIONARY_TEXT.encode()

Read = Callable[[], Awaitable[bytes]]      # some bytes, b"" at the end
Write = Callable[[bytes], Awaitable[None]]


class ProtocolError(Exception):
    pass


class Stream:
    """One stream the client opened: its headers, what it sends, and a way to answer."""

    def __init__(self, session: Session, stream_id: int, headers: dict[str, str]):
        self.session, self.id, self.headers = session, stream_id, headers
        self._incoming = Pipe()
        self.remote_closed = False
        self.local_closed = False

    def _receive(self, data: bytes, fin: bool) -> None:
        if self.remote_closed:
            return
        self._incoming.feed(data)
        if fin:
            self.remote_closed = True
            self._incoming.close()

    async def read(self) -> bytes:
        """Some bytes the client sent, or b"" once it has closed its side."""
        return await self._incoming.read()

    async def write(self, data: bytes) -> None:
        if self.local_closed or not data:
            return
        for start in range(0, len(data), MAX_FRAME - 1):
            await self.session._data(self.id, data[start:start + MAX_FRAME - 1], False)

    async def close(self) -> None:
        """End our side (FIN); the client's side stays open until it ends it."""
        if not self.local_closed:
            self.local_closed = True
            await self.session._data(self.id, b"", True)

    async def reset(self) -> None:
        self.local_closed = True
        self._receive(b"", True)
        await self.session._control(RST_STREAM, 0, struct.pack(">II", self.id, RST_CANCEL))


class Session:
    def __init__(self, read: Read, write: Write):
        self._read, self._write = read, write
        self._buffer = b""
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zdict=DICTIONARY)
        self._lock = asyncio.Lock()
        self.streams: dict[int, Stream] = {}
        self._new: asyncio.Queue[Stream | None] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.response = None              # the HTTP answer that upgraded the connection, if one did
        self.hang_up: Callable[[], None] = lambda: None   # ends the connection underneath

    # --- reading ---------------------------------------------------------------------------

    async def _exactly(self, n: int) -> bytes | None:
        while len(self._buffer) < n:
            data = await self._read()
            if not data:
                return None
            self._buffer += data
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    async def run(self) -> None:
        """Read frames until the connection ends; every stream then reads its end."""
        try:
            while True:
                head = await self._exactly(8)
                if head is None:
                    return
                first, flags_length = struct.unpack(">II", head)
                flags, length = flags_length >> 24, flags_length & 0xFFFFFF
                payload = await self._exactly(length) if length else b""
                if payload is None:
                    return
                if first & 0x80000000:
                    if not await self._on_control(first & 0xFFFF, flags, payload):
                        return
                else:
                    stream = self.streams.get(first & 0x7FFFFFFF)
                    if stream is not None:
                        stream._receive(payload, bool(flags & FLAG_FIN))
                    if payload:
                        await self._control(WINDOW_UPDATE, 0, struct.pack(">II", first & 0x7FFFFFFF, length))
        except (ConnectionError, ProtocolError, zlib.error):
            return
        finally:
            self.closed.set()
            for stream in self.streams.values():
                stream._receive(b"", True)
            self._new.put_nowait(None)

    async def _on_control(self, kind: int, flags: int, payload: bytes) -> bool:
        if kind == SYN_STREAM:
            stream_id = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
            stream = Stream(self, stream_id, self._headers(payload[10:]))
            self.streams[stream_id] = stream
            await self._control(SYN_REPLY, 0, struct.pack(">I", stream_id) + self._header_block({}))
            if flags & FLAG_FIN:
                stream._receive(b"", True)
            self._new.put_nowait(stream)
        elif kind == RST_STREAM:
            stream = self.streams.get(struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF)
            if stream is not None:
                stream.local_closed = True
                stream._receive(b"", True)
        elif kind == HEADERS:
            self._headers(payload[4:])  # keeps the decompressor in step; nothing here needs them
        elif kind == PING:
            await self._control(PING, 0, payload)
        elif kind == GOAWAY:
            return False
        return True

    def _headers(self, block: bytes) -> dict[str, str]:
        raw = self._inflate.decompress(block)
        (count,), at, headers = struct.unpack(">I", raw[:4]), 4, {}
        for _ in range(count):
            (n,) = struct.unpack(">I", raw[at:at + 4])
            name = raw[at + 4:at + 4 + n].decode()
            at += 4 + n
            (n,) = struct.unpack(">I", raw[at:at + 4])
            # several values of one name are joined by NUL; the first serves here
            headers[name] = raw[at + 4:at + 4 + n].decode().split("\0")[0]
            at += 4 + n
        return headers

    # --- writing ---------------------------------------------------------------------------

    def _header_block(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack(">I", len(headers)) + b"".join(
            struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode()
            for k, v in headers.items())
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    async def _send(self, frame: bytes) -> None:
        if self.closed.is_set():
            return
        async with self._lock:
            try:
                await self._write(frame)
            except (ConnectionError, RuntimeError):
                self.closed.set()

    async def _control(self, kind: int, flags: int, payload: bytes) -> None:
        await self._send(struct.pack(">HHI", 0x8000 | VERSION, kind, flags << 24 | len(payload)) + payload)

    async def _data(self, stream_id: int, data: bytes, fin: bool) -> None:
        await self._send(struct.pack(">II", stream_id, (FLAG_FIN if fin else 0) << 24 | len(data)) + data)

    # --- for the handler -------------------------------------------------------------------

    async def accept(self) -> Stream | None:
        """The next stream the client opens, or None once the connection has ended."""
        stream = await self._new.get()
        if stream is None:
            self._new.put_nowait(None)
        return stream

    async def go_away(self) -> None:
        await self._control(GOAWAY, 0, struct.pack(">II", max(self.streams, default=0), 0))
