"""List, then watch from the list's revision; start over when the watch is lost."""
from __future__ import annotations

import asyncio
import logging

from storage.store import Compacted

log = logging.getLogger("vapi.controllers")


async def run(store, info, handle, *, on_resync=None) -> None:
    """Call `await handle(event_type, obj, prev)` for every object of `info`'s resource, forever.

    After a (re)list every current object arrives as ADDED with prev None; `on_resync` is awaited
    first so a controller may drop state the lost watch left stale.
    """
    prefix = info.prefix()
    while True:
        try:
            if on_resync:
                await on_resync()
            items, revision, start = [], None, None
            while True:
                page, revision, more = store.list(prefix, start_after=start, limit=500, revision=revision)
                items.extend(page)
                if not more or not page:
                    break
                last = page[-1]["metadata"]
                start = info.key(last.get("namespace"), last["name"])
            for obj in items:
                await handle("ADDED", obj, None)
            watch = store.watch(prefix, revision)
            try:
                async for event in watch:
                    await handle(event.type, event.object, event.prev_object)
            finally:
                await watch.close()
        except Compacted:
            continue
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a controller must outlive one bad object
            log.exception("controller loop over %s failed; relisting", prefix)
            await asyncio.sleep(1)



def ensure_task(tasks: dict, key, start) -> None:
    """At most one running `start()` task per key: work that outlives the event that asked for it
    (emptying a deleted namespace or CRD) and must not be started twice."""
    task = tasks.get(key)
    if task is None or task.done():
        tasks[key] = asyncio.create_task(start())
