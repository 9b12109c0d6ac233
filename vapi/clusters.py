"""The clusters `vapi create` starts, in the manner of vcluster's CLI.

Each lives in `$VAPI_HOME/clusters/NAME/` (VAPI_HOME defaults to `~/.vapi`): the served data dir
itself (database, certificates, `kubeconfig.yaml`), `cluster.json` (what the CLI knows of it), the
server's log, and copies of the host kubeconfig and `--config` file it was created with, so it can
be started again after its process is gone without the originals.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import datetime
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from admission.schemas import DEFAULT_VERSION

from . import clusterprocess, kubeconfigs

RECORD = "cluster.json"
LOG = "vapi.log"
HOST_KUBECONFIG = "host-kubeconfig.yaml"
SYNC_CONFIG = "config.yaml"


class ClusterError(Exception):
    """What the user is told, in one line; the command exits 1."""


def progress(level: str, message: str) -> None:
    """A progress line on stderr, as vcluster prints them (`info  Creating virtual cluster vc1...`);
    level `-` for its hints (`- Use ...`)."""
    print(f"- {message}" if level == "-" else f"{level:<5} {message}", file=sys.stderr, flush=True)


def home() -> Path:
    # Resolved, so that the path a server was started with is the one later commands look for.
    return Path(os.environ.get("VAPI_HOME") or Path.home() / ".vapi").expanduser().resolve()


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
        except ValueError as err:
            raise ClusterError(f"virtual cluster {name}: {path} is not readable: {err}") from None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self) -> None:
        path = self.dir / RECORD
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(tmp, path)

    def running(self) -> bool:
        return self.pid is not None and clusterprocess.alive(self.pid, self.dir)

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


def _start(cluster: Cluster, log_kept: Path) -> None:
    """Start the cluster's server and return once it answers; its pid and port are recorded as
    soon as they are known, so an interrupted create leaves no server the CLI cannot find."""
    def started(pid: int, port: int) -> None:
        cluster.pid, cluster.port, cluster.server = pid, port, f"https://127.0.0.1:{port}"
        cluster.save()
    port = cluster.port if cluster.port and clusterprocess.port_free(cluster.port) else 0
    try:
        clusterprocess.start(serve_command(cluster, port), cluster.dir / LOG, cluster.kubeconfig, started)
    except clusterprocess.StartError as err:
        raise ClusterError(f"{err} (log: {log_kept})") from None


def _stop(cluster: Cluster) -> bool:
    try:
        return clusterprocess.stop(cluster.pid, cluster.dir)
    except clusterprocess.StartError as err:
        raise ClusterError(str(err)) from None


# --- commands ----------------------------------------------------------------------------------

def create(name: str, version: str | None = None, nodes: int | None = None, host_kubeconfig: Path | None = None,
           host_namespace: str | None = None, config: Path | None = None) -> Cluster:
    """`version` None: the default one; a stopped cluster starts again as it was created."""
    check_name(name)
    _check_options(nodes, host_kubeconfig, host_namespace, config)
    started = time.monotonic()
    with _locked(name):
        cluster = Cluster.load(name)
        if cluster is not None and cluster.running():
            raise ClusterError(f"virtual cluster {name} already exists")
        if cluster is not None:
            progress("info", f"Starting virtual cluster {name} again on its existing data...")
            _ignored(cluster, version, nodes, host_kubeconfig, host_namespace, config)
            _start(cluster, cluster.dir / LOG)
        else:
            progress("info", f"Creating virtual cluster {name}...")
            cluster = _create(name, version or DEFAULT_VERSION, nodes, host_kubeconfig, host_namespace, config)
    progress("done", f"Virtual cluster {name} is ready ({time.monotonic() - started:.1f}s)")
    return cluster


def _ignored(cluster: Cluster, version: str | None, nodes: int | None, host_kubeconfig: Path | None,
             host_namespace: str | None, config: Path | None) -> None:
    """Say which options given to `create` of an existing cluster differ from what it was made with."""
    given = {"--kubernetes-version": (version, cluster.version), "--nodes": (nodes, cluster.nodes),
             "--host-namespace": (host_namespace, cluster.host_namespace),
             "--host-kubeconfig": (host_kubeconfig and str(host_kubeconfig.resolve()), cluster.host_kubeconfig_source),
             "--config": (config, None)}
    differ = [flag for flag, (new, old) in given.items() if new is not None and new != old]
    if differ:
        progress("warn", f"{', '.join(differ)} ignored: virtual cluster {cluster.name} starts again as it was "
                         f"created (delete it to make it anew)")


def _check_options(nodes: int | None, host_kubeconfig: Path | None, host_namespace: str | None,
                   config: Path | None) -> None:
    if host_kubeconfig is None:
        for flag, given in (("--host-namespace", host_namespace), ("--config", config)):
            if given is not None:
                raise ClusterError(f"{flag} is for virtual clusters: give --host-kubeconfig too")
    elif nodes is not None:
        raise ClusterError("--nodes is for standalone clusters: a virtual cluster's pods run on its host's nodes")
    if host_namespace is not None:
        check_name(host_namespace, "host namespace")
    for given in (host_kubeconfig, config):
        if given is not None and not given.is_file():
            raise ClusterError(f"{given}: no such file")
    if config is not None:
        from syncer.config import ConfigError, SyncConfig
        try:
            SyncConfig.load(config)
        except ConfigError as err:
            raise ClusterError(f"--config {config}: {err}") from None


@contextlib.contextmanager
def _locked(name: str):
    """One `vapi create` or `vapi delete` of a cluster at a time."""
    import fcntl
    root = home() / "locks"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _create(name: str, version: str, nodes: int | None, host_kubeconfig: Path | None,
            host_namespace: str | None, config: Path | None) -> Cluster:
    """A new cluster's directory, record, host namespace and process; when it does not start,
    nothing of it stays but its log, kept beside the clusters' directories for the user to read."""
    failed_log = home() / "clusters" / f"{name}.failed.log"
    cluster = None
    try:
        cluster = _new(name, version, nodes, host_kubeconfig, host_namespace, config)
        if cluster.mode == "virtual":
            from .clusterhost import prepare
            # The host namespace is settled while the server starts (loading the host client
            # takes a quarter second); the server finds the same namespace in the kubeconfig.
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                settled = pool.submit(prepare, cluster)
                try:
                    _start(cluster, failed_log)
                finally:
                    settled.result()
            cluster.save()
        else:
            _start(cluster, failed_log)
    except BaseException:
        _undo(name, cluster, failed_log)
        raise
    failed_log.unlink(missing_ok=True)
    return cluster


def _undo(name: str, cluster: Cluster | None, failed_log: Path) -> None:
    if cluster is not None and cluster.running():
        _stop(cluster)
    if cluster is not None and cluster.mode == "virtual":
        from .clusterhost import remove_host_objects
        with contextlib.suppress(ClusterError):  # the host may be why it failed
            remove_host_objects(cluster)
    with contextlib.suppress(OSError):
        os.replace(cluster_dir(name) / LOG, failed_log)
    shutil.rmtree(cluster_dir(name), ignore_errors=True)


def _new(name: str, version: str, nodes: int | None, host_kubeconfig: Path | None,
         host_namespace: str | None, config: Path | None) -> Cluster:
    directory = cluster_dir(name)
    directory.mkdir(parents=True, exist_ok=True)
    created = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    cluster = Cluster(name=name, version=version, mode="virtual" if host_kubeconfig else "standalone",
                      created=created.replace("+00:00", "Z"), nodes=nodes)
    if host_kubeconfig is not None:
        copy = directory / HOST_KUBECONFIG
        try:
            contained = kubeconfigs.self_contained(host_kubeconfig)
        except (OSError, yaml.YAMLError, AttributeError) as err:
            raise ClusterError(f"host kubeconfig {host_kubeconfig}: {err}") from None
        kubeconfigs.write_private(copy, yaml.safe_dump(contained, sort_keys=False))
        cluster.host_kubeconfig = str(copy)
        cluster.host_kubeconfig_source = str(host_kubeconfig.resolve())
        cluster.host_namespace = host_namespace
    if config is not None:
        copy = directory / SYNC_CONFIG
        shutil.copyfile(config, copy)
        cluster.config = str(copy)
    cluster.save()
    return cluster


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
    check_name(name)
    with _locked(name):
        _delete(existing(name))


def _delete(cluster: Cluster) -> None:
    started = time.monotonic()
    progress("info", f"Deleting virtual cluster {cluster.name}...")
    if cluster.running():
        progress("info", f"Stopping vapi serve (pid {cluster.pid})")
        if _stop(cluster):
            progress("warn", f"vapi serve (pid {cluster.pid}) did not stop in {clusterprocess.STOP_TIMEOUT:.0f}s: killed")
    if cluster.mode == "virtual":
        from .clusterhost import remove_host_objects
        remove_host_objects(cluster)
    shutil.rmtree(cluster.dir)
    progress("done", f"Deleted virtual cluster {cluster.name} ({time.monotonic() - started:.1f}s)")


def connect(name: str, print_only: bool, kube_config: Path | None) -> str | None:
    """The kubeconfig text with --print; else merged into the user's kubeconfig (None)."""
    cluster = existing(name)
    if not cluster.kubeconfig.exists():
        raise ClusterError(f"virtual cluster {name} has no kubeconfig yet (start it with `vapi create {name}`)")
    if not cluster.running():
        progress("warn", f"virtual cluster {name} is not running (start it again with `vapi create {name}`)")
    ours = kubeconfigs.renamed(cluster.kubeconfig, f"vapi_{name}")
    if print_only:
        return yaml.safe_dump(ours, sort_keys=False)
    path = kube_config or kubeconfigs.default_path()
    previous = kubeconfigs.merge_into(path, ours)
    progress("done", f"Switched active kube context to {ours['current-context']} in {path}")
    if previous and previous != ours["current-context"]:
        progress("-", f"Use `kubectl config use-context {previous}` to return to your previous kube context")
    progress("-", "Use `kubectl get namespaces` to access the virtual cluster")
    return None
