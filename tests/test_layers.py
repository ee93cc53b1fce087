"""Dependencies run one way, and an import inside a function says why it waits.

The layers, lowest first, are those of docs/architecture.md: a module may import its own layer
and the layers below it, never one above. Imports are read from the source (`ast`), inside
functions and under TYPE_CHECKING too, so nothing has to be imported to check them. The tests
and benchmarks are in no layer, but an import inside their functions says why it waits too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("components", "model", "pipelines", "kubeflow")
SCRIPTS = ("tests", "benchmarks")  # their top-level .py files, held to the deferral rule only
# (layer, the modules in it by name prefix); a module belongs to its longest matching prefix.
LAYERS = (
    (
        "format and I/O, pure cores",
        (
            "components",  # the package itself, configuration.py, features.py (names)
            "components.olci",
            "components.gridded",
            "components.sample",
            "components.masks",
            "components.inpaint",
            "components.pictures",
            # The evaluator's metrics are plain numpy: the Trainer's evaluation and the
            # SsimEvaluator score with the same functions.
            "components.evaluator.metrics",
        ),
    ),
    (
        "data components",
        (
            "components.artifacts",
            "components.example_gen",
            "components.mask_gen",
            "components.transform",
        ),
    ),
    ("model", ("model", "components.trainer")),  # the Trainer's component names its run_fn
    ("evaluation", ("components.evaluator",)),
    ("pipelines", ("pipelines",)),
    ("runners", ("pipelines.local_runner", "kubeflow")),
    ("command line", ("pipelines.cli", "pipelines.demo")),
)
DEFERRED = re.compile(r"#.*\bdeferred\b", re.IGNORECASE)


def layer_of(module: str) -> int | None:
    """The index in LAYERS of `module`'s layer, None when no prefix matches."""
    best, index = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, index = len(prefix), i
    return index


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The project modules an import statement names (`from a import b`: `a.b` when b is a
    module of the project, else `a`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    names = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        path = ROOT / candidate.replace(".", "/")
        names.append(candidate if path.with_suffix(".py").is_file() or path.is_dir() else base)
    return names


def layer_violations(sources: dict[str, tuple[str, bool]]) -> list[str]:
    """Every import of a higher layer, and every module outside the layers, in `sources`
    ({module: (source text, is a package)})."""
    problems = []
    for module, (text, is_package) in sorted(sources.items()):
        own = layer_of(module)
        if own is None:
            problems.append(f"{module}: in no layer (add it to LAYERS and docs/architecture.md)")
            continue
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in imported(node, module, is_package):
                if target.split(".")[0] not in PACKAGES:
                    continue
                layer = layer_of(target)
                if layer is not None and layer > own:
                    problems.append(f"{module}:{node.lineno}: {LAYERS[own][0]} imports "
                                    f"{target} ({LAYERS[layer][0]})")  # fmt: skip
    return problems


def _statement_lists(tree: ast.AST):
    """Every list of statements inside a function, with nothing outside functions."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                for name in ("body", "orelse", "finalbody", "handlers"):
                    block = getattr(inner, name, None)
                    if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                        yield block


def undeclared_deferrals(module: str, text: str) -> list[str]:
    """Imports inside functions without a comment saying why they are deferred: on the import,
    or above the run of imports and calls it ends (`matplotlib.use("Agg")` between two)."""
    lines = text.splitlines()
    problems = set()
    for block in _statement_lists(ast.parse(text)):
        for i, stmt in enumerate(block):
            if not isinstance(stmt, ast.Import | ast.ImportFrom):
                continue
            first = i
            while first > 0 and isinstance(
                block[first - 1], ast.Import | ast.ImportFrom | ast.Expr
            ):
                first -= 1
            start = block[first].lineno - 1
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1
            if not any(DEFERRED.search(line) for line in lines[start : stmt.end_lineno]):
                problems.add(f"{module}:{stmt.lineno}: an import inside a function without a "
                             "'# Deferred: why' comment")  # fmt: skip
    return sorted(problems)


def project_sources() -> dict[str, tuple[str, bool]]:
    return {
        module_name(path): (path.read_text(), path.name == "__init__.py")
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def script_sources() -> dict[str, str]:
    return {
        module_name(path): path.read_text()
        for folder in SCRIPTS
        for path in sorted((ROOT / folder).glob("*.py"))
    }


def test_no_module_imports_a_higher_layer() -> None:
    assert layer_violations(project_sources()) == []


def test_every_import_inside_a_function_says_why_it_is_deferred() -> None:
    sources = {m: text for m, (text, _) in project_sources().items()} | script_sources()
    problems = [p for m, text in sources.items() for p in undeclared_deferrals(m, text)]
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("model.example", "from pipelines.cli import main\n",
         "model.example:1: model imports pipelines.cli (command line)"),
        ("components.olci.example", "def f():\n    import model.export\n",
         "components.olci.example:2: format and I/O, pure cores imports model.export (model)"),
        ("components.evaluator.example",
         "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pipelines import config\n",
         "components.evaluator.example:3: evaluation imports pipelines.config (pipelines)"),
        ("kubeflow.example", "from pipelines import cli\n",
         "kubeflow.example:1: runners imports pipelines.cli (command line)"),
        ("benchmarks.example", "",
         "benchmarks.example: in no layer (add it to LAYERS and docs/architecture.md)"),
    ],
)  # fmt: skip
def test_a_higher_import_is_found(module: str, source: str, expected: str) -> None:
    assert layer_violations({module: (source, False)}) == [expected]


def test_the_layers_allow_imports_downward_and_sideways() -> None:
    source = "from components import features\nfrom model import export\nimport pipelines.config\n"
    assert layer_violations({"pipelines.example": (source, False)}) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("def f():\n    import tensorflow\n", True),
        ("def f():\n    x = 1\n    # imported late\n    import tensorflow\n", True),
        ("def f():\n    import tensorflow  # deferred: seconds to import\n", False),
        ("def f():\n    # Deferred: pyplot after the backend\n    import matplotlib\n\n"
         "    matplotlib.use('Agg')\n    import matplotlib.pyplot\n", False),
        ("def f():\n    setup()\n    # Deferred: after setup\n    import tfx\n", False),
        ("import tensorflow\n", False),
    ],
)  # fmt: skip
def test_an_undeclared_deferral_is_found(source: str, found: bool) -> None:
    assert bool(undeclared_deferrals("m", source)) is found
