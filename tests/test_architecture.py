"""The package's structure, read from its source: no import circle (imports inside functions
included), the low layers import nothing from the layers above them, and no module outside a
family's folder tests for a model kind by name (the family registry answers such questions)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "condgan"
# Layers that sit below training, export, evaluation and serving: what they may not import.
LOW = ("condgan.data", "condgan.text", "condgan.scrape", "condgan.models", "condgan.basics",
       "condgan.errors", "condgan.paths", "condgan.quiet", "condgan.config", "condgan.env_settings", "condgan.image_io")
HIGH = ("condgan.train", "condgan.families", "condgan.metrics", "condgan.serve", "condgan.commands",
        "condgan.api", "condgan.model_folder", "condgan.generator", "condgan.notebook", "condgan.cli",
        "condgan.jobs", "condgan.control")


def _modules() -> dict[str, Path]:
    found = {}
    for file in PACKAGE.rglob("*.py"):
        parts = file.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = file
    return found


def _imports(file: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The project modules `file` imports, anywhere in it (a module, or the package a name is
    imported from when the name is not a module itself)."""
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        out.update(t for t in targets if t in modules and t != name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(file, name, modules) for name, file in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return result


def test_no_import_circle_in_the_package():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_sees_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_low_layers_import_nothing_from_the_layers_above():
    wrong = {name: sorted(t for t in targets if t.startswith(HIGH))
             for name, targets in _graph().items() if name.startswith(LOW)}
    assert {name: targets for name, targets in wrong.items() if targets} == {}


def test_no_module_outside_the_families_tests_a_kind_by_name():
    kinds = "|".join(("gan", "cgan", "attngan", "damsm"))
    pattern = re.compile(rf"""(kind\W{{0,4}}\s*(==|!=|in)\s*\(?\s*["'](?:{kinds})["'])""")
    found = [f"{file.relative_to(PACKAGE.parent)}: {match.group(0)}"
             for file in PACKAGE.rglob("*.py") if "families" not in file.parts
             for match in pattern.finditer(file.read_text())]
    assert found == []
