"""A `vapi serve` the CLI starts detached from itself: started, waited for, looked for, stopped.

The server outlives the command that started it (its own session, its output to a log file), so
the CLI knows it only by pid; a pid is taken as the server's only while the process is alive and
runs on the cluster's data dir (pids are reused).
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Callable

from . import kubeconfigs

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
POLL_SECONDS = 0.02


class StartError(Exception):
    """A server that did not start (or stop), in one line."""


def alive(pid: int, data_dir: Path) -> bool:
    """Whether `pid` is a live `vapi serve` of this data dir (not a zombie, not a reused pid)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path(f"/proc/{pid}")
    if not proc.is_dir():
        return True  # no procfs to ask: the signal check is all there is
    try:
        state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
        argv = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return state not in ("Z", "X") and os.fsencode(str(data_dir)) in argv


def stop(pid: int, data_dir: Path, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM, then SIGKILL once `timeout` has passed; True when it had to be killed."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not alive(pid, data_dir):
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while alive(pid, data_dir):
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_SECONDS * 5)
        else:
            return sig == signal.SIGKILL
    raise StartError(f"process {pid} did not stop")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(cmd: list[str], log_path: Path, kubeconfig: Path, started: Callable[[int, int], None]) -> None:
    """Run `cmd` (a `vapi serve`) detached, its output appended to `log_path`; `started(pid, port)`
    once it serves, and return once /readyz answers as `kubeconfig` reaches it."""
    with open(log_path, "ab") as log:
        offset = log.tell()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        started(proc.pid, _await_port(proc, log_path, offset))
        _await_ready(proc, kubeconfig)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    # The server outlives us: it is no child to reap, and Popen must not warn that it still runs.
    proc.returncode = 0


def _await_port(proc: subprocess.Popen, log_path: Path, offset: int) -> int:
    """The server prints `port: N`, then `export KUBECONFIG=...` once it serves."""
    deadline = time.monotonic() + START_TIMEOUT
    port = None
    while time.monotonic() < deadline:
        with open(log_path, "rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
        for line in lines:
            if line.startswith("port: "):
                port = int(line.split()[1])
            if line.startswith("export KUBECONFIG=") and port is not None:
                return port
        if proc.poll() is not None:
            last = next((line for line in reversed(lines) if line.strip()), "no output")
            raise StartError(f"vapi serve exited with code {proc.returncode}: {last.strip()}")
        time.sleep(POLL_SECONDS)
    raise StartError(f"vapi serve did not start in {START_TIMEOUT:.0f}s")


def _await_ready(proc: subprocess.Popen, kubeconfig: Path) -> None:
    """GET /readyz over TLS as the kubeconfig reaches the server."""
    context, server = kubeconfigs.tls_client(kubeconfig)
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartError(f"vapi serve exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(server + "/readyz", context=context, timeout=5) as answer:
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
        except OSError as err:
            last = str(err)
        time.sleep(POLL_SECONDS * 5)
    raise StartError(f"vapi serve did not get ready in {START_TIMEOUT:.0f}s: {last}")
