"""What the audit log costs the server: CPU per write with every request audited at
RequestResponse into a file, beside the same writes with audit off, in the same run."""
from __future__ import annotations

import tempfile
from pathlib import Path

from .runner import Row, start_server
from .write_cpu import ROUNDS, VERBS, best_rounds

POLICY = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n"


def audit_cpu(bench) -> list[Row]:
    work = Path(tempfile.mkdtemp(dir=bench.workdir))
    (work / "policy.yaml").write_text(POLICY)
    audited = ("--audit-policy-file", str(work / "policy.yaml"), "--audit-log-path", str(work / "audit.log"))
    servers = {}
    try:
        servers["off"] = start_server()
        servers["on"] = start_server(extra_args=audited)
        best = best_rounds(bench, servers, "audit", ROUNDS if bench.scale.runs > 1 else 1)  # one in a quick run
    finally:
        for server in servers.values():
            server.cleanup()
    logged = (work / "audit.log").stat().st_size if (work / "audit.log").exists() else 0
    rows = []
    for verb in VERBS:
        on, off = best["on"][verb], best["off"][verb]
        rows.append(Row(f"server CPU per {verb} audited at RequestResponse to a file (audit off beside it)",
                        f"{on:,.0f} µs (off {off:,.0f} µs: +{on - off:,.0f} µs, {on / off:.2f}×)"))
    rows.append(Row("audit log written in that run", f"{logged / 1024 / 1024:.1f} MB"))
    return rows
