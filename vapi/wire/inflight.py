"""A bound on requests being served at once, as kube-apiserver's max-in-flight filter keeps it.

Reads (get, list) and writes are counted apart (`--max-requests-inflight`,
`--max-mutating-requests-inflight`; 0 means no bound). Long-running requests (watches, and the
exec, attach, port-forward, log and proxy streams) hold a connection, not the server, so they
are not counted. Past a bound the answer is kube's: 429 in plain text with `Retry-After: 1`,
except for members of system:masters, who always get an answer.
"""
from __future__ import annotations

from aiohttp import web

from ..auth.user import MASTERS

READ_VERBS = frozenset({"get", "list", "watch"})
LONG_RUNNING_VERBS = frozenset({"watch", "proxy"})
LONG_RUNNING_SUBRESOURCES = frozenset({"attach", "exec", "proxy", "log", "portforward"})
TOO_MANY = "Too many requests, please try again later.\n"


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
