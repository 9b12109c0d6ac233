"""The pipeline as one in-process user: how a controller acts as its own system user.

kube's controllers reach the API server with credentials of their own (per-controller service
accounts in kube-system) and are authorized like any client. `ActingAs` gives a controller the
same: every call is put to the server's authorizer as that user, refused with kube's 403 when not
allowed, and writes carry the user into admission and the audit trail.
"""
from __future__ import annotations

from .. import errors
from ..api import DeleteOptions, WriteOptions
from ..auth.authz import ALLOW, Attributes
from ..auth.rbac import sa_groups
from ..auth.user import AUTHENTICATED, MASTERS, User

# The server's own loopback identity (bootstrap objects, CRD serving), privileged as in kube.
APISERVER = User("system:apiserver", [MASTERS, AUTHENTICATED])
# The syncer of a virtual cluster: the tenant's cluster is its to run, as vcluster's syncer is admin.
SYNCER = User("system:vapi:syncer", [MASTERS, AUTHENTICATED])
# What kube's controller manager runs its root-credential loops as (the legacy tokens controller).
CONTROLLER_MANAGER = User("system:kube-controller-manager", [AUTHENTICATED])


def controller_user(name: str) -> User:
    """The kube-system service account a controller acts as."""
    return User(f"system:serviceaccount:kube-system:{name}", [*sa_groups("kube-system"), AUTHENTICATED])


class ActingAs:
    def __init__(self, api, user: User, authorize):
        self._api = api
        self.user = user
        self._authorize = authorize
        self.registry = api.registry

    def __getattr__(self, name):
        return getattr(self._api, name)  # what is not a verb (output, patched...) is the pipeline's

    def _check(self, verb: str, info, namespace: str | None, name: str = "", subresource: str | None = None):
        attrs = Attributes(self.user, verb, True, namespace or "", info.group, info.version, info.plural,
                           subresource or "", name, "")
        decision, reason = self._authorize(attrs)
        if decision != ALLOW:
            raise errors.forbidden_request(attrs, self.user, reason)

    def _opts(self, opts, kind=WriteOptions):
        opts = opts or kind()
        if opts.user is None:
            opts.user = self.user
        return opts

    def get(self, info, namespace, name, *args, **kw):
        self._check("get", info, namespace, name, kw.get("subresource"))
        return self._api.get(info, namespace, name, *args, **kw)

    def lookup(self, info, namespace, name):
        self._check("get", info, namespace, name)
        return self._api.lookup(info, namespace, name)

    def list(self, info, namespace, *args, **kw):
        self._check("list", info, namespace)
        return self._api.list(info, namespace, *args, **kw)

    def each(self, info, namespace=None, *args, **kw):
        self._check("list", info, namespace)
        return self._api.each(info, namespace, *args, **kw)

    def watch(self, info, namespace, *args, **kw):
        self._check("watch", info, namespace)
        return self._api.watch(info, namespace, *args, **kw)

    async def create(self, info, namespace, obj, opts=None, **kw):
        self._check("create", info, namespace)
        return await self._api.create(info, namespace, obj, self._opts(opts), **kw)

    async def create_subresource(self, info, namespace, name, subresource, body, opts=None):
        self._check("create", info, namespace, name, subresource)
        return await self._api.create_subresource(info, namespace, name, subresource, body, self._opts(opts))

    async def _update(self, method, info, namespace, name, *args, subresource=None, opts=None, **kw):
        self._check("update", info, namespace, name, subresource)
        return await getattr(self._api, method)(info, namespace, name, *args, subresource=subresource,
                                                opts=self._opts(opts), **kw)

    async def update(self, info, namespace, name, obj, **kw):
        return await self._update("update", info, namespace, name, obj, **kw)

    async def replace(self, info, namespace, name, obj, **kw):
        return await self._update("replace", info, namespace, name, obj, **kw)

    async def guaranteed_update(self, info, namespace, name, mutate, **kw):
        return await self._update("guaranteed_update", info, namespace, name, mutate, **kw)

    async def patch(self, info, namespace, name, patch_type, patch, *, subresource=None, opts=None, **kw):
        self._check("patch", info, namespace, name, subresource)
        return await self._api.patch(info, namespace, name, patch_type, patch, subresource=subresource,
                                     opts=self._opts(opts), **kw)

    async def delete(self, info, namespace, name, opts=None):
        self._check("delete", info, namespace, name)
        return await self._api.delete(info, namespace, name, self._opts(opts, DeleteOptions))

    async def delete_collection(self, info, namespace, list_opts, opts):
        self._check("deletecollection", info, namespace)
        return await self._api.delete_collection(info, namespace, list_opts, self._opts(opts, DeleteOptions))
