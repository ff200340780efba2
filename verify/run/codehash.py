"""What a record says about the code that measured: the git commit, and a hash of what the
benchmark times.

The hash is taken over the definitions a benchmark can reach, not over files: starting from the
names the worker calls (``TIERS``, ``cells``, ``open_session``, ``measure_once``, ``PROBES``,
``probe``, ``framework_of``) it follows every name and ``module.name`` they use to its definition
in verify.benchmarks, and every module named in a string (the framework back ends, loaded by
name), and hashes the sorted, normalised definitions: docstrings and annotations dropped, comments
and line numbers gone, a ``module.name`` reference written as plain ``name``. So moving a function
to another module, re-commenting it, re-typing it or deleting code nothing calls leaves the hash
as it was, while any change to what runs changes it. `verify status` compares it with the hash a
record kept to say which records a code change made stale.
"""

from __future__ import annotations

import ast
import hashlib
import re
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from kg.paths import PACKAGE_ROOT
from kg.records import CODE_METHOD

PACKAGE = "verify.benchmarks"
ENTRY_POINTS = ("TIERS", "cells", "open_session", "measure_once", "PROBES", "probe", "framework_of")
_MODULE_STRING = re.compile(r"^verify\.benchmarks\.([a-z_][a-z0-9_]*)$")


def git_commit(root: Path = PACKAGE_ROOT) -> str | None:
    """The commit the fwclaims tree is at, or None outside git or before the first commit."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    head = out.stdout.strip()
    return head if out.returncode == 0 and len(head) == 40 else None


def benchmark_code(module: str, folder: Path | None = None) -> dict[str, str]:
    """The record's ``benchmark_code``: the hashing method and the hash of what `module` times."""
    return {"method": CODE_METHOD, "sha256": code_hash(module, folder)}


def code_hash(module: str, folder: Path | None = None) -> str:
    """sha256 over the normalised definitions a benchmark module reaches (see the module doc)."""
    sources = _Sources(folder or PACKAGE_ROOT.joinpath(*PACKAGE.split(".")))
    return hashlib.sha256("\n".join(sources.closure(module)).encode()).hexdigest()


@dataclass
class _Module:
    """One module's top-level definitions, side effects and import bindings."""

    name: str
    defs: dict[str, list[ast.stmt]] = field(default_factory=dict)
    effects: list[ast.stmt] = field(default_factory=list)  # statements run at import time
    modules: dict[str, str] = field(default_factory=dict)  # local name -> package module
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # local -> (module, name)


class _Sources:
    """Parsed modules of the benchmark package, and the closure of a module's entry points."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def module(self, name: str) -> _Module | None:
        """A package module by its short name, parsed once; None if there is no such file."""
        return _parse(self.folder / f"{name}.py")

    def closure(self, module: str) -> list[str]:
        """The sorted normalised texts of every definition the module's entry points reach."""
        short = module.rsplit(".", 1)[-1]
        start = self.module(short)
        if start is None:
            return []
        todo = [(short, n) for n in ENTRY_POINTS if n in start.defs]
        seen_defs: set[tuple[str, str]] = set()
        seen_modules: set[str] = set()
        texts: list[str] = []

        def visit_module(name: str, everything: bool) -> None:
            if name in seen_modules or self.module(name) is None:
                return
            seen_modules.add(name)
            mod = self.module(name)
            assert mod is not None
            for stmt in mod.effects:
                texts.append("effect\0" + self.normal(stmt, mod, todo))
            if everything:  # loaded by name: whatever it defines may run
                todo.extend((name, n) for n in mod.defs)

        visit_module(short, everything=False)
        while todo:
            mod_name, name = todo.pop()
            if (mod_name, name) in seen_defs:
                continue
            seen_defs.add((mod_name, name))
            visit_module(mod_name, everything=False)
            mod = self.module(mod_name)
            assert mod is not None
            for stmt in mod.defs.get(name, []):
                texts.append(f"{name}\0" + self.normal(stmt, mod, todo, visit_module))
        return sorted(set(texts))

    def normal(self, stmt: ast.stmt, mod: _Module, todo: list, visit_module=None) -> str:
        """A statement's normalised text; the package names it uses are queued on `todo`."""
        local = _local_bindings(stmt)
        modules = {**mod.modules, **local[0]}
        names = {**mod.names, **local[1]}
        node = _Normaliser(modules).visit(_copy(stmt))
        for ref in ast.walk(stmt):
            if isinstance(ref, ast.Name) and isinstance(ref.ctx, ast.Load):
                if ref.id in mod.defs:
                    todo.append((mod.name, ref.id))
                elif ref.id in names:
                    todo.append(names[ref.id])
                elif ref.id in modules and visit_module:
                    visit_module(modules[ref.id], everything=False)
            elif isinstance(ref, ast.Attribute) and isinstance(ref.value, ast.Name):
                if ref.value.id in modules:
                    todo.append((modules[ref.value.id], ref.attr))
            elif isinstance(ref, ast.Constant) and isinstance(ref.value, str) and visit_module:
                m = _MODULE_STRING.match(ref.value)
                if m:
                    visit_module(m.group(1), everything=True)
        return ast.dump(node, include_attributes=False)


@cache
def _parse(path: Path) -> _Module | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    mod = _Module(path.stem)
    body = tree.body[1:] if _is_docstring(tree.body[:1]) else tree.body
    for stmt in body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            _bind(stmt, mod.modules, mod.names)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            mod.defs.setdefault(stmt.name, []).append(stmt)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign) and _targets(stmt):
            for name in _targets(stmt):
                mod.defs.setdefault(name, []).append(stmt)
        else:
            mod.effects.append(stmt)
    return mod


def _targets(stmt: ast.Assign | ast.AnnAssign) -> list[str]:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    simple = all(isinstance(t, ast.Name | ast.Tuple) for t in targets)
    return names if simple else []


def _bind(stmt: ast.Import | ast.ImportFrom, modules: dict, names: dict) -> None:
    """Record what a package import binds: module aliases and imported definitions."""
    if isinstance(stmt, ast.Import):
        for a in stmt.names:
            m = _MODULE_STRING.match(a.name)
            if m and a.asname:
                modules[a.asname] = m.group(1)
        return
    base = PACKAGE if stmt.level else (stmt.module or "")
    if stmt.level and stmt.module:
        base = f"{PACKAGE}.{stmt.module}"
    for a in stmt.names:
        local = a.asname or a.name
        if base == PACKAGE:
            modules[local] = a.name
        elif _MODULE_STRING.match(base):
            names[local] = (base.rsplit(".", 1)[-1], a.name)


def _local_bindings(stmt: ast.stmt) -> tuple[dict, dict]:
    modules: dict = {}
    names: dict = {}
    for node in ast.walk(stmt):
        if isinstance(node, ast.Import | ast.ImportFrom):
            _bind(node, modules, names)
    return modules, names


def _is_docstring(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[0], ast.Expr) and isinstance(
        getattr(body[0], "value", None), ast.Constant
    ) and isinstance(body[0].value.value, str)  # fmt: skip


def _copy(node: ast.stmt) -> ast.stmt:
    return ast.parse(ast.unparse(node)).body[0]


class _Normaliser(ast.NodeTransformer):
    """Drops docstrings, annotations and imports; writes `module.name` as `name`."""

    def __init__(self, modules: dict[str, str]) -> None:
        self.modules = modules

    def generic_visit(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        if isinstance(body, list) and not isinstance(node, ast.Module) and _is_docstring(body):
            node.body = body[1:]
        super().generic_visit(node)
        if isinstance(getattr(node, "body", None), list) and not node.body:
            node.body = [ast.Pass()]  # a body that held only imports or a docstring
        return node

    def visit_Import(self, node: ast.AST) -> None:  # noqa: N802 - ast.NodeTransformer's naming
        return None

    visit_ImportFrom = visit_Import  # noqa: N815

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:  # noqa: N802
        node.returns = None
        args = node.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if a is not None:
                a.annotation = None
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:  # noqa: N802
        if node.value is None:  # a bare field declaration: keep the name, drop the type
            return self.generic_visit(ast.Expr(value=node.target))
        return self.generic_visit(ast.Assign(targets=[node.target], value=node.value))

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:  # noqa: N802
        if isinstance(node.value, ast.Name) and node.value.id in self.modules:
            return ast.Name(id=node.attr, ctx=node.ctx)
        return self.generic_visit(node)
