"""Simulated nodes: Node objects, their Lease heartbeats and a simulated kubelet running the pods
bound to them (`kubelet.py`), with a container runtime the streaming subresources read
(`runtime.py`). How a container behaves is data (`behaviour.py`, vapi/data/simulated-nodes.yaml).
"""
from .kubelet import Kubelets
from .runtime import Runtime

__all__ = ["Kubelets", "Runtime"]
