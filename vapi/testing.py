"""Start a real `vapi serve` in a child process: for tests, the conformance runner and benchmarks.

The child is told our pid and stops by itself when we are gone, so a crashed test run never
leaves servers behind.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

KUBECTL_VERSIONS = ("1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33")


class ServerProcess:
    def __init__(self, data_dir: Path | None = None, extra_args: tuple[str, ...] = (),
                 startup_timeout: float = 30.0, source: Path | None = None):
        """`source`: a source tree to run the server from instead of the installed one (benchmarks
        compare against an earlier revision this way)."""
        self._tmp = None
        self.source = source
        if data_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="vapi-")
            data_dir = Path(self._tmp)
        self.data_dir = Path(data_dir)
        self.extra_args = extra_args
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.output: list[str] = []
        self._drain: threading.Thread | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig.yaml"

    def start(self) -> "ServerProcess":
        cmd = [sys.executable, "-m", "vapi", "serve", "--port", str(self.port or 0), "--data-dir",
               str(self.data_dir), "--exit-with-pid", str(os.getpid()), *self.extra_args]
        env = None
        if self.source is not None:
            env = {**os.environ, "PYTHONPATH": str(self.source)}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     bufsize=1, cwd=self.source, env=env)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("vapi serve exited during start-up:\n" + "".join(self.output))
            self.output.append(line)
            if line.startswith("port: "):
                self.port = int(line.split()[1])
            if line.startswith("export KUBECONFIG="):
                # Keep reading what it writes from now on: a pipe nobody empties fills up, and a
                # server writing its log to a full pipe stops.
                self._drain = threading.Thread(target=self._read_rest, args=(self.proc.stdout,), daemon=True)
                self._drain.start()
                return self
        self.kill()
        raise RuntimeError("vapi serve did not start in time:\n" + "".join(self.output))

    def _read_rest(self, stream) -> None:
        with contextlib.suppress(ValueError, OSError):
            for line in stream:
                self.output.append(line)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_pipe()

    def kill(self) -> None:
        """SIGKILL: what a crash looks like to the store."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self._drain is not None:
            self._drain.join(5)   # the rest of what the server wrote, for tests to read
            self._drain = None
        if self.proc and self.proc.stdout and not self.proc.stdout.closed:
            with contextlib.suppress(ValueError, OSError):
                self.output.extend(self.proc.stdout.readlines())
            self.proc.stdout.close()

    def restart(self) -> "ServerProcess":
        """Start again on the same data dir and port, as a user restarting the server would."""
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()


def kubectl_path(version: str | None = None) -> str:
    """The kubectl binary of a minor version (`kubectl.1.NN` beside the real path of `kubectl`)."""
    plain = shutil.which("kubectl")
    if plain is None:
        raise FileNotFoundError("kubectl is not on PATH")
    if version is None:
        return plain
    path = Path(os.path.realpath(plain)).parent / f"kubectl.{version}"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found")
    return str(path)


def run_kubectl(kubeconfig: Path, *args: str, version: str | None = None, cache_dir: Path | None = None,
                input: str | None = None, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [kubectl_path(version), f"--kubeconfig={kubeconfig}"]
    if cache_dir is not None:
        cmd.append(f"--cache-dir={cache_dir}")
    proc = subprocess.run(cmd + list(args), input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc
