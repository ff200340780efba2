"""PyTorch probes of how PyTorch runs and where its models go: define-by-run execution and the
ONNX route into the browser (TorchServe and Horovod are in probes_torch_services).

- ``torch-dynamic-graph``: a module whose branch and loop count depend on the input's values runs
  eagerly and takes different paths per input; what ``torch.compile`` (graph breaks, and
  ``fullgraph=True``) and ``torch.export`` make of it is recorded beside.
- ``onnx-web``: ``torch.onnx.export``, then ONNX Runtime Web's WebAssembly backend (the one
  browsers use) in Node.js (``js/onnx_web_run.cjs``), compared with eager PyTorch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from verify.benchmarks import external
from verify.benchmarks.context import Context
from verify.benchmarks.probekit import (
    Trial,
    compare,
    require,
    run_trial,
    scratch_dir,
    versions,
)
from verify.benchmarks.probes_torch import _tiny

HERE = Path(__file__).resolve().parent
TIMEOUT_S = 120.0
FEATURES = 4


def run(name: str, params: dict, ctx: Context) -> dict:
    """Run the PyTorch runtime probe ``name``."""
    probes = {"torch-dynamic-graph": dynamic_graph, "onnx-web": onnx_web}
    if name not in probes:
        raise ValueError(f"{name!r} is not a PyTorch runtime probe; expected {sorted(probes)}")
    torch.set_num_threads(max(1, ctx.threads))
    return probes[name](params, ctx)


# --- define-by-run -------------------------------------------------------------------------------


class Branchy(torch.nn.Module):
    """Takes one of two layers by the sign of the input's sum, then loops ceil(max |x|) times."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        self.positive = torch.nn.Linear(FEATURES, FEATURES)
        self.negative = torch.nn.Linear(FEATURES, FEATURES)
        with torch.no_grad():
            for layer in (self.positive, self.negative):
                layer.weight.copy_(torch.from_numpy(rng.normal(0, 0.5, (FEATURES, FEATURES))))
                layer.bias.copy_(torch.from_numpy(rng.normal(0, 0.1, FEATURES)))
        self.paths: list[str] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Python control flow on tensor values: what a static graph cannot hold."""
        if x.sum() > 0:
            h, branch = self.positive(x), "positive"
        else:
            h, branch = self.negative(x), "negative"
        steps = int(torch.ceil(x.abs().max()))
        for _ in range(steps):
            h = torch.tanh(h) + 0.5 * h
        self.paths.append(f"{branch} x{steps}")
        return h


def _reference(model: Branchy, x: np.ndarray) -> np.ndarray:
    layer = model.positive if x.sum() > 0 else model.negative
    w, b = (p.detach().double().numpy() for p in (layer.weight, layer.bias))
    h = x.astype(np.float64) @ w.T + b
    for _ in range(int(np.ceil(np.abs(x).max()))):
        h = np.tanh(h) + 0.5 * h
    return h


def dynamic_graph(params: dict, ctx: Context) -> dict:
    """Eager define-by-run on two inputs that take different paths; compile and export noted."""
    backend = params.get("compile_backend", "eager")  # graph breaks do not depend on the backend
    trial = Trial(
        apis=("torch.compile", "torch.export", "torch._dynamo"), versions=versions("torch")
    )

    def body(t: Trial) -> dict:
        model = Branchy(ctx.seed).double().eval()
        inputs = [
            np.array([[0.9, 0.8, -0.1, 1.6]]),  # sum > 0, max |x| 1.6: positive, 2 steps
            np.array([[-2.5, 0.3, -0.2, 0.1]]),  # sum < 0, max |x| 2.5: negative, 3 steps
        ]
        t.step = "eager calls"
        diff, tol = 0.0, 1.0
        with torch.no_grad():
            for x in inputs:
                d, tl = compare(_reference(model, x), model(torch.from_numpy(x)).numpy())
                diff, tol = max(diff, d), min(tol, tl)
        eager_paths = list(model.paths)
        found = {"eager_paths": eager_paths} | _compiled(model, inputs, backend, t)
        found |= _exported(model, inputs[0], t)
        if len(set(eager_paths)) < 2:
            return found | {"ok": False, "detail": f"Eager PyTorch took one path for both "
                            f"inputs ({eager_paths}); the probe's inputs should differ."}  # fmt: skip
        compiled = (
            f"torch.compile ran it with {found['graph_breaks']} graph break(s) "
            f"({found['graphs']} graphs), outputs matching eager"
            if found["compiled_matches"]
            else "torch.compile's outputs differed from eager"
        )
        return found | {
            "detail": f"A module whose branch and loop count depend on the input ran eagerly, "
            f"taking the paths {' and '.join(eager_paths)} for two inputs, with outputs matching a "
            f"numpy reference. {compiled}; torch.compile(fullgraph=True) "
            f"{_outcome(found['fullgraph_error'])}; torch.export "
            f"{_outcome(found['export_error'])}.",
            "max_abs_diff": diff,
            "tolerance": tol,
        }

    return run_trial(trial, body)


def _compiled(model: Branchy, inputs: list[np.ndarray], backend: str, t: Trial) -> dict:
    """torch.compile with graph breaks allowed (outputs, break count) and with fullgraph=True."""
    torch._dynamo.reset()
    t.step = "torch._dynamo.explain"
    explained = torch._dynamo.explain(model)(torch.from_numpy(inputs[0]))
    t.step = f"torch.compile(backend={backend!r})"
    compiled = torch.compile(model, backend=backend)
    matches = True
    with torch.no_grad():
        for x in inputs:
            d, tol = compare(model(torch.from_numpy(x)).numpy(), compiled(torch.from_numpy(x)))
            matches = matches and d <= tol
    torch._dynamo.reset()
    t.step = "torch.compile(fullgraph=True)"
    strict = torch.compile(model, backend=backend, fullgraph=True)
    with torch.no_grad():
        fullgraph_error = _error_of(lambda: strict(torch.from_numpy(inputs[0])))
    torch._dynamo.reset()
    return {
        "compile_backend": backend,
        "graph_breaks": int(explained.graph_break_count),
        "graphs": int(explained.graph_count),
        "compiled_matches": matches,
        "fullgraph_error": fullgraph_error,
    }


def _exported(model: Branchy, x: np.ndarray, t: Trial) -> dict:
    t.step = "torch.export.export"
    return {"export_error": _error_of(lambda: torch.export.export(model, (torch.from_numpy(x),)))}


def _error_of(call) -> str | None:
    try:
        call()
    except Exception as exc:  # the finding: how a static capture refuses data-dependent flow
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        return f"{type(exc).__name__}: {lines[0][:200] if lines else ''}"
    return None


def _outcome(error: str | None) -> str:
    return "captured it" if error is None else f"refused it ({error})"


# --- the browser route ---------------------------------------------------------------------------


def onnx_web(params: dict, ctx: Context) -> dict:
    """torch.onnx.export -> ONNX Runtime Web (WebAssembly) in Node.js, compared with eager."""
    require("onnx", "the exporter writes ONNX protos with it")
    require("onnxscript", "the dynamo ONNX exporter builds its graphs with it")
    node = external.tool("node", "ONNX Runtime Web runs here in Node.js")
    runtime = external.npm_module("onnxruntime-web", "it runs the exported model")
    trial = Trial(
        apis=("torch.onnx", "ONNX export"), versions=versions("torch", "onnx", "onnxscript")
    )
    trial.versions["onnxruntime-web"] = external.npm_version(runtime)

    def body(t: Trial) -> dict:
        model, x, expected = _tiny(ctx, device="cpu")
        with scratch_dir(ctx) as folder:
            path = os.path.join(folder, "tiny-web.onnx")
            t.step = "torch.onnx.export (dynamo exporter)"
            torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"],
                              dynamo=True, external_data=False)  # fmt: skip
            payload = os.path.join(folder, "onnx-web-payload.json")
            Path(payload).write_text(json.dumps({"model": path, "input_name": "x", "input": {
                "data": x.numpy().ravel().tolist(), "shape": list(x.shape)}}), encoding="utf-8")  # fmt: skip
            t.step = "running the model with ONNX Runtime Web in Node.js"
            env = {"NODE_PATH": str(external.cache_dir() / "npm" / "node_modules")}
            script = str(HERE / "js" / "onnx_web_run.cjs")
            found = external.run([node, script, payload], TIMEOUT_S, env).result()
        if "error" in found:
            raise RuntimeError(f"ONNX Runtime Web failed: {found['error']}")
        t.versions["node"] = found["versions"]["node"]
        got = np.asarray(found["output"], np.float32).reshape(found["shape"])
        diff, tol = compare(expected, got)
        return {
            "detail": f"torch.onnx.export wrote an ONNX model that ONNX Runtime Web "
            f"{found['versions']['onnxruntime-web']} (WebAssembly, the browser build) ran in "
            f"Node.js {found['versions']['node']} with outputs matching eager PyTorch.",
            "max_abs_diff": diff,
            "tolerance": tol,
        }

    return run_trial(trial, body)
