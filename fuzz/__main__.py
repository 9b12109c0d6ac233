"""`python -m fuzz` (`make fuzz`): schemathesis against a fresh `vapi serve` for a set time.

It serves the OpenAPI v3 documents of core/v1, apps/v1 and a CustomResourceDefinition's group,
and runs schemathesis on each for a share of FUZZ_SECONDS (default 600) with fuzz/checks.py's
checks: no 5xx but 501, every error answer a Kubernetes Status; schemathesis itself reports any
connection the server dropped. The server's own log is scanned for tracebacks at the end. Prints
the figures and exits non-zero when anything was found.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vapi.testing import ServerProcess, run_kubectl

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.fuzz.example.com}
spec:
  group: fuzz.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}, scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations: [{rule: "self.size <= 100", message: "too big"}]
            properties:
              size: {type: integer, minimum: 0}
              replicas: {type: integer}
              tags: {type: array, items: {type: string, maxLength: 20}, maxItems: 10}
              mode: {type: string, enum: [fast, slow]}
          status: {type: object, properties: {replicas: {type: integer}}}
"""
DOCUMENTS = ("api/v1", "apis/apps/v1", "apis/fuzz.example.com/v1")


def main() -> int:
    seconds = int(os.environ.get("FUZZ_SECONDS", "600"))
    st = Path(sys.executable).with_name("st")
    work = Path(tempfile.mkdtemp(prefix="vapi-fuzz-"))
    (work / "crd.yaml").write_text(CRD)
    results = {}
    with ServerProcess(work / "data") as server:
        run_kubectl(server.kubeconfig, "apply", "-f", str(work / "crd.yaml"))
        run_kubectl(server.kubeconfig, "wait", "--for=condition=Established", "crd/widgets.fuzz.example.com")
        pki = server.data_dir / "pki"
        for doc in DOCUMENTS:
            started = time.monotonic()
            schema = work / (doc.replace("/", "_") + ".openapi.json")
            status, text = _get(server, f"/openapi/v3/{doc}")
            assert status == 200, text
            schema.write_text(json.dumps(_without_streams(json.loads(text))))
            cmd = [str(st), "run", str(schema), "--url", f"https://127.0.0.1:{server.port}",
                   "--tls-verify", str(pki / "ca.crt"), "--request-cert", str(pki / "admin.crt"),
                   "--request-cert-key", str(pki / "admin.key"), "--max-time", str(max(1, seconds // len(DOCUMENTS))),
                   "--checks", "no_server_error_but_501,errors_are_kubernetes_status",
                   "--request-timeout", "30", "--workers", "2", "--suppress-health-check", "all",
                   "--no-color"]
            env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz.checks",
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent.parent),
                                                                os.environ.get("PYTHONPATH")]))}
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            (work / (doc.replace("/", "_") + ".log")).write_text(proc.stdout + proc.stderr)
            results[doc] = (_findings(proc.stdout), _summary(proc.stdout), time.monotonic() - started)
    tracebacks = "".join(server.output).count("Traceback")
    print(f"fuzz run in {work} ({seconds} s budget)")
    for doc, (findings, summary, took) in results.items():
        print(f"  {doc:28} {took:4.0f} s  {summary}")
        for finding in findings:
            print(f"      found: {finding}")
    print(f"  tracebacks in the server's log: {tracebacks}; logs: {work}")
    return 0 if tracebacks == 0 and not any(findings for findings, _, _ in results.values()) else 1


# Requests that answer with a stream that lasts (watches, followed logs) would each hold a fuzzing
# worker until its request timeout; they are left to the watch tests.
STREAMING_PARAMETERS = ("watch", "follow")


def _without_streams(doc: dict) -> dict:
    doc["paths"] = {path: item for path, item in doc.get("paths", {}).items() if "/watch/" not in path}
    for item in doc["paths"].values():
        for op in [item, *(v for v in item.values() if isinstance(v, dict))]:
            if isinstance(op.get("parameters"), list):
                op["parameters"] = [p for p in op["parameters"] if p.get("name") not in STREAMING_PARAMETERS]
    return doc


def _get(server: ServerProcess, path: str) -> tuple[int, str]:
    import ssl
    import urllib.request
    pki = server.data_dir / "pki"
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    ctx.load_cert_chain(pki / "admin.crt", pki / "admin.key")
    with urllib.request.urlopen(f"https://127.0.0.1:{server.port}{path}", context=ctx, timeout=60) as resp:
        return resp.status, resp.read().decode()


def _findings(output: str) -> list[str]:
    """The summary's failures (a check failed) and network errors (a connection the server dropped or
    a request it never answered). schemathesis' own runtime errors (its case generator failing on a
    schema) are the tool's, and shown in the summary line only."""
    found, section = [], ""
    for line in output.splitlines():
        text = line.strip()
        if text in ("Failures:", "Errors:", "Warnings:", "Test cases:", "Reports:"):
            section = text
        elif text and section == "Failures:":
            found.append(text)
        elif text and section == "Errors:" and "Runtime Error" not in text:
            found.append(text)
    return found


def _summary(output: str) -> str:
    """schemathesis' closing lines: test cases and failures."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    keep = [line for line in lines if any(word in line for word in ("passed", "failed", "errors", "generated",
                                                                        "Test cases", "cases"))]
    return " | ".join(keep[-4:])


if __name__ == "__main__":
    sys.exit(main())
