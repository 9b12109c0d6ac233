"""The one request pipeline below HTTP: verbs over the registry, admission and storage.

The HTTP layer and the in-process client used by controllers both call these methods, so a
controller's write is decoded, defaulted, validated and stored exactly as a kubectl write is.
"""
from __future__ import annotations

import asyncio
import base64
import copy
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace

import orjson

from admission.chain import CREATE, DELETE, UPDATE, Attributes, Chain
from admission.validation.names import random_suffix
from storage.store import Compacted, Conflict, FutureRevision, KeyExists, KeyNotFound

from . import errors, subresources
from .auth.user import User
from .registry import ResourceInfo, selectors
from .registry.strategies import now_rfc3339
from .writes import patch as patching
from .writes.fieldmanager import ApplyConflict
from .writes.patch import PatchError

LIST_PAGE = 500
# How often a quiet watch that asked for bookmarks gets one.
BOOKMARK_INTERVAL = 10.0
# kube's DefaultGarbageCollectionPolicy for every kind served here (only extensions-era kinds orphaned).
DEFAULT_PROPAGATION = "Background"
# Who the server's own controllers write as, when they name no field manager.
INTERNAL_MANAGER = "kube-controller-manager"


@dataclass
class ListOptions:
    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""


@dataclass
class WriteOptions:
    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = "Warn"    # kube's default when a request names none
    user: User | None = None
    # Keys the body repeated, found while decoding it (a parsed body no longer shows them).
    duplicate_fields: list[str] = field(default_factory=list)
    # Filled in on the way: what the client should be told in `Warning` headers, and what
    # admission plugins note for the audit log.
    warnings: list[str] = field(default_factory=list)
    audit_annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    preconditions: dict | None = None
    dry_run: bool = False
    user: User | None = None


def _encode_continue(revision: int, start: str) -> str:
    token = {"v": "meta.k8s.io/v1", "rv": revision, "start": start}
    return base64.urlsafe_b64encode(orjson.dumps(token)).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, str]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if raw.get("v") != "meta.k8s.io/v1" or not isinstance(raw.get("rv"), int) or not 0 <= raw["rv"] < 1 << 63:
            raise ValueError
        return raw["rv"], str(raw["start"])
    except (ValueError, TypeError, AttributeError, KeyError):
        raise errors.bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                                 "(version meta.k8s.io/v1)") from None


def _parse_revision(text: str) -> int:
    # Go's ParseUint: ASCII digits only (no sign, no spaces); revisions are int64, as etcd's.
    if not (text.isascii() and text.isdigit()) or int(text) >= 1 << 63:
        raise errors.bad_request(f'invalid resource version: "{text}"')
    return int(text)


def _meta(obj: dict) -> dict:
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be an object")
    return meta


def _patch_error(e: PatchError) -> errors.StatusError:
    reason = {400: "BadRequest", 415: "UnsupportedMediaType", 422: "Invalid"}.get(e.code, "InternalError")
    return errors.StatusError(e.code, reason, str(e))


class API:
    def __init__(self, registry, store, schemas, admission: Chain | None = None):
        self.registry = registry
        self.store = store
        self.schemas = schemas
        # Set by the composition root, which knows where namespaces are cached.
        self.admission = admission or Chain([])
        # (group, plural) -> check(plural, namespace, obj, old, user, subresource): refusals that need
        # the authorizer (RBAC's escalation prevention, who may approve or sign a CSR); set by the
        # composition root.
        self.write_checks: dict = {}
        # Subresource handlers; the composition root adds those that need its state.
        self.subresources = dict(subresources.HANDLERS)

    # --- helpers -------------------------------------------------------------------------

    def _check_type(self, info: ResourceInfo, obj: dict) -> None:
        if not isinstance(obj, dict):
            raise errors.bad_request("the body of the request must be an object")
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if kind is None and api_version is None:
            obj["apiVersion"], obj["kind"] = info.group_version, info.kind
            return
        if api_version != info.group_version or kind != info.kind:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({info.group_version})" if api_version != info.group_version else
                f"the kind in the data ({kind}) does not match the expected kind ({info.kind})")

    def _check_decodes(self, info: ResourceInfo, obj: dict, opts: WriteOptions) -> None:
        """What kube finds while decoding a body: wrong types (400) and unknown fields, which are
        dropped and then refused, reported or ignored as the request's fieldValidation says."""
        self._report_unknown(info, info.strategy.decode(obj), opts)

    @staticmethod
    def _report_unknown(info: ResourceInfo, unknown: list[str], opts: WriteOptions) -> None:
        found = [f'unknown field "{path}"' for path in unknown] + \
            [f'duplicate field "{path}"' for path in opts.duplicate_fields]
        opts.duplicate_fields = []  # reported once, even when a conflict makes the write retry
        if not found or opts.field_validation == "Ignore":
            return
        if opts.field_validation == "Strict":
            raise errors.bad_request(f'{info.kind} in version "{info.version}" cannot be handled as a '
                                     f'{info.kind}: strict decoding error: {", ".join(found)}')
        opts.warnings.extend(found)

    def _namespace_for_write(self, info: ResourceInfo, namespace: str | None, obj: dict) -> None:
        meta = _meta(obj)
        if not info.namespaced:
            meta.pop("namespace", None)
            return
        body_ns = meta.get("namespace")
        if body_ns and namespace and body_ns != namespace:
            raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                     "sent on the request")
        meta["namespace"] = namespace or body_ns or ""

    @staticmethod
    def _attributes(operation: str, info: ResourceInfo, namespace: str | None, name: str, obj, old,
                    subresource: str | None, user, dry_run: bool, opts: WriteOptions | None = None) -> Attributes:
        # Plugins' warnings and audit annotations go straight into the request's own.
        opts = opts or WriteOptions()
        return Attributes(operation, info.group, info.version, info.kind, info.plural, subresource or "",
                          namespace or "", name, obj, old, user, dry_run, info.strategy,
                          opts.warnings, opts.audit_annotations)

    def _write_check(self, info: ResourceInfo, namespace: str, obj: dict, old: dict | None,
                     subresource: str | None, user) -> None:
        check = self.write_checks.get((info.group, info.plural))
        if check is not None:
            check(info.plural, namespace, obj, old, user, subresource)

    def output(self, info: ResourceInfo, obj: dict) -> dict:
        obj["apiVersion"], obj["kind"] = info.group_version, info.kind
        return obj

    # A resource that is another's view (events.k8s.io Events) converts what it reads and writes.
    @staticmethod
    def _served(info: ResourceInfo, obj: dict | None) -> dict | None:
        return obj if obj is None or info.strategy.stored_as is None else info.strategy.served(obj)

    @staticmethod
    def _stored(info: ResourceInfo, obj: dict) -> dict:
        return obj if info.strategy.stored_as is None else info.strategy.stored(obj)

    def _read(self, info: ResourceInfo, key: str) -> dict | None:
        return self._served(info, self.store.get(key))

    # --- reads ---------------------------------------------------------------------------

    def _too_large(self, revision: int, retry_seconds: int = 1) -> errors.StatusError:
        """storage.NewTooLargeResourceVersionError: from the watch cache it asks for a retry in a
        second, from etcd (an exact list) for none."""
        return errors.StatusError(504, "Timeout", f"Timeout: Too large resource version: {revision}, "
                                  f"current: {self.store.revision}",
                                  {"causes": [{"reason": "ResourceVersionTooLarge",
                                               "message": "Too large resource version"}],
                                   "retryAfterSeconds": retry_seconds})

    def _not_older_than(self, resource_version: str) -> None:
        """A read with resourceVersion N must not answer with state older than N; the newest
        state always qualifies, unless the store has not reached N yet."""
        if resource_version not in ("", "0"):
            wanted = _parse_revision(resource_version)
            if wanted > self.store.revision:
                raise self._too_large(wanted)

    def get(self, info: ResourceInfo, namespace: str | None, name: str, resource_version: str = "",
            subresource: str | None = None) -> dict:
        if subresource:
            return subresources.handler(info, subresource, self.subresources).get(self, info, namespace, name, resource_version)
        if info.strategy.computed:
            return info.strategy.read(self, namespace, name)
        self._not_older_than(resource_version)
        obj = self._read(info, info.key(namespace, name))
        if obj is None:
            raise errors.not_found(info, name)
        return self.output(info, obj)

    def _pages(self, info: ResourceInfo, namespace: str | None,
               opts: ListOptions) -> Iterator[tuple[list[dict], int, str | None, bool]]:
        """The selected objects of a resource, a page at a time, all at one revision: (objects,
        revision, where the next page starts, whether more are stored); the only code that pages
        the store. With `opts.limit`, pages end once that many objects were selected."""
        label_sel = selectors.parse_label_selector(opts.label_selector)
        field_sel = info.strategy.field_selector(opts.field_selector)
        everything = label_sel.empty and field_sel.empty
        prefix = info.prefix(namespace)
        revision, start = None, None
        if opts.continue_token:
            revision, start = _decode_continue(opts.continue_token)
        elif opts.resource_version and opts.resource_version_match == "Exact":
            revision = _parse_revision(opts.resource_version)
        else:
            self._not_older_than(opts.resource_version)
        selected = 0
        while True:
            want = opts.limit - selected if opts.limit > 0 else LIST_PAGE
            try:
                page, revision, more = self.store.list(prefix, start_after=(prefix + start) if start else None,
                                                       limit=want, revision=revision)
            except Compacted:
                # etcd3's wording; no continue token comes with it, so the shorter of its two messages.
                raise errors.gone("The provided continue parameter is too old to display a consistent list "
                                  "result. You can start a new list without the continue parameter."
                                  if opts.continue_token else
                                  "The resourceVersion for the provided list is too old.") from None
            except FutureRevision:
                raise self._too_large(revision, retry_seconds=0) from None
            if info.strategy.stored_as is not None:
                page = [info.strategy.served(obj) for obj in page]
            objects = [self.output(info, obj) for obj in page if everything or (
                label_sel.matches(obj["metadata"].get("labels")) and field_sel.matches(obj))]
            selected += len(objects)
            if page:
                last = page[-1]["metadata"]
                start = info.key(last.get("namespace"), last["name"])[len(prefix):]
            yield objects, revision, start, more
            if not more or 0 < opts.limit <= selected:
                return

    def list(self, info: ResourceInfo, namespace: str | None, opts: ListOptions | None = None) -> dict:
        """The objects of a resource (in one namespace, or all), every page of them at one revision
        unless `opts.limit` asks for one page."""
        opts = opts or ListOptions()
        if info.strategy.computed:
            return info.strategy.read_list(self, namespace, opts)
        items: list[dict] = []
        for objects, revision, start, more in self._pages(info, namespace, opts):
            items.extend(objects)
        meta = {"resourceVersion": str(revision)}
        if more:
            meta["continue"] = _encode_continue(revision, start)
        return {"kind": f"{info.kind}List", "apiVersion": info.group_version, "metadata": meta,
                "items": items}

    def each(self, info: ResourceInfo, namespace: str | None = None,
             opts: ListOptions | None = None) -> tuple[str, Iterator[dict]]:
        """(resourceVersion, every selected object at that revision), read from the store a page
        at a time as the objects are taken, for readers that want them all (informers, the
        allocator, controllers). The first page is read at once, so that what is wrong with the
        request is raised here and the revision is known before the first object."""
        opts = opts or ListOptions()
        pages = self._pages(info, namespace, ListOptions(
            label_selector=opts.label_selector, field_selector=opts.field_selector,
            resource_version=opts.resource_version, resource_version_match=opts.resource_version_match))
        first, revision, _, _ = next(pages)

        def objects() -> Iterator[dict]:
            yield from first
            for more, _, _, _ in pages:
                yield from more
        return str(revision), objects()

    def lookup(self, info: ResourceInfo, namespace: str | None, name: str) -> dict | None:
        """The object as stored now, or None: what controllers ask before they act."""
        obj = self._read(info, info.key(namespace, name))
        return None if obj is None else self.output(info, obj)

    def watch(self, info: ResourceInfo, namespace: str | None, opts: ListOptions, *,
              send_initial_events: bool = False, bookmarks: bool = False,
              timeout: float | None = None) -> AsyncIterator[tuple[str, dict]]:
        """The events a watch sends, as (type, object): ADDED, MODIFIED and DELETED as objects enter,
        change in and leave the label and field selection, BOOKMARK and ERROR.

        Everything wrong with the request itself is raised here, before the first event, so that
        it can be answered as a Status instead of a started stream. With resourceVersion "" or
        "0", or `send_initial_events`, the current objects come first as ADDED (and, with bookmarks,
        the bookmark that marks their end).
        """
        label_sel = selectors.parse_label_selector(opts.label_selector)
        field_sel = info.strategy.field_selector(opts.field_selector)
        rv = opts.resource_version
        initial = None
        if rv in ("", "0") or send_initial_events:
            initial = self.list(info, namespace, ListOptions(label_selector=opts.label_selector,
                                                             field_selector=opts.field_selector))
            start = int(initial["metadata"]["resourceVersion"])
        else:
            start = _parse_revision(rv)
        return self._events(info, namespace, start, initial, label_sel, field_sel,
                            bookmarks and send_initial_events, bookmarks, timeout)

    async def _events(self, info, namespace, start: int, initial, label_sel, field_sel, initial_bookmark: bool,
                      bookmarks: bool, timeout: float | None) -> AsyncIterator[tuple[str, dict]]:
        everything = label_sel.empty and field_sel.empty

        def matches(obj):
            return obj is not None and (everything or label_sel.matches(obj["metadata"].get("labels"))
                                        and field_sel.matches(obj))

        for obj in (initial or {}).get("items", ()):
            yield "ADDED", obj
        try:
            # Opened here, not before the first event, so that a watch nobody iterates holds nothing.
            watcher = self.store.watch(info.prefix(namespace), start)
        except Compacted as e:
            # kube's watch cache answers this inside the stream too, once the request itself was sound.
            yield "ERROR", errors.gone(f"too old resource version: {e.requested} ({e.compacted})").status()
            return
        if initial_bookmark:
            yield "BOOKMARK", self._bookmark(info, start, initial_end=True)
        deadline = time.monotonic() + timeout if timeout else None
        last_sent = start
        iterator = watcher.__aiter__()
        try:
            while True:
                remaining = deadline - time.monotonic() if deadline else None
                if remaining is not None and remaining <= 0:
                    return
                wait = min(remaining or BOOKMARK_INTERVAL, BOOKMARK_INTERVAL) if bookmarks else remaining
                try:
                    if wait is None:
                        # Watches that never time out (the informers') pay for no timer per event.
                        event = await iterator.__anext__()
                    else:
                        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the
                        # cancellation that a client hanging up delivers.
                        async with asyncio.timeout(wait):
                            event = await iterator.__anext__()
                except TimeoutError:
                    if bookmarks and (deadline is None or time.monotonic() < deadline):
                        progress = getattr(watcher, "progress_revision", last_sent) or last_sent
                        yield "BOOKMARK", self._bookmark(info, max(last_sent, progress))
                    continue
                except StopAsyncIteration:
                    if getattr(watcher, "dropped", False):
                        yield "ERROR", errors.gone("the watch fell too far behind and was dropped; restart it "
                                                   "from a recent resourceVersion").status()
                    return
                last_sent = event.revision
                if info.strategy.stored_as is not None:
                    event = replace(event, object=self._served(info, event.object),
                                    prev_object=self._served(info, event.prev_object))
                now_match = event.type != "DELETED" and matches(event.object)
                was_match = matches(event.prev_object)
                if event.type == "DELETED":
                    if was_match or matches(event.object):
                        yield "DELETED", self.output(info, event.object)
                elif now_match and was_match:
                    yield "MODIFIED", self.output(info, event.object)
                elif now_match:
                    yield "ADDED", self.output(info, event.object)
                elif was_match:
                    # The object left the selection: to this watcher it is gone.
                    yield "DELETED", self.output(info, event.object)
        finally:
            await watcher.close()

    @staticmethod
    def _bookmark(info: ResourceInfo, revision: int, initial_end: bool = False) -> dict:
        meta = {"resourceVersion": str(revision)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"kind": info.kind, "apiVersion": info.group_version, "metadata": meta}

    # --- writes --------------------------------------------------------------------------

    async def create_subresource(self, info: ResourceInfo, namespace: str | None, name: str, subresource: str,
                                 body, opts: WriteOptions | None = None) -> dict:
        """POST to an object's subresource (token, binding, eviction): its handler decides."""
        return await subresources.handler(info, subresource, self.subresources).create(
            self, info, namespace, name, body, opts or WriteOptions())

    async def create(self, info: ResourceInfo, namespace: str | None, obj: dict,
                     opts: WriteOptions | None = None, *, track: bool = True) -> dict:
        opts = opts or WriteOptions()
        strategy = info.strategy
        self._check_type(info, obj)
        if not strategy.stores:
            self._check_decodes(info, obj, opts)
            return strategy.in_wire_order(strategy.answer(obj, opts.user or User("system:anonymous"), namespace))
        self._namespace_for_write(info, namespace, obj)
        meta = _meta(obj)
        self._check_decodes(info, obj, opts)
        attrs = self._attributes(CREATE, info, meta["namespace"] if info.namespaced else None,
                                 meta.get("name") or "", obj, None, None, opts.user, opts.dry_run, opts)
        await self.admission.admit(attrs)
        self._write_check(info, attrs.namespace, obj, None, None, opts.user)
        strategy.prepare_for_create(obj, opts.user)
        if not meta.get("name") and meta.get("generateName"):
            # kube keeps a name generated from a long prefix within 63 characters: 58 + 5 random.
            meta["name"] = str(meta["generateName"])[:58] + random_suffix()
        strategy.canonicalize(obj)
        if track:
            self._track(info, None, obj, None, opts)
        await self.admission.validate(attrs)
        strategy.allocate(self, obj)
        meta["resourceVersion"] = ""  # a place for the store's revision, in ObjectMeta's order
        obj = strategy.in_wire_order(obj)
        if opts.dry_run:
            del obj["metadata"]["resourceVersion"]
            return self.output(info, obj)
        try:
            stored = await self.store.create(info.key(meta.get("namespace"), meta["name"]), self._stored(info, obj))
        except KeyExists:
            raise errors.already_exists(info, meta["name"]) from None
        return self.output(info, self._served(info, stored))

    async def update(self, info: ResourceInfo, namespace: str | None, name: str, obj: dict, *,
                     subresource: str | None = None, opts: WriteOptions | None = None) -> dict:
        """PUT: replace the object (or write a subresource); a resourceVersion in the body makes it
        conditional."""
        if subresource:
            return await subresources.handler(info, subresource, self.subresources).update(self, info, namespace, name, obj, opts)
        return await self.replace(info, namespace, name, obj, opts=opts)

    async def replace(self, info: ResourceInfo, namespace: str | None, name: str, obj: dict, *,
                      subresource: str | None = None, opts: WriteOptions | None = None) -> dict:
        self._check_type(info, obj)
        rv = obj.get("metadata", {}).get("resourceVersion") if isinstance(obj.get("metadata"), dict) else None
        return await self.guaranteed_update(info, namespace, name, lambda _: copy.deepcopy(obj),
                                            subresource=subresource, opts=opts, precondition_rv=rv or None)

    async def patch(self, info: ResourceInfo, namespace: str | None, name: str, patch_type: str, patch, *,
                    subresource: str | None = None, opts: WriteOptions | None = None,
                    force: bool = False) -> dict:
        """PATCH with any of kube's patch types, server-side apply included."""
        if patch_type not in patching.PATCH_TYPES:
            raise errors.unsupported_media_type(patch_type)
        if subresource:
            return await subresources.handler(info, subresource, self.subresources).patch(
                self, info, namespace, name, patch_type, patch, opts, force)
        return await self.patch_object(info, namespace, name, patch_type, patch, opts=opts, force=force)

    async def patch_object(self, info: ResourceInfo, namespace: str | None, name: str, patch_type: str,
                           patch, *, subresource: str | None = None, opts: WriteOptions | None = None,
                           force: bool = False) -> dict:
        if patch_type == patching.APPLY:
            return await self.apply(info, namespace, name, patch, force=force, subresource=subresource,
                                    opts=opts)
        return await self.guaranteed_update(info, namespace, name,
                                            lambda current: self.patched(info.strategy.strategic_merge_kind, patch_type, current, patch),
                                            subresource=subresource, opts=opts)

    def patched(self, kind: tuple[str, str, str] | None, patch_type: str, current: dict, patch) -> dict:
        """`current` with the patch applied. Strategic merges follow the schema of `kind`; custom
        resources (kind None) have none, so kube refuses to merge them strategically."""
        schema = None
        if patch_type == patching.STRATEGIC:
            if kind is None:
                raise errors.unsupported_media_type(patch_type)
            schema = self.schemas.for_kind(*kind)
        try:
            return patching.apply_patch(patch_type, current, patch, self.schemas, schema)
        except PatchError as e:
            raise _patch_error(e) from None

    async def guaranteed_update(self, info: ResourceInfo, namespace: str | None, name: str, mutate, *,
                                subresource: str | None = None, opts: WriteOptions | None = None,
                                precondition_rv: str | None = None) -> dict:
        """Read, mutate a copy, write; retried on a concurrent change unless the caller pinned a version.

        `mutate(current) -> new` may raise StatusError; it gets a private copy it may change.
        """
        opts = opts or WriteOptions()
        key = info.key(namespace, name)
        while True:
            old = self._read(info, key)
            if old is None:
                raise errors.not_found(info, name)
            if precondition_rv and precondition_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(info, name, "the object has been modified; please apply your "
                                      "changes to the latest version and try again")
            new = mutate(copy.deepcopy(old))
            self._check_type(info, new)
            self._namespace_for_write(info, namespace, new)
            meta = _meta(new)
            if meta.get("name", name) != name:
                raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the "
                                         f"name on the URL ({name})")
            meta["name"] = name
            if meta.get("resourceVersion") not in (None, old["metadata"]["resourceVersion"]):
                raise errors.conflict(info, name, "the object has been modified; please apply your "
                                      "changes to the latest version and try again")
            self._check_decodes(info, new, opts)
            try:
                return await self._write_update(info, key, old, new, subresource, opts)
            except errors.StatusError as e:
                if e.code == 409 and e.reason == "Conflict" and not precondition_rv:
                    continue
                raise

    async def _write_update(self, info, key, old, obj, subresource, opts: WriteOptions, *,
                            track: bool = True) -> dict:
        attrs = self._attributes(UPDATE, info, old["metadata"].get("namespace"), old["metadata"]["name"],
                                 obj, old, subresource, opts.user, opts.dry_run, opts)
        await self.admission.admit(attrs)
        self._write_check(info, attrs.namespace, obj, old, subresource, opts.user)
        info.strategy.prepare_for_update(obj, old, subresource)
        info.strategy.canonicalize(obj)
        if track:
            self._track(info, old, obj, subresource, opts)
        await self.admission.validate(attrs)
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        obj = info.strategy.in_wire_order(obj)
        if obj == old or opts.dry_run:
            # kube skips no-op writes: same resourceVersion, no watch event.
            return self.output(info, obj)
        try:
            stored = self._served(info, await self.store.update(key, self._stored(info, obj),
                                                                int(old["metadata"]["resourceVersion"])))
        except Conflict:
            raise errors.conflict(info, obj["metadata"]["name"], "the object has been modified; please "
                                  "apply your changes to the latest version and try again") from None
        except KeyNotFound:
            raise errors.not_found(info, obj["metadata"]["name"]) from None
        if self._finalized(info, stored):
            return await self._remove(info, key, stored)
        return self.output(info, stored)

    def _track(self, info: ResourceInfo, old: dict | None, new: dict, subresource: str | None,
               opts: WriteOptions) -> None:
        """managedFields for an Update operation: what this write changed now belongs to its manager."""
        info.strategy.field_manager(subresource).update(
            old, new, opts.field_manager or INTERNAL_MANAGER, subresource=subresource or "", now=now_rfc3339())

    async def apply(self, info: ResourceInfo, namespace: str | None, name: str, config, *, force: bool,
                    subresource: str | None = None, opts: WriteOptions | None = None) -> dict:
        """Server-side apply: merge `config` into the object (creating it if need be), by field ownership."""
        opts = opts or WriteOptions()
        if not opts.field_manager:
            raise errors.bad_request("fieldManager is required for apply requests")
        if not isinstance(config, dict):
            raise errors.bad_request("the body of an apply patch must be an object")
        self._check_type(info, config)
        meta = _meta(config)
        if meta.get("name", name) != name:
            raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on "
                                     f"the URL ({name})")
        meta["name"] = name
        self._namespace_for_write(info, namespace, config)
        self._check_decodes(info, config, opts)
        key = info.key(namespace, name)
        manager = info.strategy.field_manager(subresource)
        while True:
            live = self._read(info, key)
            if live is None and subresource:
                raise errors.not_found(info, name)
            try:
                merged = manager.apply(live, copy.deepcopy(config), opts.field_manager, force=force,
                                       subresource=subresource or "", now=now_rfc3339())
            except ApplyConflict as e:
                raise errors.StatusError(409, "Conflict", e.message(),
                                         {"name": name, "group": info.group, "kind": info.plural,
                                          "causes": e.causes()}) from None
            except PatchError as e:
                raise _patch_error(e) from None
            if live is None:
                try:
                    return await self.create(info, namespace, merged, opts, track=False)
                except errors.StatusError as e:
                    if e.reason == "AlreadyExists":
                        continue
                    raise
            try:
                return await self._write_update(info, key, live, merged, subresource, opts, track=False)
            except errors.StatusError as e:
                if e.code == 409 and e.reason == "Conflict" and not e.details.get("causes"):
                    continue
                raise

    @staticmethod
    def _finalized(info: ResourceInfo, obj: dict) -> bool:
        return bool(obj["metadata"].get("deletionTimestamp")) and not info.strategy.pending_finalizers(obj)

    async def _remove(self, info, key, obj) -> dict:
        try:
            deleted = self._served(info, await self.store.delete(key, int(obj["metadata"]["resourceVersion"])))
        except (Conflict, KeyNotFound):
            current = self.store.get(key)
            if current is None:
                return self.output(info, obj)
            raise errors.conflict(info, obj["metadata"]["name"], "the object has been modified; please "
                                  "apply your changes to the latest version and try again") from None
        return self.output(info, deleted)

    async def delete(self, info: ResourceInfo, namespace: str | None, name: str,
                     opts: DeleteOptions | None = None) -> tuple[dict, bool]:
        """Returns (object, finished): finished is False while finalizers hold the object."""
        opts = opts or DeleteOptions()
        strategy = info.strategy
        key = info.key(namespace, name)
        while True:
            obj = self._read(info, key)
            if obj is None:
                raise errors.not_found(info, name)
            meta = obj["metadata"]
            pre = opts.preconditions or {}
            if pre.get("uid") and pre["uid"] != meta.get("uid"):
                raise errors.conflict(info, name, f"Precondition failed: UID in precondition: {pre['uid']}, "
                                      f"UID in object meta: {meta.get('uid')}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
                raise errors.conflict(info, name, "Precondition failed: ResourceVersion in precondition: "
                                      f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                      f"{meta.get('resourceVersion')}")
            attrs = self._attributes(DELETE, info, namespace, name, None, obj, None, opts.user, opts.dry_run)
            await self.admission.admit(attrs)
            await self.admission.validate(attrs)
            finalizers = list(meta.get("finalizers") or [])
            policy = opts.propagation_policy or DEFAULT_PROPAGATION
            if policy == "Orphan" and "orphan" not in finalizers:
                finalizers.append("orphan")
            elif policy == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            graceful = strategy.grace_period(obj, opts.grace_period_seconds)
            if not finalizers and not graceful and not strategy.pending_finalizers(obj):
                if opts.dry_run:
                    return self.output(info, obj), True
                try:
                    deleted = self._served(info, await self.store.delete(key, int(meta["resourceVersion"])))
                except (Conflict, KeyNotFound):
                    continue
                return self.output(info, deleted), True
            if meta.get("deletionTimestamp"):
                return self.output(info, obj), False
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = now_rfc3339()
            new["metadata"]["deletionGracePeriodSeconds"] = graceful or 0
            new["metadata"]["finalizers"] = finalizers
            if new["metadata"].get("generation"):
                new["metadata"]["generation"] += 1
            strategy.prepare_for_delete(new)
            new = strategy.in_wire_order(new)
            if opts.dry_run:
                return self.output(info, new), False
            try:
                stored = self._served(info, await self.store.update(key, self._stored(info, new),
                                                                    int(meta["resourceVersion"])))
            except (Conflict, KeyNotFound):
                continue
            return self.output(info, stored), False

    async def delete_collection(self, info: ResourceInfo, namespace: str | None, list_opts: ListOptions,
                                opts: DeleteOptions) -> dict:
        listed = self.list(info, namespace, list_opts)
        deleted = []
        for obj in listed["items"]:
            try:
                gone, _ = await self.delete(info, obj["metadata"].get("namespace"), obj["metadata"]["name"], opts)
            except errors.StatusError as e:
                if e.code == 404:
                    continue
                raise
            deleted.append(gone)
        listed["items"] = deleted
        return listed
