"""The built-in admission plugins and the order kube-apiserver runs them in."""
from __future__ import annotations

from ..chain import Chain
from .namespace_lifecycle import NamespaceLifecycle
from .schema import Defaulting, SchemaValidation


def default_chain(namespace_cached, namespace_live) -> Chain:
    """kube's recommended order, for the plugins that exist so far: Defaulting stands where kube
    decodes (before every plugin), SchemaValidation where the registry strategy validates (before
    every validating plugin)."""
    return Chain([
        Defaulting(),
        NamespaceLifecycle(namespace_cached, namespace_live),
        SchemaValidation(),
    ])


__all__ = ["Defaulting", "NamespaceLifecycle", "SchemaValidation", "default_chain"]
