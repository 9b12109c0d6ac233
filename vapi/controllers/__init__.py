"""Built-in controllers: level-triggered loops over the in-process API.

Each controller registers handlers on the process's shared informers (`informer.py`), which list,
then watch, and list again whenever the watch is lost, so a missed event is never missed for long.
"""
from __future__ import annotations

import asyncio
import logging

from ..scheduler.scheduler import NAME as SCHEDULER_NAME
from ..scheduler.scheduler import USER as SCHEDULER_USER
from ..scheduler.scheduler import Scheduler
from .clock import Clock
from .clusterroleaggregation import ClusterRoleAggregationController
from .crd import CRDController
from .csrsigning import CSRSigner
from .daemonset import DaemonSetController
from .deployment import DeploymentController
from .disruption import DisruptionController
from .endpoints import EndpointsController
from .endpointslice import EndpointSliceController
from .endpointslice_mirroring import EndpointSliceMirroringController
from .events import EventRecorder
from .eventttl import EventTTL
from .garbagecollector import GarbageCollector
from .cronjob import CronJobController
from .job import JobController
from .identity import APISERVER, CONTROLLER_MANAGER, ActingAs, controller_user
from .lookup import Lookups
from .namespace import NamespaceController
from .namespace_seeds import RootCAPublisher, ServiceAccountsController
from .node_lifecycle import NodeLifecycleController
from .podautoscaler import HorizontalController
from .podgc import PodGCController
from .reconciler import Reconciler
from .replicaset import ReplicaSetController, ReplicationManager
from .resourcequota import ResourceQuotaController
from .serviceaccount_tokens import TokensController
from .settings import ControllerSettings
from .statefulset import StatefulSetController
from .taint_eviction import TaintEvictionController
from .ttlafterfinished import TTLAfterFinishedController

log = logging.getLogger("vapi.controllers")

# The work-queue controllers (`Reconciler` subclasses), each acting as its own `user`.
RECONCILERS: list[type[Reconciler]] = [
    JobController,
    CronJobController,
    TTLAfterFinishedController,
    HorizontalController,
    DaemonSetController,
    DeploymentController,
    DisruptionController,
    EndpointSliceController,
    EndpointsController,
    EndpointSliceMirroringController,
    NodeLifecycleController,
    TaintEvictionController,
    PodGCController,
    ReplicaSetController,
    ReplicationManager,
    StatefulSetController,
]

# What watches kubelets' heartbeats; a virtual cluster has none.
NODE_LIFECYCLE = (NodeLifecycleController, TaintEvictionController)


class Controllers:
    def __init__(self, api, informers, pki, token_signer, quota_locks, authorize, event_ttl: float,
                 settings: ControllerSettings | None = None, virtual: bool = False):
        """`authorize(attrs)` is the server's authorizer: each controller acts as its own user
        through it (the CRD controller, part of the API server in kube, as the server itself).
        A `virtual` cluster's pods are scheduled and run by the host: no scheduler, and no node
        lifecycle (its nodes are the syncer's, without kubelets), as vcluster runs its own."""
        def as_user(name):
            return ActingAs(api, controller_user(name), authorize)
        self.as_user = as_user
        self.informers = informers
        self.settings = settings or ControllerSettings()
        quota_api = as_user("resourcequota-controller")
        self.crds = CRDController(ActingAs(api, APISERVER, authorize), informers)
        self.clock = Clock()
        self.recorders: list[EventRecorder] = []
        self.controllers = [self.crds,
                            self.reconciler(NamespaceController),
                            self.reconciler(ServiceAccountsController),
                            self.reconciler(RootCAPublisher, pki.ca_cert),
                            GarbageCollector(as_user("generic-garbage-collector"), informers),
                            ResourceQuotaController(quota_api, informers, Lookups(quota_api, informers), quota_locks),
                            TokensController(ActingAs(api, CONTROLLER_MANAGER, authorize), informers, token_signer,
                                             pki.ca_cert),
                            CSRSigner(as_user("certificate-controller"), informers, pki),
                            ClusterRoleAggregationController(as_user("clusterrole-aggregation-controller"),
                                                             informers),
                            EventTTL(ActingAs(api, APISERVER, authorize), self.clock, event_ttl)]
        if not virtual:
            scheduler_api = ActingAs(api, SCHEDULER_USER, authorize)
            self.controllers.append(Scheduler(scheduler_api, informers, self.recorder(scheduler_api, SCHEDULER_NAME,
                                                                                   series=True)))
        for cls in RECONCILERS:
            if not (virtual and cls in NODE_LIFECYCLE):
                self.controllers.append(self.reconciler(cls))
        self.tasks: list[asyncio.Task] = []

    def recorder(self, api, component: str, series: bool = False) -> EventRecorder:
        """An event recorder writing as `api`'s user, reporting as `component`; `series` for
        components that record through events.k8s.io in kube (the scheduler)."""
        recorder = EventRecorder(api, component, series=series)
        self.recorders.append(recorder)
        return recorder

    def reconciler(self, cls: type[Reconciler], *args) -> Reconciler:
        """A Reconciler acting as its own user, with its recorder and the shared clock; `args`
        are what its class takes beyond those."""
        api = self.as_user(cls.user)
        reconciler = cls(api, self.informers, self.recorder(api, cls.component or cls.user), self.clock, *args)
        reconciler.settings = self.settings
        return reconciler

    def start(self) -> None:
        self.tasks = [asyncio.create_task(c.run(), name=type(c).__name__) for c in self.controllers]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for recorder in self.recorders:
            await recorder.close()
        await self.informers.stop()
