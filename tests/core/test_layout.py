"""The library's shape: no Streamlit under core/, and imports only point down.

The layers, lowest first (docs/architecture.md draws them):

1. foundations: ``core.errors``, ``core.paths``, ``core.atomic``, ``core.threads``,
   ``core.executor``
2. ``core.data``
3. ``core.optim``
4. ``core.training``
5. the methods: ``core.neural_lasso``, ``core.sparse_layers``, ``core.saliency``,
   which never import one another
6. ``core.figures`` and ``core.views``, which never import one another
7. ``core.cli``
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"

FOUNDATIONS = {
    "core",
    "core.errors",
    "core.paths",
    "core.atomic",
    "core.threads",
    "core.executor",
}
LAYERS = {
    "core.data": 2,
    "core.optim": 3,
    "core.training": 4,
    "core.neural_lasso": 5,
    "core.sparse_layers": 5,
    "core.saliency": 5,
    "core.figures": 6,
    "core.views": 6,
    "core.cli": 7,
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _module(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str | None:
    """The layer a core module belongs to (None for the foundations)."""
    if module in FOUNDATIONS:
        return None
    top = ".".join(module.split(".")[:2])
    if top not in LAYERS:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")
    return top


def _level(module: str) -> int:
    package = _package(module)
    return 1 if package is None else LAYERS[package]


SOURCES = sorted(p for p in CORE.rglob("*.py") if p.name != "__main__.py")


def test_core_never_imports_streamlit():
    offenders = [
        _module(p)
        for p in SOURCES
        if any(n.split(".")[0] == "streamlit" for n in _imports(p))
    ]
    assert offenders == []


@pytest.mark.parametrize("path", SOURCES, ids=_module)
def test_imports_point_down(path):
    here = _module(path)
    own = _package(here)
    upward = []
    for name in sorted(n for n in _imports(path) if n.split(".")[0] == "core"):
        other = _package(name)
        if other == own:
            continue
        if _level(name) >= _level(here):
            upward.append(name)
    assert upward == [], f"{here} imports a layer at or above its own: {upward}"
