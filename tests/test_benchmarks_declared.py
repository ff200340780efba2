"""claims/benchmarks.ttl says what each benchmark module does: its tiers (or probes), the
parameters it reads, their types. These tests keep the declarations and the code in step, so
`verify check` refuses what a run would trip over."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest
import rdflib

from kg import ns, paramschema
from verify.benchmarks import context, models

REPO = Path(__file__).resolve().parent.parent
BENCH_FILE = REPO / "claims" / "benchmarks.ttl"
FWC = rdflib.Namespace(ns.FWC)
SCHEMA = rdflib.Namespace(ns.SCHEMA)
# Parameters the runner is to apply to every benchmark (not read by the modules yet): declared,
# and validated, so a check may already state them.
RUNNER_APPLIED = {"tiers", "device", "threads"}
_MODULE_STRING = re.compile(r"^verify\.benchmarks\.[a-z_]+$")


def _benchmarks() -> dict[str, dict]:
    g = rdflib.Graph().parse(BENCH_FILE)
    out = {}
    for b in set(g.subjects(FWC.module, None)):
        schema = g.value(b, FWC.parameterSchema)
        out[str(g.value(b, SCHEMA.identifier))] = {
            "module": str(g.value(b, FWC.module)),
            "type": {str(t)[len(ns.FWC) :] for t in g.objects(b, rdflib.RDF.type)},
            "names": {str(v) for v in g.objects(b, FWC.parameterName)},
            "tiers": {str(v) for v in g.objects(b, FWC.tier)},
            "frameworks": {str(v) for v in g.objects(b, FWC.framework)},
            "schema": json.loads(str(schema)) if schema is not None else None,
        }
    return out


BENCHMARKS = _benchmarks()


def _source(module: str) -> ast.Module:
    path = REPO.joinpath(*module.split(".")).with_suffix(".py")
    return ast.parse(path.read_text(encoding="utf-8"))


def _dispatched(module: str) -> list[str]:
    """The module and those it hands a run to: named in a string, or imported whole."""
    found = [module]
    for node in ast.walk(_source(module)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _MODULE_STRING.match(node.value) and node.value not in found:
                found.append(node.value)
        elif isinstance(node, ast.ImportFrom) and node.module in (
            "verify.benchmarks",
            "verify.judge",
        ):
            found += [f"{node.module}.{a.name}" for a in node.names]
        elif (  # framework_module("torch"): that framework's model module, which reads some too
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "framework_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append(context._BACKENDS[node.args[0].value])
    return list(dict.fromkeys(found))


def _backend_reads(module: str) -> set[str]:
    """The parameters read by the framework back-end functions (torch_models.memory_format,
    ...) that `module` calls through verify.benchmarks.context.framework_module."""
    from verify.benchmarks import context

    tree = _source(module)
    if not any(isinstance(n, ast.Name) and n.id == "framework_module" for n in ast.walk(tree)):
        return set()
    called = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names: set[str] = set()
    for backend in context._BACKENDS.values():
        for fn in _source(backend).body:
            if isinstance(fn, ast.FunctionDef) and fn.name in called:
                names |= _reads(fn)
    return names


def parameters_read(module: str) -> set[str]:
    """Every `params.get("x")`, `params["x"]` and `"x" in params` of the module, of those it
    dispatches to, and of the framework back-end functions it calls."""
    names = _backend_reads(module)
    for mod in _dispatched(module):
        names |= _reads(_source(mod))
    return names


def _reads(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "params"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == "params"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            names.add(node.slice.value)
        elif (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.ops[0], ast.In)
            and isinstance(node.comparators[0], ast.Name)
            and node.comparators[0].id == "params"
        ):
            names.add(node.left.value)
    return names


MODULES = sorted({b["module"] for b in BENCHMARKS.values()})


def test_benchmarks_declared_every_benchmark_has_a_schema_and_tiers():
    for bid, b in BENCHMARKS.items():
        assert b["schema"] is not None, f"bench:{bid} has no fwc:parameterSchema"
        assert b["tiers"], f"bench:{bid} has no fwc:tier"
        validator, schema = paramschema.compile_schema(json.dumps(b["schema"]))
        assert paramschema.names(schema) == b["names"], bid


@pytest.mark.parametrize("module", MODULES)
def test_benchmarks_declared_parameters_are_those_the_module_reads(module):
    declared = set().union(*(b["names"] for b in BENCHMARKS.values() if b["module"] == module))
    read = parameters_read(module)
    assert read - declared == set(), f"{module} reads parameters benchmarks.ttl does not declare"
    assert declared - read <= RUNNER_APPLIED, f"benchmarks.ttl declares what {module} never reads"


@pytest.mark.parametrize("bid", sorted(BENCHMARKS))
def test_benchmarks_declared_tiers_are_the_module_tiers(bid):
    b = BENCHMARKS[bid]
    if "DataCheck" in b["type"]:
        from verify.judge import downloads

        counted = {"pytorch", "tensorflow", *downloads.PROJECTS}  # frameworks the data counts
        assert b["tiers"] == counted
        assert set(b["schema"]["properties"]["framework"]["enum"]) == counted
        return
    mod = importlib.import_module(b["module"])
    if mod.KIND == "probe":
        assert bid in mod.PROBES, f"{b['module']} has no probe {bid}"
        # a rule on a probe names its framework, or "both" where the probe runs on two
        both = {"both"} if len(b["frameworks"]) > 1 else set()
        assert b["frameworks"] <= b["tiers"] <= b["frameworks"] | both, bid
        return
    assert b["tiers"] == set(mod.TIERS)
    if "tiers" in b["names"]:
        assert b["schema"]["properties"]["tiers"]["items"] == {"type": "string"}


@pytest.mark.parametrize("bid", sorted(b for b in BENCHMARKS if "model" in BENCHMARKS[b]["names"]))
def test_benchmarks_declared_models_are_those_the_builders_know(bid):
    assert BENCHMARKS[bid]["schema"]["properties"]["model"]["enum"] == list(models.MODELS)


def test_distributed_probe_frameworks_are_its_approaches_frameworks():
    from verify.benchmarks import distributed

    b = BENCHMARKS["distributed-capability"]
    assert b["frameworks"] == set(distributed.PROBES.values())
    assert b["schema"]["properties"]["approach"]["enum"] == list(distributed.PROBES)
