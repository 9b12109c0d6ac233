"""What the server's flags tune in its controllers, as kube-controller-manager's flags tune its own
(`--horizontal-pod-autoscaler-sync-period` and the like). `Controllers` hands one to every
reconciler as `self.settings`."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ControllerSettings:
    # How often each HorizontalPodAutoscaler is looked at again (kube's default 15s).
    hpa_sync_period: float = 15.0
    # How long an HPA without its own scaleDown window waits before scaling down (5m).
    hpa_downscale_stabilization: float = 300.0
    # The change of usage ratio an HPA ignores (0.1).
    hpa_tolerance: float = 0.1
