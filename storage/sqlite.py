"""The SQLite backend: current objects, a history log by revision, group commit on one writer.

Two tables carry the model. `objects` holds the newest value of every live key; `history` holds one
row per revision (type, key, value, previous value), which serves watch resume and lists at an older
revision. Revisions are consecutive, so the history holds exactly the revisions
(compacted_revision, revision] and its size needs no counting.

A history row names its previous value by revision (`prev_revision`: the key's preceding row) rather
than holding a copy, as long as that row is in history; compaction copies the value into the rows
that would lose it. Updates, the common write, thus store and fsync each value once, not twice.

Writes go through a queue to one task that commits whatever has accumulated in one transaction on
one dedicated thread (group commit: a burst of writes costs one fsync). Reads run synchronously on
the caller's thread over a second connection; WAL lets them proceed while the writer commits.
"""
from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import sqlite3
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from operator import itemgetter

import orjson

from .store import Compacted, Conflict, FutureRevision, KeyExists, KeyNotFound, StoreError
from .watch import RawEvent, Watcher, WatchHub

log = logging.getLogger("vapi.storage")

ADDED, MODIFIED, DELETED = 0, 1, 2
CREATE, UPDATE, DELETE = 0, 1, 2

# 8 KiB pages pack history rows of ~1 KB objects seven to a page where 4 KiB pages fit three and
# waste a quarter; measured, the database is ~15% smaller after 100,000 updates.
PAGE_SIZE = 8192
# The WAL is copied back into the database once it holds this much (SQLite counts it in pages),
# and after a checkpoint resets it, it is truncated to the same size rather than kept at its peak.
WAL_BYTES = 4 * 1024 * 1024
# Compaction starts early when the history exceeds its bound by this fraction, so a write burst
# cannot grow the file far beyond what the timer would allow.
COMPACT_MARGIN = 0.1
# A list at an older revision walks the history either by revision (cheap when few writes
# happened since) or by key through the (key, revision) index (cheap when many did).
SNAPSHOT_SCAN_BY_REVISION = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    mod_revision INTEGER NOT NULL,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    revision INTEGER PRIMARY KEY,
    type INTEGER NOT NULL,
    key TEXT NOT NULL,
    prev_revision INTEGER,
    value BLOB NOT NULL,
    prev_value BLOB
);
CREATE INDEX IF NOT EXISTS history_key ON history (key, revision);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('compacted_revision', 0);
"""

# A history row with the previous value it refers to (by revision, or copied once compacted).
WITH_PREV = "FROM history AS h LEFT JOIN history AS p ON p.revision = h.prev_revision "
PREV_VALUE = "COALESCE(h.prev_value, p.value)"
EVENTS = f"SELECT h.revision, h.type, h.key, h.value, {PREV_VALUE} {WITH_PREV}"

# Compaction always keeps the newest history row, so MAX(revision) is the current revision even
# after the newest objects were deleted and the history aged out: no per-commit counter to write.
REVISIONS = ("SELECT (SELECT MAX(revision) FROM history), "
             "(SELECT value FROM meta WHERE name = 'compacted_revision')")


@dataclass(slots=True)
class _Op:
    kind: int
    key: str
    obj: dict | None
    expected_revision: int | None
    future: asyncio.Future


_STOP = object()


def _prefix_end(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else chr(0x10FFFF)


@contextlib.contextmanager
def _write_transaction(conn: sqlite3.Connection):
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any failure (the writer thread's only way to write)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _encode(obj: dict, revision: int) -> bytes:
    metadata = dict(obj.get("metadata") or {})
    metadata["resourceVersion"] = str(revision)
    return orjson.dumps({**obj, "metadata": metadata})


class SQLiteStore:
    """The Store protocol over SQLite.

    History defaults: kube-apiserver has etcd compacted every 5 minutes, so clients expect about
    that much watch resume; hence 300 s. The event bound is what keeps the file small under churn:
    8,000 events of ~1 KB objects take ~10 MB, reach ~16 MB just before a compaction (bound plus
    margin, WAL up to 4 MB), so db + wal stay under 20 MB through 100,000 updates to 100 objects
    (tests/test_storage.py, bench/storage_baseline.py). 8,000 events are still 4-7 minutes of an
    ordinary small cluster's writes (lease renewals and status updates, some 20-30 a second).
    compact_interval only sets how soon age-based compaction notices; the event bound triggers
    compaction at once.
    """

    def __init__(self, path: str, *, history_max_events: int = 8000, history_max_age: float = 300.0,
                 compact_interval: float = 10.0, max_batch: int = 1000, watch_buffer: int = 10_000):
        self.path = path
        self.history_max_events = history_max_events
        self.history_max_age = history_max_age
        self.compact_interval = compact_interval
        self.max_batch = max_batch
        # Larger than a batch: one commit publishes a whole batch before any watcher can run.
        self._hub = WatchHub(max(watch_buffer, max_batch))
        self.commit_count = 0
        self._revision = 0
        self._compacted = 0
        self._db_revision = 0            # these two are owned by the writer thread
        self._db_compacted = 0
        self._executor: ThreadPoolExecutor | None = None
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._queue: asyncio.Queue | None = None
        self._writer: asyncio.Task | None = None
        self._compactor: asyncio.Task | None = None
        self._compact_wanted = asyncio.Event()
        self._compact_lock = asyncio.Lock()
        # (revision, monotonic time) of each commit still in history: what history_max_age needs.
        self._commit_times: deque[tuple[int, float]] = deque()
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._revision, self._compacted = await loop.run_in_executor(self._executor, self._open_writer)
        self._hub.revision = self._revision
        # History from before a restart has no recorded age: it starts ageing now.
        self._commit_times.append((self._revision, time.monotonic()))
        self._rconn = sqlite3.connect(self.path, isolation_level=None)
        self._rconn.execute("PRAGMA query_only = ON")
        self._queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name="sqlite-writer")
        self._compactor = asyncio.create_task(self._compact_loop(), name="sqlite-compactor")

    def _open_writer(self) -> tuple[int, int]:
        conn = sqlite3.connect(self.path, isolation_level=None)
        # Both only take effect on a new database, before its first table exists.
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: in WAL mode NORMAL may lose the last commits on power loss; we acknowledge a write
        # only once it is durable.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_BYTES // PAGE_SIZE}")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_BYTES}")
        conn.executescript(SCHEMA)
        newest, compacted = conn.execute(REVISIONS).fetchone()
        self._wconn = conn
        self._db_revision = max(newest or 0, compacted)
        self._db_compacted = compacted
        return self._db_revision, compacted

    async def close(self) -> None:
        if self._closed or self._queue is None:
            return
        self._closed = True
        self._queue.put_nowait(_STOP)
        await self._writer
        # Woken rather than cancelled: a compaction under way finishes, and Python 3.11's
        # wait_for could swallow a cancellation arriving just as it completes.
        self._compact_wanted.set()
        await self._compactor
        self._hub.close_all()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close_writer)
        self._executor.shutdown(wait=True)
        self._rconn.close()

    def _close_writer(self) -> None:
        self._wconn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._wconn.close()

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def compacted_revision(self) -> int:
        return self._compacted

    # --- writes -------------------------------------------------------------------------------

    async def create(self, key: str, obj: dict) -> dict:
        return await self._submit(CREATE, key, obj, None)

    async def update(self, key: str, obj: dict, expected_revision: int | None = None) -> dict:
        return await self._submit(UPDATE, key, obj, expected_revision)

    async def delete(self, key: str, expected_revision: int | None = None) -> dict:
        return await self._submit(DELETE, key, None, expected_revision)

    async def _submit(self, kind: int, key: str, obj: dict | None, expected: int | None) -> dict:
        if self._closed or self._queue is None:
            raise StoreError("the store is not open")
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Op(kind, key, obj, expected, future))
        return await future

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            ops = [op for op in batch if op is not _STOP]
            if ops:
                try:
                    outcomes = await loop.run_in_executor(self._executor, self._commit, ops)
                except Exception as exc:  # noqa: BLE001 - the database failed: every op of it did
                    log.exception("commit of %d writes failed", len(ops))
                    for op in ops:
                        if not op.future.done():
                            op.future.set_exception(exc)
                else:
                    self._finish(ops, outcomes)
            if len(ops) < len(batch):
                return

    def _commit(self, ops: list[_Op]) -> list[RawEvent | Exception]:
        """On the writer thread: the whole batch in one transaction, each op checked against the
        state that includes the ops before it."""
        conn = self._wconn
        revision = self._db_revision
        outcomes = []
        with _write_transaction(conn):
            for op in ops:
                outcome = self._apply(conn, op, revision + 1)
                if isinstance(outcome, RawEvent):
                    revision += 1
                outcomes.append(outcome)
        self._db_revision = revision
        return outcomes

    def _apply(self, conn: sqlite3.Connection, op: _Op, revision: int) -> RawEvent | Exception:
        row = conn.execute("SELECT mod_revision, value FROM objects WHERE key = ?", (op.key,)).fetchone()
        if op.kind == CREATE:
            if row is not None:
                return KeyExists(op.key)
        elif row is None:
            return KeyNotFound(op.key)
        elif op.expected_revision is not None and op.expected_revision != row[0]:
            return Conflict(f"{op.key}: expected revision {op.expected_revision}, current {row[0]}")
        try:
            value = _encode(orjson.loads(row[1]) if op.kind == DELETE else op.obj, revision)
        except TypeError as exc:   # not JSON: this op fails alone, before it wrote anything
            return exc
        if op.kind == CREATE:
            conn.execute("INSERT INTO objects VALUES (?, ?, ?)", (op.key, revision, value))
            conn.execute("INSERT INTO history VALUES (?, ?, ?, NULL, ?, NULL)", (revision, ADDED, op.key, value))
            return RawEvent(revision, ADDED, op.key, value, None)
        current, prev = row
        if op.kind == UPDATE:
            kind = MODIFIED
            conn.execute("UPDATE objects SET mod_revision = ?, value = ? WHERE key = ?", (revision, value, op.key))
        else:
            kind = DELETED
            conn.execute("DELETE FROM objects WHERE key = ?", (op.key,))
        # The key's preceding row is the one at its current mod revision, unless compacted away.
        copied = prev if current <= self._db_compacted else None
        conn.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?)", (revision, kind, op.key, current, value, copied))
        return RawEvent(revision, kind, op.key, value, prev)

    def _finish(self, ops: list[_Op], outcomes: list[RawEvent | Exception]) -> None:
        """On the loop, after COMMIT: answer the writers and publish, in revision order."""
        self.commit_count += 1
        events = [outcome for outcome in outcomes if isinstance(outcome, RawEvent)]
        if events:
            self._revision = events[-1].revision
            self._commit_times.append((self._revision, time.monotonic()))
        for op, outcome in zip(ops, outcomes):
            if op.future.done():   # the writer gave up waiting; the write stands regardless
                continue
            if isinstance(outcome, RawEvent):
                op.future.set_result(orjson.loads(outcome.value))
            else:
                op.future.set_exception(outcome)
        if events:
            self._hub.publish(events)
            # While a compaction runs, the bound it works to already counts these events.
            overgrown = self._revision - self._compacted > self.history_max_events * (1 + COMPACT_MARGIN)
            if overgrown and not self._compact_lock.locked():
                self._compact_wanted.set()

    # --- reads --------------------------------------------------------------------------------

    def get(self, key: str) -> dict | None:
        row = self._rconn.execute("SELECT value FROM objects WHERE key = ?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def list(self, prefix: str, *, start_after: str | None = None, limit: int | None = None,
             revision: int | None = None) -> tuple[list[dict], int, bool]:
        # start_after is exclusive, the prefix inclusive: a key equal to a prefix is in range.
        if start_after is not None and start_after >= prefix:
            lower, low = ">", start_after
        else:
            lower, low = ">=", prefix
        high = _prefix_end(prefix)
        want = limit + 1 if limit else -1       # one extra row tells whether more follow
        conn = self._rconn
        conn.execute("BEGIN")
        try:
            newest, compacted = conn.execute(REVISIONS).fetchone()
            current = newest or compacted
            if revision is None or revision == current:
                rows = conn.execute(f"SELECT value FROM objects WHERE key {lower} ? AND key < ? "
                                    "ORDER BY key LIMIT ?", (low, high, want)).fetchall()
                values = [row[0] for row in rows]
                revision = current
            elif revision > current:
                raise FutureRevision(f"revision {revision} is newer than the current {current}")
            elif revision < compacted:
                raise Compacted(revision, compacted)
            else:
                values = self._snapshot(lower, low, high, revision, current, want)
        finally:
            conn.execute("COMMIT")
        more = bool(limit) and len(values) > limit
        if more:
            values = values[:limit]
        return [orjson.loads(value) for value in values], revision, more

    def _snapshot(self, lower: str, low: str, high: str, revision: int, current: int,
                  want: int) -> list[bytes]:
        """Values at `revision`, by key: keys untouched since are current as they are; for keys
        changed after it, the value then is the prev_value of the first change after it (absent
        when that change created the key)."""
        conn = self._rconn
        unchanged = conn.execute(
            f"SELECT key, value FROM objects WHERE key {lower} ? AND key < ? AND mod_revision <= ? "
            "ORDER BY key", (low, high, revision))
        # NOT INDEXED still walks the rowid (the revision); INDEXED BY walks (key, revision), which
        # also covers the grouping without reading a row.
        access = "NOT INDEXED" if current - revision <= SNAPSHOT_SCAN_BY_REVISION else "INDEXED BY history_key"
        changed = conn.execute(
            f"SELECT key, MIN(revision) FROM history {access} "
            f"WHERE revision > ? AND key {lower} ? AND key < ? GROUP BY key ORDER BY key",
            (revision, low, high))
        values = []
        for _, value in heapq.merge(unchanged, self._values_before(changed), key=itemgetter(0)):
            values.append(value)
            if len(values) == want:
                break
        unchanged.close()
        changed.close()
        return values

    def _values_before(self, changes):
        """(key, value before the change) for each (key, first change revision); lazily, so a
        page stops reading where its limit does."""
        for key, revision in changes:
            kind, prev = self._rconn.execute(f"SELECT h.type, {PREV_VALUE} {WITH_PREV} WHERE h.revision = ?",
                                             (revision,)).fetchone()
            if kind != ADDED:
                yield key, prev

    # --- watch --------------------------------------------------------------------------------

    def watch(self, prefix: str, after_revision: int) -> Watcher:
        if self._closed:
            raise StoreError("the store is closed")
        if after_revision < self._compacted:
            raise Compacted(after_revision, self._compacted)
        return self._hub.register(prefix, after_revision, self._read_history)

    def _read_history(self, prefix: str, after: int, upto: int, limit: int) -> list[RawEvent]:
        conn = self._rconn
        conn.execute("BEGIN")
        try:
            _, compacted = conn.execute(REVISIONS).fetchone()
            if after < compacted:
                raise Compacted(after, compacted)
            rows = conn.execute(
                EVENTS + "WHERE h.revision > ? AND h.revision <= ? AND h.key >= ? AND h.key < ? "
                "ORDER BY h.revision LIMIT ?", (after, upto, prefix, _prefix_end(prefix), limit)).fetchall()
        finally:
            conn.execute("COMMIT")
        return [RawEvent(*row) for row in rows]

    # --- compaction ---------------------------------------------------------------------------

    async def _compact_loop(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.compact_interval):
                    await self._compact_wanted.wait()
            except TimeoutError:
                pass
            self._compact_wanted.clear()
            if self._closed:
                return
            try:
                await self.compact()
            except Exception:  # noqa: BLE001 - a failed compaction is retried on the next round
                log.exception("history compaction failed")

    async def compact(self) -> int:
        """Drop history beyond the newest history_max_events or older than history_max_age,
        whichever drops more; returns the compacted revision."""
        async with self._compact_lock:
            cutoff = self._revision - self.history_max_events
            aged = time.monotonic() - self.history_max_age
            for revision, committed in self._commit_times:
                if committed >= aged:
                    break
                cutoff = max(cutoff, revision)
            cutoff = min(cutoff, self._revision - 1)
            if cutoff <= self._compacted:
                return self._compacted
            # A full TRUNCATE checkpoint waits for the WAL to drain; with writes queued, the
            # passive one does what it can without holding them up.
            mode = "PASSIVE" if not self._queue.empty() else "TRUNCATE"
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._compact_history, cutoff, mode)
            self._compacted = cutoff
            while self._commit_times and self._commit_times[0][0] <= cutoff:
                self._commit_times.popleft()
            return cutoff

    def _compact_history(self, cutoff: int, checkpoint_mode: str) -> None:
        conn = self._wconn
        with _write_transaction(conn):
            # Rows that stay keep their previous value by copying it before its row goes.
            conn.execute("UPDATE history SET prev_value = (SELECT p.value FROM history AS p "
                         "WHERE p.revision = history.prev_revision) "
                         "WHERE revision > ? AND prev_revision <= ? AND prev_value IS NULL", (cutoff, cutoff))
            conn.execute("DELETE FROM history WHERE revision <= ?", (cutoff,))
            conn.execute("UPDATE meta SET value = ? WHERE name = 'compacted_revision'", (cutoff,))
        self._db_compacted = cutoff
        # The pragma frees one page per step and its rows have no columns, so execute() would take
        # one step only; executescript steps it to the end.
        conn.executescript("PRAGMA incremental_vacuum;")
        conn.execute(f"PRAGMA wal_checkpoint({checkpoint_mode})").fetchall()
