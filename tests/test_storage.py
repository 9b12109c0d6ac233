"""The SQLite store against its contract: revisions, preconditions, snapshots, watch, durability, size."""
from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

import storage.sqlite as sqlite_module
from storage.sqlite import SQLiteStore
from storage.store import Compacted, Conflict, FutureRevision, KeyExists, KeyNotFound

ROOT = Path(__file__).resolve().parent.parent
PODS = "//pods/"


def key(ns: str, name: str) -> str:
    return f"{PODS}{ns}/{name}"


def pod(ns: str, name: str, **extra) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns}, **extra}


def rv(obj: dict) -> int:
    return int(obj["metadata"]["resourceVersion"])


def run(path: Path, body, **options):
    """Run `body(store)` against a started store, and close it afterwards."""
    async def main():
        store = SQLiteStore(str(path / "state.db"), **options)
        await store.start()
        try:
            return await body(store)
        finally:
            await store.close()
    return asyncio.run(main())


def disk_size(path: Path) -> int:
    return sum(os.path.getsize(f"{path}{suffix}") for suffix in ("", "-wal") if os.path.exists(f"{path}{suffix}"))


def test_create_get_update_delete_and_their_errors(tmp_path):
    async def body(store):
        given = pod("a", "one", spec={"x": 1})
        created = await store.create(key("a", "one"), given)
        assert "resourceVersion" not in given["metadata"], "the caller's dict is left alone"
        assert rv(created) == store.revision == 1
        assert store.get(key("a", "one")) == created
        created["spec"]["x"] = 99
        assert store.get(key("a", "one"))["spec"] == {"x": 1}, "returned dicts are copies"
        assert store.get(key("a", "missing")) is None

        with pytest.raises(KeyExists):
            await store.create(key("a", "one"), pod("a", "one"))
        with pytest.raises(KeyNotFound):
            await store.update(key("a", "missing"), pod("a", "missing"))
        with pytest.raises(Conflict):
            await store.update(key("a", "one"), pod("a", "one", spec={"x": 2}), expected_revision=7)
        assert store.revision == 1, "failed writes take no revision"

        updated = await store.update(key("a", "one"), pod("a", "one", spec={"x": 2}), expected_revision=1)
        assert rv(updated) == 2
        unconditional = await store.update(key("a", "one"), pod("a", "one", spec={"x": 3}))
        assert rv(unconditional) == 3 and store.get(key("a", "one"))["spec"] == {"x": 3}

        with pytest.raises(Conflict):
            await store.delete(key("a", "one"), expected_revision=2)
        deleted = await store.delete(key("a", "one"), expected_revision=3)
        assert rv(deleted) == 4 == store.revision
        assert deleted["spec"] == {"x": 3}
        assert store.get(key("a", "one")) is None
        with pytest.raises(KeyNotFound):
            await store.delete(key("a", "one"))
        recreated = await store.create(key("a", "one"), pod("a", "one"))
        assert rv(recreated) == 5
    run(tmp_path, body)


def test_ops_of_one_batch_see_each_other_and_fail_alone(tmp_path):
    async def body(store):
        before = store.commit_count
        k = key("a", "x")
        results = await asyncio.gather(
            store.create(k, pod("a", "x")),
            store.create(k, pod("a", "x")),
            store.update(k, pod("a", "x", n=1), expected_revision=1),
            store.update(k, pod("a", "x", n=2), expected_revision=1),
            store.delete(k, expected_revision=2),
            store.update(k, pod("a", "x")),
            return_exceptions=True)
        assert store.commit_count == before + 1
        assert [type(r).__name__ for r in results] == ["dict", "KeyExists", "dict", "Conflict", "dict",
                                                      "KeyNotFound"]
        assert [rv(results[i]) for i in (0, 2, 4)] == [1, 2, 3], "consecutive revisions, failures skipped"
        assert store.get(k) is None
    run(tmp_path, body)


def test_group_commit_batches_concurrent_writes(tmp_path):
    async def body(store):
        before = store.commit_count
        created = await asyncio.gather(*(store.create(key("a", f"p{i}"), pod("a", f"p{i}")) for i in range(500)))
        transactions = store.commit_count - before
        assert sorted(rv(obj) for obj in created) == list(range(1, 501))
        assert transactions <= 10, f"500 concurrent creates took {transactions} transactions"
        items, revision, more = store.list(PODS)
        assert len(items) == 500 and revision == 500 and not more
    run(tmp_path, body)


def test_pagination_is_consistent_while_writes_happen_between_pages(tmp_path):
    async def body(store):
        for i in range(50):
            await store.create(key("a", f"p{i:02}"), pod("a", f"p{i:02}", n=0))
        await store.create(key("b", "other"), pod("b", "other"))
        expected, at, _ = store.list(key("a", ""))
        pages, start, revision, rng = [], None, None, random.Random(7)
        while True:
            page, revision, more = store.list(key("a", ""), start_after=start, limit=7, revision=revision)
            assert revision == at
            pages.extend(page)
            if not more:
                break
            start = key("a", page[-1]["metadata"]["name"])
            # Churn behind and ahead of the cursor: updates, deletes, creates.
            victim = f"p{rng.randrange(50):02}"
            if store.get(key("a", victim)):
                if rng.random() < 0.5:
                    await store.update(key("a", victim), pod("a", victim, n=rng.random()))
                else:
                    await store.delete(key("a", victim))
            await store.create(key("a", f"p{rng.randrange(50):02}-new{len(pages)}"), pod("a", "new"))
        assert pages == expected
        assert store.revision > at
    run(tmp_path, body)


@pytest.mark.parametrize("scan_by_revision", [0, 1_000_000], ids=["key-index", "revision-scan"])
def test_list_at_an_older_revision(tmp_path, monkeypatch, scan_by_revision):
    monkeypatch.setattr(sqlite_module, "SNAPSHOT_SCAN_BY_REVISION", scan_by_revision)

    async def body(store):
        rng = random.Random(3)
        snapshots = {0: []}
        for _ in range(300):
            ns, name = rng.choice("ab"), f"p{rng.randrange(15)}"
            current = store.get(key(ns, name))
            if current is None:
                await store.create(key(ns, name), pod(ns, name, n=0))
            elif rng.random() < 0.3:
                await store.delete(key(ns, name))
            else:
                await store.update(key(ns, name), pod(ns, name, n=current["n"] + 1))
            items, revision, _ = store.list(key("a", ""))
            snapshots[revision] = items
        for revision, items in snapshots.items():
            assert store.list(key("a", ""), revision=revision) == (items, revision, False)
            # The same snapshot in pages of 4.
            got, start = [], None
            while True:
                page, _, more = store.list(key("a", ""), start_after=start, limit=4, revision=revision)
                got.extend(page)
                if not more:
                    break
                start = key("a", page[-1]["metadata"]["name"])
            assert got == items
        with pytest.raises(FutureRevision):
            store.list(PODS, revision=store.revision + 1)
    run(tmp_path, body)


def test_compaction_gives_compacted_for_list_and_watch_and_keeps_the_rest(tmp_path):
    async def body(store):
        snapshots = {}
        for i in range(60):
            name = f"p{i % 6}" if i else "still"
            if store.get(key("a", name)) is None:
                await store.create(key("a", name), pod("a", name, n=i))
            elif i % 7 == 0:
                await store.delete(key("a", name))
            else:
                await store.update(key("a", name), pod("a", name, n=i))
            items, revision, _ = store.list(PODS)
            snapshots[revision] = items
        assert await store.compact() == 50 == store.compacted_revision
        with pytest.raises(Compacted) as err:
            store.list(PODS, revision=49)
        assert (err.value.requested, err.value.compacted) == (49, 50)
        with pytest.raises(Compacted):
            store.watch(PODS, 10)
        # What history still holds is whole: older values were copied out of the dropped rows.
        for revision in range(50, 61):
            assert store.list(PODS, revision=revision)[0] == snapshots[revision]
        # A change to an object whose own last change was compacted away still knows its past.
        untouched = store.get(key("a", "still"))
        assert rv(untouched) == 1
        await store.update(key("a", "still"), pod("a", "still", n="changed"))
        snapshots[61] = store.list(PODS)[0]
        assert store.list(PODS, revision=60)[0] == snapshots[60]
        watch = store.watch(PODS, 50)
        events = [event async for event in _take(watch, 11)]
        assert [e.revision for e in events] == list(range(51, 62))
        for event in events:
            if event.type != "ADDED":
                assert event.prev_object in snapshots[event.revision - 1]
        assert events[-1].prev_object == untouched
        await watch.close()
    run(tmp_path, body, history_max_events=10, compact_interval=3600)


def test_a_watch_whose_replay_compaction_overtook_ends_as_dropped(tmp_path):
    async def body(store):
        for i in range(20):
            await store.create(key("a", f"p{i}"), pod("a", f"p{i}"))
        watch = store.watch(PODS, 5)
        for i in range(20, 50):
            await store.create(key("a", f"p{i}"), pod("a", f"p{i}"))
        store.history_max_events = 10
        assert await store.compact() == 40
        assert [e async for e in watch] == [] and watch.dropped
    run(tmp_path, body, compact_interval=3600)


def test_compaction_runs_by_itself_when_history_outgrows_its_bound(tmp_path):
    async def body(store):
        for i in range(150):
            await store.create(key("a", f"p{i}"), pod("a", f"p{i}"))
        for _ in range(100):
            if store.compacted_revision:
                break
            await asyncio.sleep(0.01)
        assert store.compacted_revision >= 150 - 100 * 1.1 - 1
    run(tmp_path, body, history_max_events=100, compact_interval=3600)


def test_history_older_than_max_age_is_dropped_but_the_newest_event_stays(tmp_path):
    async def body(store):
        for i in range(20):
            await store.create(key("a", f"p{i}"), pod("a", f"p{i}"))
        await asyncio.sleep(0.3)
        assert await store.compact() == 19
        return store.revision
    assert run(tmp_path, body, history_max_age=0.2) == 20

    async def reopened(store):
        assert (store.revision, store.compacted_revision) == (20, 19)
        assert rv(await store.create(key("a", "later"), pod("a", "later"))) == 21
    run(tmp_path, reopened)


def test_revisions_survive_a_restart_even_after_deleting_the_newest(tmp_path):
    async def first(store):
        for i in range(5):
            await store.create(key("a", f"p{i}"), pod("a", f"p{i}"))
        await store.delete(key("a", "p4"))
        await store.delete(key("a", "p3"))
    run(tmp_path, first)

    async def second(store):
        assert store.revision == 7
        assert len(store.list(PODS)[0]) == 3
        assert rv(await store.create(key("a", "p9"), pod("a", "p9"))) == 8
    run(tmp_path, second)


async def _take(watch, n: int, timeout: float = 10):
    iterator = watch.__aiter__()
    for _ in range(n):
        yield await asyncio.wait_for(iterator.__anext__(), timeout)


def test_watch_resumes_without_gaps_or_duplicates_under_concurrent_writes(tmp_path):
    async def body(store):
        rng = random.Random(11)

        async def writer(w: int, count: int):
            for i in range(count):
                ns, name = rng.choice("ab"), f"w{w}-{rng.randrange(20)}"
                k = key(ns, name)
                if store.get(k) is None:
                    await store.create(k, pod(ns, name, i=i))
                elif rng.random() < 0.2:
                    await store.delete(k)
                else:
                    await store.update(k, pod(ns, name, i=i))

        async def collect(watch, seen):
            async for event in watch:
                seen.append(event)

        watchers = []

        def start_watch(prefix: str, after: int):
            watch, seen = store.watch(prefix, after), []
            watchers.append((prefix, after, watch, seen, asyncio.create_task(collect(watch, seen))))

        # A first wave, so that watchers starting later replay more than one page of history.
        await asyncio.gather(*(writer(w, 150) for w in range(8)))
        for prefix in (PODS, key("a", ""), "/", "//po"):
            for after in (0, 3, store.revision // 2, store.revision):
                start_watch(prefix, after)
        writers = [asyncio.create_task(writer(w, 150)) for w in range(8)]
        for _ in range(5):   # more watchers join while writes are in flight
            await asyncio.sleep(0.005)
            start_watch(PODS, store.revision - 5)
        await asyncio.gather(*writers)

        log = [e async for e in _take(store.watch("/", 0), store.revision)]
        assert [e.revision for e in log] == list(range(1, store.revision + 1))
        last_change: dict[str, int] = {}
        for event in log:
            assert rv(event.object) == event.revision
            if event.type == "ADDED":
                assert event.prev_object is None
            else:
                assert rv(event.prev_object) == last_change[event.key]
            last_change[event.key] = event.revision

        def summary(events):
            return [(e.revision, e.type, e.key, e.object, e.prev_object) for e in events]
        for prefix, after, watch, seen, task in watchers:
            expected = [e for e in log if e.key.startswith(prefix) and e.revision > after]
            for _ in range(1000):
                if len(seen) >= len(expected):
                    break
                await asyncio.sleep(0.01)
            await watch.close()
            await task
            assert summary(seen) == summary(expected), (prefix, after)
    run(tmp_path, body)


def test_watch_events_carry_objects_and_previous_values(tmp_path):
    async def body(store):
        start = store.revision
        watch = store.watch(key("a", ""), start)
        await store.create(key("a", "x"), pod("a", "x", n=1))
        await store.create(key("b", "x"), pod("b", "x", n=1))
        await store.update(key("a", "x"), pod("a", "x", n=2))
        await store.delete(key("a", "x"))
        events = [e async for e in _take(watch, 3)]
        assert [(e.type, e.object["n"], e.prev_object and e.prev_object["n"]) for e in events] == [
            ("ADDED", 1, None), ("MODIFIED", 2, 1), ("DELETED", 2, 2)]
        assert rv(events[2].object) == events[2].revision == 4
        assert watch.progress_revision == 4
        events[0].object["n"] = 42
        again = store.watch(key("a", ""), start)
        assert [e.object["n"] async for e in _take(again, 1)] == [1], "each watcher gets its own dicts"
        await again.close()
        await watch.close()
        assert [e async for e in watch] == []
    run(tmp_path, body)


def test_watch_from_a_revision_ahead_of_what_was_published_skips_up_to_it(tmp_path):
    async def body(store):
        watch = store.watch(PODS, 3)
        for i in range(5):
            await store.create(key("a", f"p{i}"), pod("a", f"p{i}"))
        assert [e.revision async for e in _take(watch, 2)] == [4, 5]
        await watch.close()
    run(tmp_path, body)


def test_a_slow_watcher_is_dropped_without_holding_up_writers_or_others(tmp_path):
    async def body(store):
        slow = store.watch(PODS, 0)
        fast = store.watch(PODS, 0)
        received = []

        async def consume():
            async for event in fast:
                received.append(event.revision)
                if event.revision == 200:
                    return
        consumer = asyncio.create_task(consume())
        started = time.monotonic()
        for i in range(200):
            await store.create(key("a", f"p{i}"), pod("a", f"p{i}"))
        assert time.monotonic() - started < 10
        await asyncio.wait_for(consumer, 10)
        assert received == list(range(1, 201))
        assert slow.dropped and not fast.dropped
        assert [e async for e in slow] == []
        await fast.close()
        assert store._hub.watcher_count == 0
    run(tmp_path, body, watch_buffer=10, max_batch=5)


def test_close_finishes_when_a_compaction_was_just_asked_for(tmp_path):
    async def body():
        # The 12th write asks for a compaction; close at each point of the hand-over that follows
        # (other ready tasks shift where close lands in it).
        for steps in range(4):
            for others in range(4):
                store = SQLiteStore(str(tmp_path / f"{steps}-{others}.db"), history_max_events=10,
                                    compact_interval=3600)
                await store.start()
                for i in range(12):
                    await store.create(key("a", f"p{i}"), pod("a", f"p{i}"))
                for _ in range(others):
                    asyncio.create_task(asyncio.sleep(0))
                for _ in range(steps):
                    await asyncio.sleep(0)
                started = time.monotonic()
                async with asyncio.timeout(5):
                    await store.close()
                assert time.monotonic() - started < 5, "close hung (and swallowed the timeout)"
    asyncio.run(body())


def test_close_ends_open_watches(tmp_path):
    async def body():
        store = SQLiteStore(str(tmp_path / "state.db"))
        await store.start()
        watch = store.watch(PODS, 0)
        waiting = asyncio.create_task(_drain(watch))
        await asyncio.sleep(0.01)
        await store.close()
        assert await asyncio.wait_for(waiting, 5) == []
    asyncio.run(body())


async def _drain(watch):
    return [event async for event in watch]


CRASH_WRITER = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, sys.argv[2])
    from storage.sqlite import SQLiteStore

    async def main():
        store = SQLiteStore(sys.argv[1])
        await store.start()
        async def writer(w):
            for i in range(1_000_000):
                name = f"w{w}-{i}"
                obj = await store.create(f"//pods/crash/{name}", {"metadata": {"name": name}, "pad": "x" * 300})
                if i % 3 == 0:
                    obj = await store.update(f"//pods/crash/{name}", obj, int(obj["metadata"]["resourceVersion"]))
                sys.stdout.write(f"{name} {obj['metadata']['resourceVersion']}\\n")
                sys.stdout.flush()
        await asyncio.gather(*(writer(w) for w in range(16)))
    asyncio.run(main())
""")


def test_acknowledged_writes_survive_kill_9(tmp_path):
    db = tmp_path / "state.db"
    proc = subprocess.Popen([sys.executable, "-c", CRASH_WRITER, str(db), str(ROOT)], stdout=subprocess.PIPE,
                            text=True)
    acknowledged = []
    try:
        for line in proc.stdout:
            acknowledged.append(line)
            if len(acknowledged) >= 3000:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # Whatever it printed before dying was acknowledged too; a torn last line was not.
    acknowledged += proc.stdout.readlines()
    proc.stdout.close()
    acked = dict(line.split() for line in acknowledged if line.endswith("\n"))
    assert len(acked) >= 3000

    async def check(store):
        newest = max(int(r) for r in acked.values())
        assert store.revision >= newest
        for name, revision in acked.items():
            obj = store.get(f"//pods/crash/{name}")
            assert obj is not None, name
            assert rv(obj) >= int(revision)
        created = await store.create(key("after", "crash"), pod("after", "crash"))
        assert rv(created) > newest
    run(tmp_path, check)


def test_size_stays_bounded_after_100k_updates_to_100_objects(tmp_path):
    padding = "x" * 900

    async def body(store):
        path = Path(store.path)
        for i in range(100):
            await store.create(key("a", f"p{i:02}"), pod("a", f"p{i:02}", n=0, data=padding))
        assert 1000 <= len(orjson.dumps(store.get(key("a", "p00")))) <= 1100
        peak = 0

        async def updater(i: int):
            nonlocal peak
            for n in range(1000):
                await store.update(key("a", f"p{i:02}"), pod("a", f"p{i:02}", n=n, data=padding))
                if i == 0:
                    peak = max(peak, disk_size(path))
        started = time.monotonic()
        await asyncio.gather(*(updater(i) for i in range(100)))
        elapsed = time.monotonic() - started
        final = disk_size(path)
        assert store.revision == 100 + 100_000
        assert peak < 20 * 1024 * 1024 and final < 20 * 1024 * 1024, (peak, final)
        assert store.compacted_revision > 0
        return elapsed, peak, final
    elapsed, peak, final = run(tmp_path, body)
    print(f"100k updates in {elapsed:.1f}s, peak {peak / 1e6:.1f} MB, final {final / 1e6:.1f} MB")
