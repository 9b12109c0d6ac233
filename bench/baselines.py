"""What vapi's request rate is read against: a bare aiohttp server behind the same TLS.

SQLite's own rates on this disk come from bench/storage_baseline.py."""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

import orjson
from aiohttp import web

from vapi.auth.certs import PKI

START_TIMEOUT = 30.0
PARENT_POLL_SECONDS = 1.0


async def _answer(request: web.Request) -> web.Response:
    if request.can_read_body:
        orjson.loads(await request.read())
    return web.json_response({"kind": "Status", "status": "Success"},
                             status=201 if request.method == "POST" else 200)


async def _serve_bare(directory: Path, conn, parent: int) -> None:
    pki = PKI(directory / "pki")
    pki.ensure()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=pki.server_context())
    await site.start()
    port = runner.addresses[0][1]
    pki.write_kubeconfig(directory / "kubeconfig.yaml", f"https://127.0.0.1:{port}")
    conn.send(port)
    # Like `vapi serve --exit-with-pid`: never outlive the benchmark, even one killed with -9.
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_POLL_SECONDS)


def _bare_main(directory: str, conn, parent: int) -> None:
    asyncio.run(_serve_bare(Path(directory), conn, parent))


class BareServer:
    """A trivial handler for every path, in its own process, serving vapi's kind of certificates
    with vapi's own server TLS context, so the difference to vapi is everything vapi does."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="vapi-bare-"))
        self.process = None

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig.yaml"

    def __enter__(self) -> "BareServer":
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        self.process = ctx.Process(target=_bare_main, args=(str(self.dir), theirs, os.getpid()), daemon=True)
        self.process.start()
        if not ours.poll(START_TIMEOUT):
            self.__exit__()
            raise RuntimeError("the bare aiohttp server did not start")
        ours.recv()
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.join()
        shutil.rmtree(self.dir, ignore_errors=True)

