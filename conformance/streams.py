"""What a user does with kubectl's streaming commands (and the Python client's port-forward),
and what they must see: shared by the conformance cases and the tests of a standalone server's
streams and of a virtual cluster's (reached through its host). Each check says what the pod it is
given must do; those whose pod a real busybox image runs too serve against any cluster."""
from __future__ import annotations

import os
import pty
import re
import select
import socket
import subprocess
import time
from pathlib import Path

from kubernetes.stream import portforward

from vapi.testing import kubectl_path, run_kubectl

STAMPED = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z "


def kubectl(kubeconfig: Path, *args: str, version: str | None = None, **kw) -> subprocess.CompletedProcess:
    return run_kubectl(kubeconfig, *args, version=version, check=False, timeout=60, **kw)


def start(kubeconfig: Path, *args: str, version: str | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([kubectl_path(version), f"--kubeconfig={kubeconfig}", *args], text=True, **kw)


def exec_cat_and_exit_codes(kubeconfig: Path, pod: str, version: str) -> None:
    """Piped stdin comes back through `cat` (more than one frame's worth); an exit code is kubectl's."""
    text = "".join(f"line {i}\n" for i in range(5000))
    p = kubectl(kubeconfig, "exec", "-i", pod, "--", "cat", version=version, input=text)
    assert (p.returncode, p.stderr, p.stdout == text) == (0, "", True)
    p = kubectl(kubeconfig, "exec", pod, "--", "sh", "-c", "echo out; exit 3", version=version)
    assert (p.returncode, p.stdout, p.stderr) == (3, "out\n", "command terminated with exit code 3\n")


def logs_read_as_asked(kubeconfig: Path, pod: str, lines: list[str], version: str) -> None:
    """`pod` has logged `lines`, the last one written before this is called."""
    whole = "".join(f"{line}\n" for line in lines)
    assert kubectl(kubeconfig, "logs", pod, version=version).stdout == whole
    assert kubectl(kubeconfig, "logs", pod, "--tail=1", version=version).stdout == f"{lines[-1]}\n"
    assert kubectl(kubeconfig, "logs", pod, "--limit-bytes=3", version=version).stdout == whole[:3]
    assert kubectl(kubeconfig, "logs", pod, "--since=1h", version=version).stdout == whole
    out = kubectl(kubeconfig, "logs", pod, "--timestamps", version=version).stdout
    assert re.fullmatch("".join(f"{STAMPED}{re.escape(line)}\n" for line in lines), out), out


def follow(kubeconfig: Path, pod: str, version: str) -> subprocess.Popen:
    """`kubectl logs -f` of a pod that writes `first`, then `second` two seconds later: both seen,
    the second as it is written, and kubectl still following (the caller ends it)."""
    proc = start(kubeconfig, "logs", "-f", pod, version=version, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == "first\n"
        started = time.monotonic()
        assert proc.stdout.readline() == "second\n"
        assert time.monotonic() - started > 0.5
        assert proc.poll() is None
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def port_forward_echoes(kubeconfig: Path, pod: str, version: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start(kubeconfig, "port-forward", f"pod/{pod}", f"{port}:80", version=version,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == f"Forwarding from 127.0.0.1:{port} -> 80\n"
        for _ in range(2):   # each connection its own pair of streams
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                payload = b"ping " * 20000
                conn.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    chunk = conn.recv(65536)
                    assert chunk
                    got += chunk
                assert got == payload
    finally:
        proc.terminate()
        proc.wait(10)


def python_port_forward_echoes(core, pod: str) -> None:
    """The WebSocket channel form (`v4.channel.k8s.io`), as the Python client speaks it."""
    pf = portforward(core.connect_get_namespaced_pod_portforward, pod, "default", ports="8080")
    sock = pf.socket(8080)
    sock.setblocking(True)
    sock.sendall(b"hello port")
    assert sock.recv(1024) == b"hello port"
    sock.close()
    pf.close()


def attach_echoes(kubeconfig: Path, pod: str, versions: tuple[str, ...], namespace: str = "default") -> None:
    """`pod` runs `cat` with stdin open: what each kubectl says to it comes back, and is its log."""
    for version in versions:
        proc = start(kubeconfig, "-n", namespace, "attach", "-i", pod, version=version,
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            proc.stdin.write(f"said to {version}\n")
            proc.stdin.flush()
            assert proc.stdout.readline() == f"said to {version}\n"
        finally:
            proc.kill()
            proc.wait()
    assert kubectl(kubeconfig, "-n", namespace, "logs", pod).stdout == "".join(f"said to {v}\n" for v in versions)


def terminal_shell(kubeconfig: Path, pod: str, version: str) -> None:
    """`exec -it … sh` in a pseudo-terminal: the prompt, a command echoed in CRLF, `exit 3`."""
    leader, follower = pty.openpty()
    proc = start(kubeconfig, "exec", "-it", pod, "--", "sh", version=version,
                 stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    seen = b""

    def until(text: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 15
        while text not in seen and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                try:
                    seen += os.read(leader, 4096)
                except OSError:
                    break
        assert text in seen, seen

    try:
        until(b"/ # ")
        os.write(leader, b"echo tty works\r")
        until(b"tty works\r\n")
        os.write(leader, b"exit 3\r")
        assert proc.wait(15) == 3
    finally:
        proc.kill()
        proc.wait()
        os.close(leader)
