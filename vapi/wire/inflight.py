"""Bounds on what requests hold: how many are served at once, as kube-apiserver's max-in-flight
filter keeps it, and how long one may take, as its request-timeout filter does.

Reads (get, list) and writes are counted apart (`--max-requests-inflight`,
`--max-mutating-requests-inflight`; 0 means no bound). Long-running requests (watches, and the
exec, attach, port-forward, log and proxy streams) hold a connection, not the server, so they
are not counted. Past a bound the answer is kube's: 429 in plain text with `Retry-After: 1`,
except for members of system:masters, who always get an answer. A request that is not done after
`--request-timeout` (or the shorter `?timeout=` it asked for) is answered 504 Timeout.
"""
from __future__ import annotations

import asyncio
import re

from aiohttp import web

from .. import errors
from ..auth.user import MASTERS

READ_VERBS = frozenset({"get", "list", "watch"})
LONG_RUNNING_VERBS = frozenset({"watch", "proxy"})
LONG_RUNNING_SUBRESOURCES = frozenset({"attach", "exec", "proxy", "log", "portforward"})
TOO_MANY = "Too many requests, please try again later.\n"
REQUEST_TIMEOUT = 60.0
_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def go_duration(text: str, days: bool = False) -> float | None:
    """Seconds in a Go duration ("30s", "1m30s", "250ms"), with `days` also in "10d"; None when
    it is not one."""
    parts = _GO_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text or (not days and any(u == "d" for _, u in parts)):
        return None
    return sum(float(n) * _UNITS[u] for n, u in parts)


def long_running(info) -> bool:
    return info.verb in LONG_RUNNING_VERBS or (info.resource_request and info.subresource in LONG_RUNNING_SUBRESOURCES)


def too_many_requests() -> web.Response:
    # Go's http.Error: plain text, the message and a newline.
    return web.Response(status=429, text=TOO_MANY, content_type="text/plain", charset="utf-8",
                        headers={"Retry-After": "1", "X-Content-Type-Options": "nosniff"})


class InFlight:
    def __init__(self, max_reads: int = 400, max_writes: int = 200):
        self.limits = {False: max_reads, True: max_writes}
        self.serving = {False: 0, True: 0}

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        info = request["request_info"]
        if long_running(info):
            return await handler(request)
        mutating = info.verb not in READ_VERBS
        limit = self.limits[mutating]
        if not limit:
            return await handler(request)
        if self.serving[mutating] >= limit:
            if MASTERS in request["user"].groups:
                return await handler(request)
            return too_many_requests()
        self.serving[mutating] += 1
        try:
            return await handler(request)
        finally:
            self.serving[mutating] -= 1


def deadline(limit: float = REQUEST_TIMEOUT):
    """kube's WithTimeoutForNonLongRunningRequests: a 504 once `limit` (or the request's own
    shorter `?timeout=`) has passed. What the handler was doing may still finish, as in kube."""
    @web.middleware
    async def middleware(request: web.Request, handler):
        info = request["request_info"]
        if long_running(info) or not limit:
            return await handler(request)
        asked = go_duration(request.query.get("timeout", ""))
        seconds = min(limit, asked) if asked else limit
        try:
            async with asyncio.timeout(seconds):
                return await handler(request)
        except TimeoutError:
            raise errors.StatusError(504, "Timeout", "Timeout: request did not complete within requested timeout "
                                     "- context deadline exceeded", {}) from None
    return middleware
