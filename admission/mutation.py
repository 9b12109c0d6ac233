"""How a mutating plugin configured by API objects (webhooks, MutatingAdmissionPolicy) changes the
object: the changed object is decoded into the kind and defaulted again, as kube decodes a
patched object, then replaces the request's object in place; and reinvocation: each step that
asks for it (reinvocationPolicy IfNeeded) runs once more when a later step changed the object."""
from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterable

from .chain import Attributes


def adopt(attrs: Attributes, changed: dict) -> None:
    attrs.behaviour.decode(changed)
    attrs.behaviour.default(changed)
    attrs.object.clear()
    attrs.object.update(changed)


async def run_steps(attrs: Attributes, steps: Iterable, run: Callable[[object], Awaitable[None]],
                    reinvoke: Callable[[object], bool]) -> None:
    seen = []
    for step in steps:
        await run(step)
        seen.append((step, copy.deepcopy(attrs.object)))
    for step, after in seen:
        if reinvoke(step) and after != attrs.object:
            await run(step)
