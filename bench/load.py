"""The load generator, run in a process of its own: inside the server's process (or the one that
orchestrates) its CPU and GIL time would be charged to the very figures it measures.

Every load is an async aiohttp client over keep-alive TLS connections authenticated by the
kubeconfig's client certificate. Requests are `(method, path, body, content type)` made by a
picklable request function of the request's index, so the parent can describe a load and this
process can build the requests itself.
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import aiohttp
import orjson
import yaml

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
CONNECTIONS = 64
ERROR_SAMPLES = 3

Request = tuple[str, str, bytes | None, str | None]


@dataclass(frozen=True)
class Target:
    """A server as the load process reaches it: its URL and the TLS files taken from a kubeconfig."""
    url: str
    ca: str
    cert: str
    key: str

    @classmethod
    def from_kubeconfig(cls, kubeconfig: Path, directory: Path) -> "Target":
        # ssl.SSLContext loads certificates from files only, and a kubeconfig carries them inline.
        config = yaml.safe_load(Path(kubeconfig).read_text())
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        directory.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name, data in (("ca", cluster["certificate-authority-data"]),
                           ("cert", user["client-certificate-data"]), ("key", user["client-key-data"])):
            path = directory / f"{name}.pem"
            path.write_bytes(base64.b64decode(data))
            path.chmod(0o600)
            paths[name] = str(path)
        return cls(url=cluster["server"], **paths)

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


@dataclass
class Outcome:
    count: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def failed(self, message: str) -> None:
        self.errors += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(message)


# Request functions (used through functools.partial, which pickles them by name).

def name(prefix: str, i: int) -> str:
    return f"{prefix}-{i}"


def post_object(collection: str, template: dict, prefix: str, i: int) -> Request:
    return "POST", collection, orjson.dumps({**template, "metadata": {"name": name(prefix, i)}}), JSON


def delete_object(collection: str, prefix: str, i: int) -> Request:
    return "DELETE", f"{collection}/{name(prefix, i)}", None, None


def apply_object(collection: str, prefix: str, objects: int, i: int) -> Request:
    """Server-side apply of object i mod `objects`, changing one key every time."""
    body = orjson.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": name(prefix, i % objects)}, "data": {"applied": str(i)}})
    return "PATCH", f"{collection}/{name(prefix, i % objects)}?fieldManager=bench", body, APPLY_PATCH


def patch_object(collection: str, prefix: str, objects: int, i: int) -> Request:
    """The i-th update goes to object i mod `objects`, and changes it every time."""
    return "PATCH", f"{collection}/{name(prefix, i % objects)}", orjson.dumps({"data": {"n": str(i)}}), MERGE_PATCH


class _Client:
    def __init__(self, target: Target, connections: int):
        self.url = target.url
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
            ssl=target.ssl_context(), limit=connections, keepalive_timeout=300))
        self.connections = connections

    async def __aenter__(self) -> "_Client":
        # Opening the TLS connections up front: a long-lived client (client-go, kube-burner) pays
        # its handshakes once, not inside the first second of the measurement.
        try:
            await asyncio.gather(*(self._get("/version") for _ in range(self.connections)))
        except BaseException:
            await self.session.close()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()

    async def _get(self, path: str) -> None:
        async with self.session.get(self.url + path) as resp:
            await resp.read()
            resp.raise_for_status()

    async def send(self, request: Request, outcome: Outcome) -> None:
        method, path, body, content_type = request
        headers = {"Content-Type": content_type} if content_type else None
        try:
            async with self.session.request(method, self.url + path, data=body, headers=headers) as resp:
                text = await resp.read()
                if resp.status >= 300:
                    outcome.failed(f"{method} {path}: {resp.status} {text[:200].decode(errors='replace')}")
                    return
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
            outcome.failed(f"{method} {path}: {e!r}")
            return
        outcome.count += 1


class TokenBucket:
    """client-go's flowcontrol limiter: starts full with `burst` tokens, refills at `qps`."""

    def __init__(self, qps: float, burst: int):
        self.qps = qps
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    async def take(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.qps) - 1
        self.stamp = now
        if self.tokens < 0:
            await asyncio.sleep(-self.tokens / self.qps)


def rate_limited(target: Target, phases: Sequence[Sequence[Request]], qps: float, burst: int) -> Outcome:
    """Open loop: each request leaves as soon as the bucket allows, whatever is still in flight.

    A phase starts when every request of the one before has been answered (a churn re-creates the
    names it deleted). Latency runs from the request's release by the bucket to its answer.
    """
    return asyncio.run(_rate_limited(target, phases, qps, burst))


async def _rate_limited(target, phases, qps, burst) -> Outcome:
    outcome = Outcome()
    async with _Client(target, CONNECTIONS) as client:
        async def timed(request):
            started = time.perf_counter()
            await client.send(request, outcome)
            outcome.latencies.append(time.perf_counter() - started)

        bucket = TokenBucket(qps, burst)
        started = time.perf_counter()
        for phase in phases:
            tasks = []
            for request in phase:
                await bucket.take()
                tasks.append(asyncio.create_task(timed(request)))
            await asyncio.gather(*tasks)
        outcome.elapsed = time.perf_counter() - started
    return outcome


def closed_loop(target: Target, make: Callable[[int], Request], concurrency: int,
                seconds: float, count: int | None = None) -> Outcome:
    """`concurrency` workers each send their next request when the last one is answered, until
    `count` requests have been sent or `seconds` have passed, whichever comes first."""
    return asyncio.run(_closed_loop(target, make, concurrency, seconds, count))


async def _closed_loop(target, make, concurrency, seconds, count) -> Outcome:
    outcome = Outcome()
    numbers = iter(range(count)) if count is not None else itertools.count()
    async with _Client(target, concurrency) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker():
            for i in numbers:
                if time.perf_counter() >= deadline:
                    return
                await client.send(make(i), outcome)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        outcome.elapsed = time.perf_counter() - started
    return outcome
