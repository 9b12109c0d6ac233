"""`python -m bench --quick` runs every benchmark end to end against a real server and prints a
full table; the figures themselves are machine-dependent and not asserted here."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One per measurement the issue asks for, as each row's figure starts.
EXPECTED_ROWS = [
    "kube-burner (", "kube-burner: p50 latency", "kube-burner: p99 latency", "kube-burner: achieved QPS",
    "create rate:", "bare aiohttp POST handler",
    "SQLite WAL, synchronous=FULL, 1 row", "SQLite WAL, synchronous=FULL, 10 row",
    "SQLite WAL, synchronous=FULL, 100 row",
    "SQLiteStore.create",
    "state.db + state.db-wal after", "merge-patch updates",
    "cold start to kubectl get ns", "warm start to kubectl get ns", "kubectl get ns alone", "idle RSS of vapi serve",
    "server CPU per create audited at RequestResponse", "audit log written in that run",
    "simulated nodes registered, each with a Lease", "heartbeating every 10 s", "oldest Lease renewal",
    "pod create → Running (seen by a watch)",
    "pod load (", "pod load: created → Running p99", "pod load: server RSS",
    "standalone: vapi", "standalone: RSS of each of", "standalone: idle clusters that fit",
    "virtual: vapi", "virtual: RSS of each of", "virtual: idle clusters that fit",
    "create rate ÷ SQLite 1-row commit rate", "failed requests, all loads",
]


def test_quick_bench_prints_every_row():
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {}
    for line in proc.stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and not set(cells[0]) <= {"-"}:
            rows[cells[0]] = cells
    for expected in EXPECTED_ROWS:
        matches = [cells for figure, cells in rows.items() if expected in figure]
        assert matches, f"no row {expected!r} in:\n{proc.stdout}"
        assert matches[0][1], matches[0]
    assert rows["failed requests, all loads"][1] == "0", proc.stdout
