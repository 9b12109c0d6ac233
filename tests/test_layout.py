"""The house rules the layout promises (README, "How the code is laid out"), checked on the source.

Imports run one way: `vapi` → `admission` → `storage`, and inside `vapi` from the request's outer
layers (wire formats, controllers) down to the pipeline, the registry of kinds and the write
machinery. Only the pipeline and the composition root touch storage. No source file grows past
800 lines.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("vapi", "admission", "storage", "syncer")
MAX_LINES = 800

# Lower layers first; a module may import its own layer and the ones before it.
VAPI_LAYERS = [
    {"vapi.errors"},
    {"vapi.writes"},
    {"vapi.auth"},
    {"vapi.registry"},
    {"vapi.subresources"},
    {"vapi.api"},
    {"vapi.controllers", "vapi.nodes", "vapi.scheduler", "vapi.wire"},
    {"vapi.server", "vapi.clusters", "vapi.clusterhost", "vapi.clusterprocess", "vapi.kubeconfigs", "vapi.cli", "vapi.__main__", "vapi.testing", "vapi"},
]
# Who may import storage at all: the pipeline, and the composition root that builds the store.
STORAGE_IMPORTERS = {"vapi.api", "vapi.server"}


def sources():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from . import errors` names the module vapi.errors, not the package vapi.
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def layer_of(name: str) -> int | None:
    for i, layer in enumerate(VAPI_LAYERS):
        if any(name == top or name.startswith(top + ".") for top in layer if top != "vapi"):
            return i
    return len(VAPI_LAYERS) - 1 if name == "vapi" else None


@pytest.mark.parametrize("path", list(sources()), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way(path):
    me = module_name(path)
    top = me.split(".")[0]
    own = layer_of(me)
    for name in imported(path):
        target = name.split(".")[0]
        if target == "storage" and top == "vapi":
            assert me in STORAGE_IMPORTERS, f"{me} imports {name}: only the pipeline reads storage"
        if top == "storage":
            assert target not in ("vapi", "admission", "syncer"), f"{me} imports {name}"
        if top == "admission":
            assert target not in ("vapi", "syncer"), f"{me} imports {name}"
        if top == "vapi" and target == "vapi" and own is not None:
            theirs = layer_of(name)
            assert theirs is None or theirs <= own, f"{me} (layer {own}) imports {name} (layer {theirs})"


@pytest.mark.parametrize("path", list(sources()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_source_file_past_800_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES
