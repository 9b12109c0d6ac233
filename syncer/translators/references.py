"""ConfigMaps and Secrets go to the host when something synced there uses them (vcluster's
default): a virtual pod (volumes, projected sources, env, envFrom, image pull secrets) or, for
Secrets, an Ingress's TLS. An index kept from the users' informers says which objects are used;
a user's change looks again at what it used before and after, so an object appears on the host
as a pod starts to use it and goes once nothing does. `sync.toHost.<kind>.all` syncs every one.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from ..syncer import Loop, Translator
from .common import owned

CONTAINER_KINDS = ("initContainers", "containers", "ephemeralContainers")


def _containers(pod: dict) -> Iterable[dict]:
    spec = pod.get("spec") or {}
    for kind in CONTAINER_KINDS:
        yield from spec.get(kind) or []


def _pod_references(pod: dict, volume: tuple[str, str], source: str, key_ref: str, env_from: str) -> set[str]:
    """The names of one kind a pod refers to: by volume (kind, name field), projected source,
    env valueFrom and envFrom."""
    found = set()
    for v in (pod.get("spec") or {}).get("volumes") or []:
        found.add((v.get(volume[0]) or {}).get(volume[1]))
        for projected in (v.get("projected") or {}).get("sources") or []:
            found.add((projected.get(source) or {}).get("name"))
    for container in _containers(pod):
        for env in container.get("env") or []:
            found.add(((env.get("valueFrom") or {}).get(key_ref) or {}).get("name"))
        for reference in container.get("envFrom") or []:
            found.add((reference.get(env_from) or {}).get("name"))
    found.discard(None)
    found.discard("")
    return found


def pod_configmaps(pod: dict) -> set[str]:
    return _pod_references(pod, ("configMap", "name"), "configMap", "configMapKeyRef", "configMapRef")


def pod_secrets(pod: dict) -> set[str]:
    pulled = {s.get("name") for s in (pod.get("spec") or {}).get("imagePullSecrets") or [] if s.get("name")}
    return pulled | _pod_references(pod, ("secret", "secretName"), "secret", "secretKeyRef", "secretRef")


def ingress_secrets(ingress: dict) -> set[str]:
    return {tls["secretName"] for tls in (ingress.get("spec") or {}).get("tls") or [] if tls.get("secretName")}


class Users:
    """Which objects of one namespace-local kind the users of one kind refer to, by name."""

    def __init__(self, cache, refer: Callable[[dict], set[str]], counts: Counter):
        self.cache, self.refer, self.counts = cache, refer, counts
        self.by_user: dict[tuple, frozenset] = {}

    def mapper(self, user: dict) -> list[tuple]:
        """Index the user as the cache now holds it; the keys it refers to (as `user` is)."""
        meta = user["metadata"]
        key = (meta["namespace"], meta["name"])
        current = self.cache.get(*key)
        now = frozenset((key[0], name) for name in self.refer(current)) if current is not None else frozenset()
        before = self.by_user.get(key, frozenset())
        if now != before:
            self.counts.subtract(before)
            self.counts.update(now)
            for gone in before - now:
                if self.counts[gone] <= 0:
                    del self.counts[gone]
            if now:
                self.by_user[key] = now
            else:
                self.by_user.pop(key, None)
        return [(key[0], name) for name in self.refer(user)]


class UsedByUsers(Translator):
    """A ConfigMap or Secret, on the host while used (or always, with `all`)."""
    fields_kept: tuple[str, ...] = ()
    empty: dict = {}
    # (group, version, plural, refer, translator key that turns the users on or None)
    users: tuple[tuple[str, str, str, Callable[[dict], set[str]], str | None], ...] = ()

    def __init__(self, ctx):
        super().__init__(ctx)
        self.all = bool(ctx.config.kind("toHost", self.key).get("all"))
        self.counts: Counter = Counter()

    def setup(self, loop: Loop) -> None:
        for group, version, plural, refer, switch in self.users:
            if switch is None or self.ctx.config.enabled("toHost", switch):
                users = Users(self.ctx.cache(group, version, plural), refer, self.counts)
                loop.watch_virtual(group, version, plural, users.mapper)

    def selected(self, obj: dict) -> bool:
        meta = obj["metadata"]
        return self.all or self.counts[(meta["namespace"], meta["name"])] > 0

    async def fields(self, obj: dict, host: dict | None) -> dict:
        return owned(obj, host, self.fields_kept, self.empty)
