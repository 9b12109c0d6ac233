"""The clusters `vapi create` starts, in the manner of vcluster's CLI.

Each lives in `$VAPI_HOME/clusters/NAME/` (VAPI_HOME defaults to `~/.vapi`): the served data dir
itself (database, certificates, `kubeconfig.yaml`), `cluster.json` (what the CLI knows of it), the
server's log, and copies of the host kubeconfig and `--config` file it was created with, so it can
be started again after its process is gone without the originals.
"""
from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

RECORD = "cluster.json"
LOG = "vapi.log"
HOST_KUBECONFIG = "host-kubeconfig.yaml"
SYNC_CONFIG = "config.yaml"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
POLL_SECONDS = 0.02


class ClusterError(Exception):
    """What the user is told, in one line; the command exits 1."""


def progress(level: str, message: str) -> None:
    """A progress line on stderr, as vcluster prints them (`info  Creating virtual cluster vc1...`)."""
    print(f"{level:<5} {message}", file=sys.stderr, flush=True)


def home() -> Path:
    return Path(os.environ.get("VAPI_HOME") or Path.home() / ".vapi")


def cluster_dir(name: str) -> Path:
    return home() / "clusters" / name


@dataclass
class Cluster:
    """One cluster's `cluster.json`."""
    name: str
    version: str
    mode: str                                   # "standalone" or "virtual"
    created: str                                # RFC 3339, UTC
    nodes: int | None = None
    port: int | None = None
    pid: int | None = None
    server: str | None = None
    host_kubeconfig: str | None = None          # the copy in the cluster's dir
    host_kubeconfig_source: str | None = None   # the file it was copied from
    host_namespace: str | None = None
    host_namespace_created: bool = False        # made by `vapi create`: `vapi delete` removes it
    config: str | None = None                   # the copy of --config in the cluster's dir
    extra: dict = field(default_factory=dict)

    @property
    def dir(self) -> Path:
        return cluster_dir(self.name)

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig.yaml"

    @classmethod
    def load(cls, name: str) -> "Cluster | None":
        path = cluster_dir(name) / RECORD
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self) -> None:
        path = self.dir / RECORD
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(tmp, path)

    def running(self) -> bool:
        return self.pid is not None and process_alive(self.pid, self.dir)

    def age(self, now: datetime.datetime | None = None) -> datetime.timedelta:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        return now - datetime.datetime.fromisoformat(self.created.replace("Z", "+00:00"))


def all_clusters() -> list[Cluster]:
    root = home() / "clusters"
    if not root.is_dir():
        return []
    found = (Cluster.load(entry.name) for entry in sorted(root.iterdir()) if entry.is_dir())
    return [c for c in found if c is not None]


def check_name(name: str, what: str = "virtual cluster name") -> None:
    from admission.validation.names import is_dns1123_label
    errors = is_dns1123_label(name)
    if errors:
        raise ClusterError(f"invalid {what} \"{name}\": {'; '.join(errors)}")


def existing(name: str) -> Cluster:
    check_name(name)
    cluster = Cluster.load(name)
    if cluster is None:
        raise ClusterError(f"virtual cluster {name} not found")
    return cluster


# --- processes -------------------------------------------------------------------------------

def process_alive(pid: int, data_dir: Path) -> bool:
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


def stop_process(pid: int, data_dir: Path, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM, then SIGKILL once `timeout` has passed; True when it had to be killed."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not process_alive(pid, data_dir):
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while process_alive(pid, data_dir):
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_SECONDS * 5)
        else:
            return sig == signal.SIGKILL
    raise ClusterError(f"process {pid} did not stop")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def serve_command(cluster: Cluster, port: int) -> list[str]:
    cmd = [sys.executable, "-m", "vapi", "serve", "--port", str(port), "--data-dir", str(cluster.dir),
           "--kubernetes-version", cluster.version]
    if cluster.mode == "virtual":
        cmd += ["--host-kubeconfig", cluster.host_kubeconfig, "--name", cluster.name]
        if cluster.host_namespace:
            cmd += ["--host-namespace", cluster.host_namespace]
        if cluster.config:
            cmd += ["--config", cluster.config]
    elif cluster.nodes is not None:
        cmd += ["--nodes", str(cluster.nodes)]
    return cmd


def _launch(cluster: Cluster) -> None:
    """Start the cluster's `vapi serve` detached from us, and return once it answers /readyz."""
    port = cluster.port if cluster.port and _port_free(cluster.port) else 0
    log_path = cluster.dir / LOG
    with open(log_path, "ab") as log:
        offset = log.tell()
        proc = subprocess.Popen(serve_command(cluster, port), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    cluster.pid = proc.pid
    cluster.port = _await_port(proc, log_path, offset)
    cluster.server = f"https://127.0.0.1:{cluster.port}"
    cluster.save()
    _await_ready(proc, cluster)
    # The server outlives us: it is no child to reap, and Popen must not warn that it still runs.
    proc.returncode = 0


def _await_port(proc: subprocess.Popen, log_path: Path, offset: int) -> int:
    """The child prints `port: N`, then `export KUBECONFIG=...` once it serves."""
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
            raise ClusterError(f"vapi serve exited with code {proc.returncode}: {last.strip()} (see {log_path})")
        time.sleep(POLL_SECONDS)
    _kill(proc)
    raise ClusterError(f"vapi serve did not start in {START_TIMEOUT:.0f}s (see {log_path})")


def _kill(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def _await_ready(proc: subprocess.Popen, cluster: Cluster) -> None:
    """GET /readyz over TLS as the cluster's kubeconfig reaches it."""
    context, server = _client(cluster.kubeconfig)
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ClusterError(f"vapi serve exited with code {proc.returncode} (see {cluster.dir / LOG})")
        try:
            with urllib.request.urlopen(server + "/readyz", context=context, timeout=5) as answer:
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
        except OSError as err:
            last = str(err)
        time.sleep(POLL_SECONDS * 5)
    _kill(proc)
    raise ClusterError(f"virtual cluster {cluster.name} did not get ready: {last}")


def _client(kubeconfig: Path) -> tuple[ssl.SSLContext, str]:
    """An SSL context that trusts the kubeconfig's CA and presents its client certificate."""
    config = yaml.safe_load(kubeconfig.read_text())
    cluster = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    context = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    # ssl loads a certificate chain only from a file: a private one, removed at once.
    with tempfile.NamedTemporaryFile(dir=kubeconfig.parent, prefix=".client-", suffix=".pem") as pem:
        pem.write(base64.b64decode(user["client-certificate-data"]) + b"\n"
                  + base64.b64decode(user["client-key-data"]))
        pem.flush()
        context.load_cert_chain(pem.name)
    return context, cluster["server"]


# --- commands ----------------------------------------------------------------------------------

def create(name: str, version: str, nodes: int | None = None, host_kubeconfig: Path | None = None,
           host_namespace: str | None = None, config: Path | None = None) -> Cluster:
    check_name(name)
    started = time.monotonic()
    cluster = Cluster.load(name)
    if cluster is not None and cluster.running():
        raise ClusterError(f"virtual cluster {name} already exists")
    if cluster is not None:
        progress("info", f"Starting virtual cluster {name} again on its existing data...")
        _launch(cluster)
    else:
        progress("info", f"Creating virtual cluster {name}...")
        cluster = None
        try:
            cluster = _new(name, version, nodes, host_kubeconfig, host_namespace, config)
            _launch(cluster)
        except BaseException:
            if cluster is not None and cluster.running():
                stop_process(cluster.pid, cluster.dir)
            shutil.rmtree(cluster_dir(name), ignore_errors=True)
            raise
    progress("done", f"Virtual cluster {name} is ready ({time.monotonic() - started:.1f}s)")
    progress("-", f"Use `vapi connect {name}` to access it ({cluster.server})")
    return cluster


def _new(name: str, version: str, nodes: int | None, host_kubeconfig: Path | None,
         host_namespace: str | None, config: Path | None) -> Cluster:
    if host_namespace is not None:
        check_name(host_namespace, "host namespace")
    for given in (host_kubeconfig, config):
        if given is not None and not given.is_file():
            raise ClusterError(f"{given}: no such file")
    directory = cluster_dir(name)
    directory.mkdir(parents=True, exist_ok=True)
    created = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    cluster = Cluster(name=name, version=version, mode="virtual" if host_kubeconfig else "standalone",
                      created=created.replace("+00:00", "Z"), nodes=None if host_kubeconfig else nodes)
    if host_kubeconfig is not None:
        copy = directory / HOST_KUBECONFIG
        _write_private(copy, yaml.safe_dump(self_contained(host_kubeconfig), sort_keys=False))
        cluster.host_kubeconfig = str(copy)
        cluster.host_kubeconfig_source = str(host_kubeconfig.resolve())
        cluster.host_namespace = host_namespace
        from .clusterhost import prepare
        prepare(cluster)
    if config is not None:
        copy = directory / SYNC_CONFIG
        shutil.copyfile(config, copy)
        cluster.config = str(copy)
    cluster.save()
    return cluster


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


# Kubeconfig fields naming a file, and the field that carries the same bytes inline.
_FILE_FIELDS = {"certificate-authority": "certificate-authority-data",
                "client-certificate": "client-certificate-data", "client-key": "client-key-data"}


def self_contained(path: Path) -> dict:
    """The kubeconfig at `path` with the files it names (relative to it) inlined as `*-data`."""
    config = yaml.safe_load(path.read_text()) or {}
    entries = [c.get("cluster") or {} for c in config.get("clusters") or []]
    entries += [u.get("user") or {} for u in config.get("users") or []]
    for entry in entries:
        for key, inline in _FILE_FIELDS.items():
            if key in entry:
                data = (path.parent / os.path.expanduser(entry.pop(key))).read_bytes()
                entry[inline] = base64.b64encode(data).decode()
    return config


def table(clusters: list[Cluster]) -> str:
    """`vapi list`'s table, its columns padded as kubectl pads them."""
    from .wire.tables.cells import human_duration
    rows = [("NAME", "STATUS", "AGE", "VERSION", "ENDPOINT", "HOST")]
    for c in clusters:
        rows.append((c.name, "Running" if c.running() else "Stopped", human_duration(c.age()), c.version,
                     c.server or "", _host_column(c)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join("   ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n" for row in rows)


def _host_column(cluster: Cluster) -> str:
    if cluster.mode != "virtual":
        return "standalone"
    return cluster.host_namespace or "(kubeconfig's namespace)"


def as_json(clusters: list[Cluster]) -> str:
    items = []
    for c in clusters:
        items.append({"name": c.name, "status": "Running" if c.running() else "Stopped", "created": c.created,
                      "ageSeconds": int(c.age().total_seconds()), "version": c.version, "endpoint": c.server,
                      "port": c.port, "pid": c.pid, "mode": c.mode, "hostNamespace": c.host_namespace,
                      "hostKubeconfig": c.host_kubeconfig_source, "kubeconfig": str(c.kubeconfig)})
    return json.dumps(items, indent=2) + "\n"


def delete(name: str) -> None:
    cluster = existing(name)
    started = time.monotonic()
    progress("info", f"Deleting virtual cluster {name}...")
    if cluster.pid is not None and cluster.running():
        progress("info", f"Stopping vapi serve (pid {cluster.pid})")
        if stop_process(cluster.pid, cluster.dir):
            progress("warn", f"vapi serve (pid {cluster.pid}) did not stop in {STOP_TIMEOUT:.0f}s: killed")
    if cluster.mode == "virtual":
        from .clusterhost import remove_host_objects
        remove_host_objects(cluster)
    shutil.rmtree(cluster.dir)
    progress("done", f"Deleted virtual cluster {name} ({time.monotonic() - started:.1f}s)")


def context_name(name: str) -> str:
    return f"vapi_{name}"


def connect_config(cluster: Cluster) -> dict:
    """The cluster's admin kubeconfig with its cluster, user and context all named `vapi_NAME`."""
    if not cluster.kubeconfig.exists():
        raise ClusterError(f"virtual cluster {cluster.name} has no kubeconfig yet (start it with "
                           f"`vapi create {cluster.name}`)")
    served = yaml.safe_load(cluster.kubeconfig.read_text())
    label = context_name(cluster.name)
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": label, "cluster": served["clusters"][0]["cluster"]}],
            "users": [{"name": label, "user": served["users"][0]["user"]}],
            "contexts": [{"name": label, "context": {"cluster": label, "user": label}}],
            "current-context": label}


def default_kubeconfig() -> Path:
    """Where kubectl writes: $KUBECONFIG's first path, else ~/.kube/config."""
    paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return Path(paths[0]) if paths else Path.home() / ".kube" / "config"


def merge_into(path: Path, ours: dict) -> str | None:
    """Put `ours`' cluster, user and context into the kubeconfig at `path` (replacing ones of the
    same names) and make its context current; the context that was current before."""
    config = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    config.setdefault("apiVersion", "v1")
    config.setdefault("kind", "Config")
    for section in ("clusters", "users", "contexts"):
        entries = [e for e in config.get(section) or [] if e.get("name") != ours[section][0]["name"]]
        config[section] = entries + ours[section]
    previous = config.get("current-context") or None
    config["current-context"] = ours["current-context"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    _write_private(tmp, yaml.safe_dump(config, sort_keys=False))
    os.replace(tmp, path)
    return previous


def connect(name: str, print_only: bool, kube_config: Path | None) -> str | None:
    """The kubeconfig text with --print; else merged into the user's kubeconfig (None)."""
    cluster = existing(name)
    if not cluster.running():
        progress("warn", f"virtual cluster {name} is not running (start it again with `vapi create {name}`)")
    ours = connect_config(cluster)
    if print_only:
        return yaml.safe_dump(ours, sort_keys=False)
    path = kube_config or default_kubeconfig()
    previous = merge_into(path, ours)
    progress("done", f"Switched active kube context to {ours['current-context']} in {path}")
    if previous and previous != ours["current-context"]:
        progress("-", f"Use `kubectl config use-context {previous}` to return to your previous kube context")
    progress("-", "Use `kubectl get namespaces` to access the virtual cluster")
    return None
