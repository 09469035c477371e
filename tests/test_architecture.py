"""Structure the code promises (docs/architecture.md): small functions in every product package, one
ModelBackend interface implemented in full, no probing for optional backend methods."""

import ast
import inspect
from pathlib import Path

import pytest

from serving.backends.base import ModelBackend

REPO = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 60
# Every product package and entry point. Not benchmarks/ (measurement scripts, run by hand).
PRODUCT = [
    "core",
    "trainer",
    "feedback",
    "documents",
    "serving",
    "lexflow",
    "pipeline",
    "components",
    "datagen",
    "kubeflow_runner.py",
    "local_runner.py",
]


def _functions(package: str):
    root = REPO / package
    for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                yield path.relative_to(REPO), node.name, node.end_lineno - start + 1


def test_no_product_function_is_longer_than_60_lines():
    """Lines from the first decorator to the end, signature included (ruff's PLR0915 counts statements)."""
    long = [
        f"{path}:{name} ({lines} lines)"
        for package in PRODUCT
        for path, name, lines in _functions(package)
        if lines > MAX_FUNCTION_LINES
    ]
    assert not long, long


@pytest.mark.parametrize(
    "module, name",
    [
        ("serving.backends.inprocess", "InProcessBackend"),
        ("serving.backends.tfserving_rest", "TFServingRestBackend"),
        ("serving.backends.tfserving_grpc", "TFServingGrpcBackend"),
    ],
)
def test_every_backend_implements_the_whole_interface(module, name):
    import importlib

    backend = getattr(importlib.import_module(module), name)
    assert issubclass(backend, ModelBackend) and not inspect.isabstract(backend), backend.__abstractmethods__


def test_nothing_in_the_gateway_probes_the_backend_for_optional_methods():
    probes = []
    for path in sorted((REPO / "serving").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("hasattr", "getattr"):
                target = ast.unparse(node.args[0])
                if "backend" in target:
                    probes.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)}")
    assert not probes, probes
