"""The architecture, checked mechanically (no Spark, no imports of the code under test beyond the registries).

Three rules that reviews alone do not keep true:

1. **No import cycle inside ``sparkmed``** — module-level and function-level imports alike (a lazy import that
   dodges a cycle is still a cycle); only ``if TYPE_CHECKING:`` imports are exempt.
2. **No module uses another module's private names**: no ``from m import _x``, no ``m._x`` on an imported
   module, and no call ``obj._f(...)`` of a private function or method defined only in another sparkmed module
   (``self``/``cls``/``super()`` calls inside a class hierarchy are the class's own business).
3. **Every list of names lives in its registry**: outside the registry modules, no tuple/list/set/dict literal
   spells out two or more metric, algorithm or initialisation names — it must be derived from the registry.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "sparkmed"

# The modules that ARE the registries (and the kernels that dispatch on a metric by its registry entry).
REGISTRY_MODULES = {
    "sparkmed.kernels.metrics",
    "sparkmed.kernels.algorithms",
    "sparkmed.kernels.init",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES: dict[str, ast.Module] = {
    _module_name(p): ast.parse(p.read_text(), filename=str(p)) for p in sorted(ROOT.rglob("*.py"))
}


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module):
    """Every import statement of a module, except those under ``if TYPE_CHECKING:``."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip |= {id(n) for b in node.body for n in ast.walk(b)}
    return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) and id(n) not in skip]


def _resolve(mod: str, node: ast.ImportFrom) -> str | None:
    if node.level:
        base = mod.split(".")
        is_pkg = (ROOT.parent / Path(*base) / "__init__.py").exists()
        base = base if is_pkg else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module


def _targets(mod: str) -> list[tuple[str, ast.AST, list[str]]]:
    """(imported sparkmed module, node, names imported from it) for every import in ``mod``."""
    out = []
    for node in _imports(MODULES[mod]):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("sparkmed"):
                    out.append((a.name, node, []))
        else:
            target = _resolve(mod, node)
            if not target or not target.startswith("sparkmed"):
                continue
            names = [a.name for a in node.names]
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            out.extend((s, node, []) for s in subs)
            rest = [n for n in names if f"{target}.{n}" not in MODULES]
            if rest or not subs:
                out.append((target, node, rest))
    return out


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for mod in MODULES:
        for target, _, _ in _targets(mod):
            # Importing a.b.c runs a/__init__ and a/b/__init__ too.
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                dep = ".".join(parts[:i])
                if dep in MODULES and dep != mod and not mod.startswith(dep + "."):
                    graph[mod].add(dep)
    return graph


def test_the_parser_sees_the_package():
    assert {"sparkmed.kernels", "sparkmed.data", "sparkmed.fit", "sparkmed.ml", "sparkmed.job"} <= set(MODULES)
    assert len(MODULES) > 40


def test_no_import_cycle_inside_sparkmed():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _private_definitions() -> dict[str, set[str]]:
    """Private (single-underscore, not dunder) functions, methods and classes defined in each module."""
    out: dict[str, set[str]] = {}
    for mod, tree in MODULES.items():
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and (
                node.name.startswith("_") and not node.name.startswith("__")
            ):
                names.add(node.name)
        out[mod] = names
    return out


def test_no_module_uses_another_modules_private_names():
    private = _private_definitions()
    problems = []
    for mod, tree in MODULES.items():
        aliases: dict[str, str] = {}
        for target, node, names in _targets(mod):
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    problems.append(f"{mod}:{node.lineno} imports {target}.{n}")
            if isinstance(node, ast.Import):
                for a in node.names:
                    aliases[a.asname or a.name] = a.name
            else:
                for a in node.names:
                    if f"{target}.{a.name}" in MODULES:
                        aliases[a.asname or a.name] = f"{target}.{a.name}"
        elsewhere = set().union(*(v for m, v in private.items() if m != mod)) - private[mod]
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                base = node.value
                if isinstance(base, ast.Name) and base.id in aliases:
                    problems.append(f"{mod}:{node.lineno} uses {aliases[base.id]}.{node.attr}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                attr, base = node.func.attr, node.func.value
                own = (isinstance(base, ast.Name) and base.id in ("self", "cls")) or (
                    isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super"
                )
                if attr in elsewhere and not own:
                    problems.append(f"{mod}:{node.lineno} calls .{attr}() defined in another module")
    assert not problems, "\n".join(problems)


def _registry_names() -> dict[str, set[str]]:
    import sparkmed.kernels as k

    return {
        "metric": set(k.METRIC_NAMES) | set(k.PUBLIC_METRICS),
        "algorithm": set(k.ALGORITHM_NAMES),
        "init": set(k.INIT_NAMES),
    }


def test_no_list_of_registry_names_outside_its_registry():
    names = _registry_names()
    problems = []
    for mod, tree in MODULES.items():
        if mod in REGISTRY_MODULES:
            continue
        exports = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)
                   and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)}
        for node in ast.walk(tree):
            if id(node) in exports:  # __all__ lists function names, not registry names
                continue
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                items = node.elts
            elif isinstance(node, ast.Dict):
                items = [k for k in node.keys if k is not None]
            else:
                continue
            strings = {e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            for kind, registry in names.items():
                hits = sorted(strings & registry)
                if len(hits) >= 2:
                    problems.append(f"{mod}:{node.lineno} lists {kind} names {hits}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind", ["metric", "algorithm", "init"])
def test_param_docs_and_config_come_from_the_registries(kind):
    """Every registered name is in the estimator's Param doc and in the job configuration's allowed values."""
    from sparkmed.job.config import SCHEMA
    from sparkmed.ml.params import KMedoidsParams

    param = {"metric": KMedoidsParams.metric, "algorithm": KMedoidsParams.algorithm,
             "init": KMedoidsParams.init}[kind]
    import sparkmed.kernels as k

    registered = {"metric": k.PUBLIC_METRICS, "algorithm": k.ALGORITHM_NAMES, "init": k.INIT_NAMES}[kind]
    assert all(name in param.doc for name in registered), param.doc
    assert tuple(SCHEMA["model"][kind].allowed) == tuple(registered)
