"""A server no client can stall: in-flight bounds, the header read timeout, garbage bytes, and the
hostile-input campaign while another client's `kubectl get ns` keeps answering."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import threading
import time

import kubernetes
import pytest

from conformance.helpers import billion_laughs, raw
from vapi.auth.certs import PKI
from vapi.testing import ServerProcess, run_kubectl


def tls_context(server: ServerProcess, user: str | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(server.data_dir / "pki" / "ca.crt"))
    if user:
        cert, key = PKI(server.data_dir / "pki").issue_client(user, [])
        (server.data_dir / f"{user}.crt").write_bytes(cert)
        (server.data_dir / f"{user}.key").write_bytes(key)
        ctx.load_cert_chain(server.data_dir / f"{user}.crt", server.data_dir / f"{user}.key")
    return ctx


def connect(server: ServerProcess, ctx: ssl.SSLContext) -> ssl.SSLSocket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return ctx.wrap_socket(sock, server_hostname="localhost")


def request(sock, method: str, path: str, body: bytes = b"", content_length: int | None = None,
            headers: str = "") -> None:
    length = len(body) if content_length is None else content_length
    sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {length}\r\n{headers}\r\n".encode() + body)


def answer(sock) -> tuple[int, dict, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def closed_by_server(sock, within: float) -> bool:
    sock.settimeout(within)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, ssl.SSLError):
        return True
    except (socket.timeout, TimeoutError):
        return False


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("limited"), extra_args=(
        "--max-requests-inflight", "1", "--max-mutating-requests-inflight", "1", "--read-header-timeout", "1")).start()
    # alice may do anything, as RBAC grants it; she is no member of system:masters, whom no bound holds.
    run_kubectl(server.kubeconfig, "create", "clusterrolebinding", "alice-admin", "--clusterrole=cluster-admin",
                "--user=alice")
    yield server
    server.cleanup()


CM = json.dumps({"metadata": {"name": "slow"}, "data": {"a": "b"}}).encode()


def test_past_the_mutating_bound_writes_get_429_and_reads_and_masters_do_not(limited):
    alice = tls_context(limited, "alice")
    slow = connect(limited, alice)
    # A write whose body has not all arrived is in flight until it has.
    request(slow, "POST", "/api/v1/namespaces/default/configmaps", CM[:10], content_length=len(CM))
    time.sleep(0.3)
    second = connect(limited, alice)
    request(second, "POST", "/api/v1/namespaces/default/configmaps",
            json.dumps({"metadata": {"name": "refused"}}).encode())
    code, headers, body = answer(second)
    assert (code, headers["retry-after"], body) == (429, "1", b"Too many requests, please try again later.\n")
    assert headers["content-type"] == "text/plain; charset=utf-8"
    # Reads have a bound of their own; watches are not counted at all.
    request(second, "GET", "/api/v1/namespaces/default/configmaps")
    assert answer(second)[0] == 200
    # system:masters always gets an answer.
    admin = run_kubectl(limited.kubeconfig, "create", "configmap", "by-admin")
    assert "created" in admin.stdout
    slow.sendall(CM[10:])
    code, _, body = answer(slow)
    assert code == 201, body
    request(second, "POST", "/api/v1/namespaces/default/configmaps",
            json.dumps({"metadata": {"name": "after"}}).encode())
    assert answer(second)[0] == 201
    names = run_kubectl(limited.kubeconfig, "get", "configmaps", "-o", "name").stdout.split()
    assert "configmap/refused" not in names and {"configmap/slow", "configmap/after"} <= set(names)


def test_watches_do_not_count_against_the_read_bound(limited):
    alice = tls_context(limited, "alice")
    watches = [connect(limited, alice) for _ in range(3)]
    for sock in watches:
        request(sock, "GET", "/api/v1/namespaces/default/configmaps?watch=1")
        assert answer(sock)[0] == 200
    sock = connect(limited, alice)
    request(sock, "GET", "/api/v1/namespaces")
    assert answer(sock)[0] == 200
    for s in watches + [sock]:
        s.close()


def test_a_request_head_not_sent_in_time_closes_the_connection(limited):
    ctx = tls_context(limited)
    silent = connect(limited, ctx)
    partial = connect(limited, ctx)
    partial.sendall(b"GET /version HTTP/1.1\r\nHost: localhost\r\n")
    started = time.monotonic()
    assert closed_by_server(partial, 5) and closed_by_server(silent, 5)
    assert time.monotonic() - started < 3
    # A kept-alive connection's next head is bounded too, counted from its first byte.
    kept = connect(limited, ctx)
    request(kept, "GET", "/version")
    assert answer(kept)[0] == 200
    kept.sendall(b"GET /version HTTP/1.1\r\n")
    assert closed_by_server(kept, 5)


def test_garbage_bytes_get_400_and_no_traceback(tmp_path):
    server = ServerProcess(tmp_path).start()
    try:
        for garbage in (b"\x16\x03\x01garbage\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"G\x00T / HTTP/1.1\r\n\r\n",
                        b"GET /version HTTP/1.1\r\nBad Header\r\n\r\n"):
            sock = connect(server, tls_context(server))
            sock.sendall(garbage)
            assert answer(sock)[0] == 400
            sock.close()
        run_kubectl(server.kubeconfig, "get", "ns")
    finally:
        server.stop()
    output = "".join(server.output)
    assert "Traceback" not in output and "Error handling request" not in output, output


# --- the campaign ----------------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _idle_connections(port: int, ctx: ssl.SSLContext, count: int, hold: float) -> int:
    """`count` connections: half never start their TLS handshake, half send a request head a byte a
    second; held open for `hold` seconds. Returns how many the server had closed by then."""
    readers = []

    async def slow_head():
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")
        readers.append((reader, writer))
        for byte in b"GET /api/v1/namespaces HTTP/1.1\r\n":
            writer.write(bytes([byte]))
            await asyncio.sleep(1)

    async def silent():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        readers.append((reader, writer))
        await asyncio.sleep(hold)

    tasks = []
    for i in range(count):  # opened over a second or two, as a crowd of clients would
        tasks.append(asyncio.create_task(slow_head() if i % 2 else silent()))
        await asyncio.sleep(0.002)
    await asyncio.sleep(hold)
    closed = sum(1 for reader, writer in readers if reader.at_eof() or writer.is_closing())
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for _, writer in readers:
        writer.close()
    return closed


def test_hostile_input_while_kubectl_keeps_answering(tmp_path):
    server = ServerProcess(tmp_path, extra_args=("--read-header-timeout", "5")).start()
    api = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig))
    latencies: list[float] = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            started = time.monotonic()
            run_kubectl(server.kubeconfig, "get", "ns", cache_dir=tmp_path / "cache")
            latencies.append(time.monotonic() - started)
            time.sleep(0.1)

    # What the server itself puts in `default` (kube-root-ca.crt) is there before the campaign starts.
    seeded = time.monotonic() + 10
    while not (before := raw(api, "GET", "/api/v1/namespaces/default/configmaps")[1]["items"]) and \
            time.monotonic() < seeded:
        time.sleep(0.05)
    run_kubectl(server.kubeconfig, "get", "ns", cache_dir=tmp_path / "cache")  # discovery cached first
    rss_before = rss_mb(server.proc.pid)
    idle = threading.Thread(target=lambda: results.append(asyncio.run(
        _idle_connections(server.port, tls_context(server), 1000, 8))))
    results: list[int] = []
    poller = threading.Thread(target=poll)
    try:
        poller.start()
        idle.start()
        ns = "/api/v1/namespaces/default/configmaps"
        answers = {
            "alias bomb": raw(api, "POST", ns, billion_laughs(), content_type="application/yaml"),
            "deep JSON": raw(api, "POST", ns, "[" * 100_000 + "]" * 100_000),
            "deep JSON object": raw(api, "POST", ns, '{"a":' * 5000 + "1" + "}" * 5000),
            "deep YAML": raw(api, "POST", ns, "a: " + "[" * 50_000 + "]" * 50_000, content_type="application/yaml"),
            "label selector": raw(api, "GET", ns, query="labelSelector=" + ",".join(f"!k{i}" for i in range(90_000))),
            "field selector": raw(api, "GET", ns, query="fieldSelector=metadata.name%21%3D" + "x" * 900_000),
        }
        for i in range(20):
            answers[f"protobuf {i}"] = raw(api, "POST", ns, os.urandom(2000),
                                          content_type="application/vnd.kubernetes.protobuf")
        idle.join()
    finally:
        stop.set()
        poller.join()
    after = raw(api, "GET", "/api/v1/namespaces/default/configmaps")[1]["items"]
    peak = rss_mb(server.proc.pid)
    deadline = time.monotonic() + 25  # the server collects every ten seconds once many connections closed
    while (rss_after := rss_mb(server.proc.pid)) > rss_before + 30 and time.monotonic() < deadline:
        time.sleep(1)
    api.close()
    server.stop()
    print(f"\nkubectl get ns during the campaign: {len(latencies)} runs, max {max(latencies):.3f} s, "
          f"median {sorted(latencies)[len(latencies) // 2]:.3f} s; idle connections closed by the server: "
          f"{results[0]}/1000; RSS {rss_before:.0f} MB before, {peak:.0f} MB at the end, {rss_after:.0f} MB after")
    for what, (code, body) in answers.items():
        if what.endswith("selector"):
            assert code == 200, (what, body)
        else:
            assert code in (400, 415) and body["kind"] == "Status", (what, code, body)
    assert [c["metadata"]["name"] for c in after] == [c["metadata"]["name"] for c in before]
    assert max(latencies) < 1.0, latencies
    assert results[0] == 1000  # past the header timeout each was closed, not held
    assert "Traceback" not in "".join(server.output)
    assert rss_after < rss_before + 30, (rss_before, rss_after)  # nothing the campaign sent is kept


def test_a_request_past_its_timeout_is_answered_504_and_frees_its_slot(limited):
    """kube's request-timeout filter: a write whose body never finishes is a 504 Timeout after the
    `?timeout=` it asked for (the server's --request-timeout otherwise), and stops holding the bound."""
    alice = tls_context(limited, "alice")
    stuck = connect(limited, alice)
    started = time.monotonic()
    request(stuck, "POST", "/api/v1/namespaces/default/configmaps?timeout=1s", CM[:10], content_length=len(CM))
    code, _, body = answer(stuck)
    assert 0.9 < time.monotonic() - started < 5
    assert code == 504
    assert json.loads(body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Timeout: request did not complete within requested timeout - context deadline exceeded",
        "reason": "Timeout", "details": {}, "code": 504}
    other = connect(limited, alice)
    request(other, "POST", "/api/v1/namespaces/default/configmaps", json.dumps({"metadata": {"name": "freed"}}).encode())
    assert answer(other)[0] == 201
