"""`vapi serve`: start a whole Kubernetes API server in this process."""
from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import os
import signal
import sys
import time
from pathlib import Path

from admission.schemas import DEFAULT_VERSION, available_versions

PARENT_POLL_SECONDS = 1.0


def _boolean(text: str) -> bool:
    """Go's strconv.ParseBool, as kube's boolean flags take them (`--anonymous-auth=false`)."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def _duration(text: str) -> datetime.timedelta:
    """A certificate's lifetime: a Go duration, days allowed (30m, 24h, 10d)."""
    from .wire.inflight import go_duration
    seconds = go_duration(text.strip(), days=True)
    if not seconds or seconds <= 0:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (use e.g. 30m, 24h, 10d)")
    return datetime.timedelta(seconds=seconds)


def _kubeconfig(args) -> int:
    """Mint a client certificate for --user and print a kubeconfig that uses it."""
    import yaml

    from .auth.certs import PKI
    pki = PKI(args.data_dir / "pki")
    served = args.data_dir / "kubeconfig.yaml"
    if not pki.ca_key.exists() or not served.exists():
        print(f"vapi kubeconfig: no cluster in {args.data_dir} (start one with `vapi serve --data-dir "
              f"{args.data_dir}`)", file=sys.stderr)
        return 1
    config = yaml.safe_load(served.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    cert, key = pki.issue_client(args.user, args.group, args.expiration)
    sys.stdout.write(pki.kubeconfig(server, cert, key, args.user).decode())
    return 0


def _go_duration(text: str) -> float:
    from .wire.inflight import go_duration
    seconds = go_duration(text)
    if seconds is None:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (use e.g. 30s, 1m0s)")
    return seconds


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"invalid count {text!r} (a whole number, 0 or more)")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vapi", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the Kubernetes API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=6443, help="HTTPS port; 0 picks a free one (default 6443)")
    serve.add_argument("--data-dir", type=Path, default=Path(".vapi"),
                       help="where the database, certificates and kubeconfig live (default ./.vapi)")
    serve.add_argument("--kubernetes-version", default=DEFAULT_VERSION, choices=available_versions(),
                       metavar="X.Y", help=f"API version to serve (default {DEFAULT_VERSION}; "
                       f"one of {', '.join(available_versions())})")
    serve.add_argument("--history-events", type=int, default=None, metavar="N",
                       help="events kept for watch resume; older ones are compacted (default 5000)")
    serve.add_argument("--exit-with-pid", type=int, default=None,
                       help="stop when this process is gone (tests pass their own pid)")
    serve.add_argument("--token-auth-file", type=Path, default=None, metavar="FILE",
                       help="static bearer tokens, as kube's CSV: token,user,uid[,\"group1,group2\"]")
    serve.add_argument("--anonymous-auth", type=_boolean, default=True, metavar="BOOL",
                       help="serve requests that carry no credentials as system:anonymous (default true)")
    serve.add_argument("--max-requests-inflight", type=int, default=400, metavar="N",
                       help="reads served at once before 429s; 0 for no bound (default 400)")
    serve.add_argument("--request-timeout", type=_go_duration, default=60.0, metavar="DURATION",
                       help="answer 504 to a request (not a watch or stream) still running after this "
                       "(default 1m0s, as Go durations: 30s, 2m)")
    serve.add_argument("--event-ttl", type=_go_duration, default=3600.0, metavar="DURATION",
                       help="how long events are kept after they were last seen (default 1h0m0s)")
    serve.add_argument("--horizontal-pod-autoscaler-sync-period", type=_go_duration, default=15.0,
                       metavar="DURATION", help="how often each HorizontalPodAutoscaler is looked at (default 15s)")
    serve.add_argument("--horizontal-pod-autoscaler-downscale-stabilization", type=_go_duration, default=300.0,
                       metavar="DURATION", help="how long an HPA without its own scaleDown window looks back "
                       "before scaling down (default 5m0s)")
    serve.add_argument("--horizontal-pod-autoscaler-tolerance", type=float, default=0.1, metavar="RATIO",
                       help="the change of usage ratio an HPA ignores (default 0.1)")
    serve.add_argument("--node-monitor-grace-period", type=_go_duration, default=40.0, metavar="DURATION",
                       help="how long a node whose kubelet stopped renewing its lease stays Ready, and a "
                       "deleted node's pods are kept (default 40s)")
    serve.add_argument("--max-mutating-requests-inflight", type=int, default=200, metavar="N",
                       help="writes served at once before 429s; 0 for no bound (default 200)")
    serve.add_argument("--read-header-timeout", type=float, default=32.0, metavar="SECONDS",
                       help="close connections whose request head is not whole by then (default 32)")
    serve.add_argument("--audit-policy-file", type=Path, default=None,
                       help="an audit.k8s.io/v1 Policy deciding what the audit log records")
    serve.add_argument("--audit-log-path", default=None, metavar="PATH",
                       help="where audit events go as JSON lines; - for standard output")
    serve.add_argument("--audit-log-maxsize", type=int, default=0, metavar="MB",
                       help="rotate the audit log once it reaches this many megabytes (default 0: never)")
    serve.add_argument("--audit-log-maxbackup", type=int, default=0, metavar="N",
                       help="rotated audit logs to keep (default 0: all)")
    serve.add_argument("--nodes", type=_count, default=1, metavar="N",
                       help="simulated nodes to register, vapi-node-0..N-1, each with a simulated kubelet "
                       "(default 1; 0 for none)")
    serve.add_argument("--host-kubeconfig", type=Path, default=None, metavar="FILE",
                       help="run as a virtual cluster whose pods run on the cluster this kubeconfig reaches")
    serve.add_argument("--name", default="", help="the virtual cluster's name on the host (with --host-kubeconfig)")
    serve.add_argument("--host-namespace", default=None, metavar="NS",
                       help="the host namespace its objects go to (default: the kubeconfig context's, else default)")
    serve.add_argument("--config", type=Path, default=None, metavar="FILE",
                       help="what is synced with the host, as vcluster's sync.toHost / sync.fromHost keys")
    serve.add_argument("--advertise-address", default=None, metavar="HOST",
                       help="the address the host's pods reach this server at (default: the bind address)")
    serve.add_argument("--log-level", default="WARNING")
    mint = sub.add_parser("kubeconfig", help="print a kubeconfig for a new user, with a client certificate "
                          "signed by the cluster CA")
    mint.add_argument("--data-dir", type=Path, default=Path(".vapi"),
                      help="the served cluster's data dir (default ./.vapi)")
    mint.add_argument("--user", required=True, help="the user name (the certificate's CN)")
    mint.add_argument("--group", action="append", default=[], metavar="GROUP",
                      help="a group the user is in (the certificate's O); repeat for more")
    mint.add_argument("--expiration", type=_duration, default=datetime.timedelta(days=365), metavar="D",
                      help="how long the certificate is valid, as 30m, 24h or 10d (default 365d)")
    _cluster_commands(sub)
    return parser


def _cluster_commands(sub) -> None:
    """`vapi create|connect|list|delete`: clusters under $VAPI_HOME, as vcluster's CLI has them."""
    create = sub.add_parser("create", help="start a virtual cluster in the background and wait until it answers")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--host-kubeconfig", type=Path, default=None, metavar="FILE",
                        help="run as a virtual cluster on the host this kubeconfig reaches (default: standalone, "
                        "with simulated nodes)")
    create.add_argument("--host-namespace", default=None, metavar="NS",
                        help="the host namespace its pods run in")
    create.add_argument("--kubernetes-version", default=None, choices=available_versions(),
                        metavar="X.Y", help=f"API version to serve (default {DEFAULT_VERSION})")
    create.add_argument("--nodes", type=_count, default=None, metavar="N",
                        help="simulated nodes of a standalone cluster (default 1)")
    create.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="the syncer's configuration (sync.toHost.*, sync.fromHost.*)")
    create.add_argument("--connect", type=_boolean, default=True, metavar="BOOL",
                        help="switch the current kube context to it once it answers, as `vcluster create` does "
                        "(default true)")
    create.add_argument("--kube-config", type=Path, default=None, metavar="FILE",
                        help="the kubeconfig to connect in (default: $KUBECONFIG's first path, else ~/.kube/config)")
    connect = sub.add_parser("connect", help="switch the current kube context to a cluster, or print its kubeconfig")
    connect.add_argument("name", metavar="NAME")
    connect.add_argument("--print", dest="print_only", action="store_true",
                         help="write the kubeconfig to standard output instead")
    connect.add_argument("--kube-config", type=Path, default=None, metavar="FILE",
                         help="the kubeconfig to merge into (default: $KUBECONFIG's first path, else ~/.kube/config)")
    listing = sub.add_parser("list", help="the clusters under $VAPI_HOME with their status, age, version and endpoint")
    listing.add_argument("--output", "-o", choices=("table", "json"), default="table")
    delete = sub.add_parser("delete", help="stop a cluster, remove its host objects and its data")
    delete.add_argument("name", metavar="NAME")


def _clusters(args) -> int:
    from . import clusters
    try:
        if args.command == "create":
            clusters.create(args.name, args.kubernetes_version, args.nodes, args.host_kubeconfig,
                            args.host_namespace, args.config)
            if args.connect:
                clusters.connect(args.name, False, args.kube_config)
        elif args.command == "connect":
            text = clusters.connect(args.name, args.print_only, args.kube_config)
            sys.stdout.write(text or "")
        elif args.command == "list":
            found = clusters.all_clusters()
            sys.stdout.write(clusters.as_json(found) if args.output == "json" else clusters.table(found))
        elif args.command == "delete":
            clusters.delete(args.name)
    except clusters.ClusterError as err:
        clusters.progress("fatal", str(err))
        return 1
    return 0


async def _serve(args) -> None:
    from .auth.certs import PKI
    PKI(args.data_dir / "pki").begin()  # a first start's certificates, made while the server is imported
    from .controllers.settings import ControllerSettings
    from .server import Config, Server

    started = time.monotonic()
    store_options = {}
    if args.history_events is not None:
        store_options["history_max_events"] = args.history_events
    server = Server(Config(data_dir=args.data_dir, port=args.port, kubernetes_version=args.kubernetes_version,
                           store_options=store_options, token_auth_file=args.token_auth_file,
                           anonymous_auth=args.anonymous_auth, max_requests_inflight=args.max_requests_inflight,
                           max_mutating_requests_inflight=args.max_mutating_requests_inflight,
                           request_timeout=args.request_timeout,
                           read_header_timeout=args.read_header_timeout, audit_policy_file=args.audit_policy_file,
                           audit_log_path=args.audit_log_path, audit_log_maxsize=args.audit_log_maxsize,
                           audit_log_maxbackup=args.audit_log_maxbackup, event_ttl=args.event_ttl,
                           controllers=ControllerSettings(
                               hpa_sync_period=args.horizontal_pod_autoscaler_sync_period,
                               hpa_downscale_stabilization=args.horizontal_pod_autoscaler_downscale_stabilization,
                               hpa_tolerance=args.horizontal_pod_autoscaler_tolerance,
                               node_monitor_grace_period=args.node_monitor_grace_period),
                           nodes=args.nodes, host_kubeconfig=args.host_kubeconfig, name=args.name,
                           host_namespace=args.host_namespace, sync_config=args.config,
                           advertise_address=args.advertise_address))
    await server.start()
    kubeconfig = server.kubeconfig.resolve()
    print(f"vapi serving Kubernetes {args.kubernetes_version} API on https://127.0.0.1:{server.port} "
          f"(ready in {time.monotonic() - started:.2f}s)", flush=True)
    print(f"port: {server.port}", flush=True)
    print(f"export KUBECONFIG={kubeconfig}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watchdog = asyncio.create_task(_watch_parent(args.exit_with_pid, stop)) if args.exit_with_pid else None
    await stop.wait()
    if watchdog:
        watchdog.cancel()
    await server.stop()


async def _watch_parent(pid: int, stop: asyncio.Event) -> None:
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            stop.set()
            return
        await asyncio.sleep(PARENT_POLL_SECONDS)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "kubeconfig":
        return _kubeconfig(args)
    if args.command in ("create", "connect", "list", "delete"):
        return _clusters(args)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        if args.host_kubeconfig is not None:
            from admission.validation.names import is_dns1123_label
            problems = is_dns1123_label(args.name)
            if problems:
                print(f"vapi serve: --host-kubeconfig needs --name, a DNS label: {'; '.join(problems)}",
                      file=sys.stderr)
                return 2
        if args.host_kubeconfig is not None and not args.host_kubeconfig.is_file():
            print(f"vapi serve: --host-kubeconfig: no file {args.host_kubeconfig}", file=sys.stderr)
            return 2
        if args.config is not None:
            from syncer.config import ConfigError, SyncConfig
            try:
                SyncConfig.load(args.config)
            except (ConfigError, OSError) as e:
                print(f"vapi serve: --config: {e}", file=sys.stderr)
                return 2
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
