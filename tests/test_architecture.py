"""The architecture's rules, enforced: the import contracts in pyproject.toml hold (and fail on a
deliberate violation), no two modules import each other in a loop (function-local imports
counted), and no module outgrows 400 lines."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("kg", "verify")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_architecture_import_contracts_are_kept():
    out = _lint(REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("kg/model.py", "import verify.cli.app", "kg never imports verify"),
        ("verify/judge/stats.py", "import torch", "only verify.benchmarks imports a framework"),
        ("verify/judge/verdicts.py", "import pathlib", "verify.judge is pure"),
        ("verify/run/engine.py", "import rich", "only verify.cli imports typer and rich"),
        ("verify/benchmarks/models.py", "import kg.api", "verify.benchmarks is an island"),
        ("verify/publish/pages.py", "import kg.queries", "reads the graph only through kg's read"),
        ("kg/model.py", "import kg.api", "layers of kg"),
        ("verify/judge/stats.py", "import verify.run.engine", "layers of verify"),
    ],
)
def test_architecture_contracts_fail_on_a_deliberate_violation(tmp_path, module, line, contract):
    for name in (*PACKAGES, "pyproject.toml"):
        src = REPO / name
        copy = shutil.copytree if src.is_dir() else shutil.copy
        copy(src, tmp_path / name)
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # a deliberate violation\n")
    out = _lint(tmp_path)
    assert out.returncode != 0
    assert f"{contract}" in out.stdout and "BROKEN" in out.stdout.split(contract, 1)[1][:200]


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "_corpus" in path.parts or "_site" in path.parts:
                continue
            rel = path.relative_to(REPO).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            found[".".join(parts)] = path
    return found


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Every project module `path` imports, at any depth (function-local imports included)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                out.add(name)
    return out


def test_architecture_has_no_import_cycles_counting_function_local_imports():
    modules = _modules()
    graph = nx.DiGraph()
    for module, path in modules.items():
        graph.add_node(module)
        for target in _imports(path, module, set(modules)):
            if not module.startswith(target + "."):  # a package's face imported by its own module
                graph.add_edge(module, target)
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_architecture_no_module_over_400_lines():
    big = {m: n for m, p in _modules().items() if (n := len(p.read_text().splitlines())) > 400}
    assert not big, f"split these modules by job: {big}"


def test_architecture_typed_core_type_checks_strictly():
    mypy = Path(sys.executable).with_name("mypy")
    out = subprocess.run([str(mypy)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:]


def test_architecture_no_function_over_80_lines_without_a_reason():
    long = []
    for module, path in _modules().items():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                above = lines[node.lineno - 2] if node.lineno > 1 else ""
                if size > 80 and "long because" not in above:
                    long.append(f"{module}.{node.name} ({size} lines)")
    assert not long, f"split these, or say above them why they are long: {long}"
