"""The package's layers, checked from its import graph.

Bottom to top: the engine (the package root: backend, autograd, ops, nn, optim ...), data,
gan, evaluation, plots, experiments, and the apps (lab, commands). A module may import
from its own layer and the layers below it, never from above -- at the top of a file or
inside a function alike. Every module must also import alone in a fresh interpreter, so no
import cycle can hide behind the order in which a test session happened to load things.
"""
import ast
import os
import pathlib
import subprocess
import sys

import pytest

import minigan

PKG = pathlib.Path(minigan.__file__).parent

LAYERS = ["engine", "data", "gan", "evaluation", "plots", "experiments", "apps"]
SUBPACKAGE_LAYER = {"data": "data", "utils": "data", "gan": "gan", "evaluation": "evaluation",
                    "plots": "plots", "experiments": "experiments", "lab": "apps",
                    "commands": "apps"}
# The engine itself is layered too: each of these may import only the ones before it.
ENGINE_ORDER = ["backend", "fused", "backends", "allocator", "autograd", "creation", "cuda", "ops",
                "functional", "gradcheck", "nn", "optim", "serialization"]
ENGINE_PACKAGES = {"ops", "nn", "optim", "backends"}


def _modules():
    """{dotted name: path} of every module of the package."""
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name, path, top_level_only=False):
    """Every minigan module ``name`` imports (inside functions too, unless
    ``top_level_only``), resolved to dotted names."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("minigan"):
                continue
            for alias in node.names:       # "from minigan.gan import losses": a module
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("minigan"))
    return found - {name}


def layer_of(module):
    parts = module.split(".")
    if len(parts) == 1:                    # minigan itself: the engine's front door
        return "engine"
    if parts[1] in SUBPACKAGE_LAYER:
        return SUBPACKAGE_LAYER[parts[1]]
    if parts[1] == "__main__":
        return "apps"
    return "engine"


def _engine_rank(module):
    parts = module.split(".")
    return ENGINE_ORDER.index(parts[1]) if len(parts) > 1 and parts[1] in ENGINE_ORDER else None


def test_every_module_belongs_to_a_layer():
    top = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    files = {p.stem for p in PKG.glob("*.py")} - {"__init__", "__main__"}
    assert top <= set(SUBPACKAGE_LAYER) | ENGINE_PACKAGES, top
    assert files <= set(ENGINE_ORDER), f"a module outside the layers: {files - set(ENGINE_ORDER)}"


def test_layers_import_only_downwards():
    upward = []
    for name, path in MODULES.items():
        mine = LAYERS.index(layer_of(name))
        for target in _imports(name, path):
            if LAYERS.index(layer_of(target)) > mine:
                upward.append(f"{name} ({layer_of(name)}) imports {target} ({layer_of(target)})")
    assert not upward, "imports from a higher layer:\n" + "\n".join(sorted(upward))


def test_the_engine_is_layered_within():
    upward = []
    for name, path in MODULES.items():
        mine = _engine_rank(name)
        if mine is None:
            continue
        for target in _imports(name, path):
            theirs = _engine_rank(target)
            if theirs is not None and theirs > mine:
                upward.append(f"{name} imports {target}")
    assert not upward, "engine modules importing later engine modules:\n" + "\n".join(upward)


def test_no_import_cycle_between_modules():
    """Top-level imports only: a cycle there is what breaks a fresh import."""
    graph = {name: {d for d in _imports(name, path, top_level_only=True) if d in MODULES}
             for name, path in MODULES.items()}
    state, stack = {}, []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for d in sorted(graph[n]):
            if state.get(d) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[n] = "done"

    for n in sorted(graph):
        if n not in state:
            visit(n)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.endswith("__main__")))
def test_every_module_imports_alone(module):
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                          text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert proc.returncode == 0, proc.stderr
