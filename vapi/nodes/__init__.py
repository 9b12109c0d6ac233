"""Simulated nodes: what a kubelet and its container runtime would hold for the pods bound to them."""
