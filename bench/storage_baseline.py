"""Storage baseline: what this machine's SQLite allows, what SQLiteStore makes of it, and how big it gets.

Run from the repository root: `python -m bench.storage_baseline`. The main benchmark imports the
functions; each returns plain numbers and cleans up its temporary files.
"""
from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time

import orjson

from storage.sqlite import SQLiteStore


def _padded(name: str, size: int, **fields) -> dict:
    """An object whose JSON, resourceVersion included, is about `size` bytes."""
    obj = {"metadata": {"name": name, "namespace": "bench", "resourceVersion": "1000000"}, **fields, "data": ""}
    obj["data"] = "x" * max(0, size - len(orjson.dumps(obj)))
    del obj["metadata"]["resourceVersion"]
    return obj


def disk_bytes(path: str) -> int:
    """The database file plus its WAL: what the store occupies on disk."""
    return sum(os.path.getsize(path + suffix) for suffix in ("", "-wal") if os.path.exists(path + suffix))


def sqlite_commit_rate(batch_sizes=(1, 10, 100), seconds: float = 2.0, row_bytes: int = 1024) -> dict[int, float]:
    """Rows inserted per second when committing `batch` rows per transaction, WAL + synchronous=FULL:
    the ceiling group commit works against (one fsync per transaction)."""
    rates = {}
    row = b"x" * row_bytes
    with tempfile.TemporaryDirectory(prefix="vapi-bench-") as tmp:
        conn = sqlite3.connect(os.path.join(tmp, "raw.db"), isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
        for batch in batch_sizes:
            rows = [(row,)] * batch
            inserted, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO t (v) VALUES (?)", rows)
                conn.execute("COMMIT")
                inserted += batch
            rates[batch] = inserted / (time.perf_counter() - started)
            conn.execute("DELETE FROM t")
        conn.close()
    return rates


async def _store_create_rate(path: str, writers: int, total: int, object_bytes: int) -> dict:
    store = SQLiteStore(path)
    await store.start()
    per_writer = total // writers
    template = _padded("x", object_bytes)

    async def writer(w: int):
        for i in range(per_writer):
            name = f"w{w}-{i}"
            await store.create(f"/bench/objects/bench/{name}", {**template, "metadata": {"name": name}})
    try:
        started = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(writers)))
        elapsed = time.perf_counter() - started
        return {"creates_per_s": writers * per_writer / elapsed, "commits": store.commit_count,
                "writes_per_commit": writers * per_writer / max(store.commit_count, 1)}
    finally:
        await store.close()


def store_create_rate(writers: int = 200, total: int = 20_000, object_bytes: int = 1024) -> dict:
    """SQLiteStore.create throughput with `writers` concurrent callers, and how well they batch."""
    with tempfile.TemporaryDirectory(prefix="vapi-bench-") as tmp:
        return asyncio.run(_store_create_rate(os.path.join(tmp, "state.db"), writers, total, object_bytes))


async def _churn_size(path: str, objects: int, updates: int, object_bytes: int, store_options: dict) -> dict:
    store = SQLiteStore(path, **store_options)
    await store.start()
    peak = 0
    try:
        for i in range(objects):
            await store.create(f"/bench/objects/bench/o{i}", _padded(f"o{i}", object_bytes))

        async def updater(i: int):
            nonlocal peak
            obj = _padded(f"o{i}", object_bytes)
            for n in range(updates // objects):
                obj["n"] = n % 10
                await store.update(f"/bench/objects/bench/o{i}", obj)
                if i == 0:
                    peak = max(peak, disk_bytes(path))
        started = time.perf_counter()
        await asyncio.gather(*(updater(i) for i in range(objects)))
        elapsed = time.perf_counter() - started
        final = disk_bytes(path)
        return {"updates_per_s": updates / elapsed, "peak_bytes": max(peak, final), "final_bytes": final,
                "history_events": store.revision - store.compacted_revision}
    finally:
        await store.close()


def churn_size(objects: int = 100, updates: int = 100_000, object_bytes: int = 1024, **store_options) -> dict:
    """db + wal size while `updates` updates rewrite `objects` objects (one updater per object)."""
    with tempfile.TemporaryDirectory(prefix="vapi-bench-") as tmp:
        return asyncio.run(_churn_size(os.path.join(tmp, "state.db"), objects, updates, object_bytes, store_options))


def main() -> None:
    rows = []
    for batch, rate in sqlite_commit_rate().items():
        rows.append((f"raw SQLite inserts/s, {batch} row(s) per commit (WAL, synchronous=FULL)", f"{rate:,.0f}"))
    for writers in (1, 200):
        result = store_create_rate(writers=writers, total=20_000 if writers > 1 else 3_000)
        rows.append((f"SQLiteStore creates/s, {writers} concurrent writer(s)", f"{result['creates_per_s']:,.0f}"))
        rows.append((f"  writes per commit, {writers} writer(s)", f"{result['writes_per_commit']:.1f}"))
    churn = churn_size()
    rows.append(("100,000 updates to 100 objects of 1 KB: updates/s", f"{churn['updates_per_s']:,.0f}"))
    rows.append(("  db + wal at peak (MB)", f"{churn['peak_bytes'] / 1e6:.1f}"))
    rows.append(("  db + wal at the end (MB)", f"{churn['final_bytes'] / 1e6:.1f}"))
    rows.append(("  history events kept", f"{churn['history_events']:,}"))
    width = max(len(label) for label, _ in rows)
    print(f"{'storage baseline':<{width}}  value")
    print("-" * (width + 14))
    for label, value in rows:
        print(f"{label:<{width}}  {value:>12}")


if __name__ == "__main__":
    main()
