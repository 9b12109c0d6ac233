"""The registry of kinds: what is served, and how each kind behaves (its strategy)."""
from .kinds import GenerationCache, Registry, ResourceInfo, version_priority

__all__ = ["GenerationCache", "Registry", "ResourceInfo", "version_priority"]
