"""PyTorch probes: ONNX export, TorchScript, torch.export and torch.compile on a tiny network.

Each probe builds the tiny conv + dense network from ``probes.tiny_weights``, runs it eagerly, does
the capability on the installed torch and compares the result with the eager output.
"""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import torch

from verify.benchmarks.context import Context, NotCheckable
from verify.benchmarks.probekit import (
    Trial,
    compare,
    require,
    run_trial,
    scratch_dir,
    tiny_input,
    tiny_weights,
    versions,
)


class TinyNet(torch.nn.Module):
    """conv(3x3) -> relu -> flatten -> dense on channels-last input, as the other frameworks get."""

    def __init__(self, w: dict[str, np.ndarray]) -> None:
        super().__init__()
        kernel = w["conv_kernel"]  # HWIO
        self.conv = torch.nn.Conv2d(kernel.shape[2], kernel.shape[3], kernel.shape[0])
        self.dense = torch.nn.Linear(*w["dense_kernel"].shape)
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
            self.conv.bias.copy_(torch.from_numpy(w["conv_bias"]))
            self.dense.weight.copy_(torch.from_numpy(w["dense_kernel"].T.copy()))
            self.dense.bias.copy_(torch.from_numpy(w["dense_bias"]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """NHWC in; the permutes keep one input array and one flatten order for all frameworks."""
        hidden = torch.relu(self.conv(x.permute(0, 3, 1, 2)))
        return self.dense(hidden.permute(0, 2, 3, 1).flatten(1))


def run(name: str, params: dict, ctx: Context) -> dict:
    """Run the torch probe ``name``."""
    probes = {
        "onnx-export": onnx_export,
        "torchscript": torchscript,
        "torch-export": torch_export,
        "torch-compile": torch_compile,
    }
    if name not in probes:
        raise ValueError(f"{name!r} is not a torch probe; expected one of {sorted(probes)}")
    torch.set_num_threads(max(1, ctx.threads))
    return probes[name](params, ctx)


def onnx_export(params: dict, ctx: Context) -> dict:
    """torch.onnx.export -> ONNX Runtime, compared with eager PyTorch."""
    exporter = params.get("exporter", "dynamo")
    if exporter not in ("dynamo", "torchscript"):
        raise ValueError(f"exporter must be 'dynamo' or 'torchscript', not {exporter!r}")
    require("onnx", "it reads the exported file")
    require("onnxruntime", "it runs the exported model")
    if exporter == "dynamo":
        require("onnxscript", "the dynamo ONNX exporter builds its graphs with it")
    trial = Trial(
        apis=("TorchScript-based ONNX export", "torch.onnx", "ONNX export"),
        versions=versions("torch", "onnx", "onnxruntime", "onnxscript"),
    )

    def body(t: Trial) -> dict:
        import onnx
        import onnxruntime as ort

        model, x, expected = _tiny(ctx, device="cpu")  # ONNX Runtime runs it on the CPU
        options = {"input_names": ["x"], "output_names": ["y"], "dynamo": exporter == "dynamo"}
        if params.get("opset") is not None:
            options["opset_version"] = int(params["opset"])
        if exporter == "dynamo":
            options["external_data"] = False
        with scratch_dir(ctx) as folder:
            path = os.path.join(folder, "tiny.onnx")
            t.step = f"torch.onnx.export ({exporter} exporter)"
            torch.onnx.export(model, (x,), path, **options)
            t.step = "loading the exported model in ONNX Runtime"
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            proto = onnx.load(path)
        t.step = "running the exported model in ONNX Runtime"
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
        opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
        diff, tol = compare(expected, got)
        return {
            "detail": f"torch.onnx.export with the {exporter} exporter wrote opset {opset}, "
            f"which ONNX Runtime ran with outputs matching eager PyTorch.",
            "max_abs_diff": diff,
            "tolerance": tol,
            "exporter": exporter,
            "opset": opset,
        }

    return run_trial(trial, body)


def torchscript(params: dict, ctx: Context) -> dict:
    """torch.jit.script (or trace) -> save -> load, compared with eager."""
    mode = params.get("mode", "script")
    if mode not in ("script", "trace"):
        raise ValueError(f"mode must be 'script' or 'trace', not {mode!r}")
    trial = Trial(apis=("torch.jit",), versions=versions("torch"))

    def body(t: Trial) -> dict:
        model, x, expected = _tiny(ctx)
        t.step = f"torch.jit.{mode}"
        compiled = torch.jit.script(model) if mode == "script" else torch.jit.trace(model, (x,))
        with scratch_dir(ctx) as folder:
            path = os.path.join(folder, f"tiny-{mode}.pt")
            t.step = "torch.jit.save"
            torch.jit.save(compiled, path)
            t.step = "torch.jit.load"
            loaded = torch.jit.load(path, map_location=x.device)
        with torch.no_grad():
            got = loaded(x).cpu().numpy()
        diff, tol = compare(expected, got)
        return {
            "detail": f"torch.jit.{mode}, save and load round-tripped the model with outputs "
            "matching eager PyTorch.",
            "max_abs_diff": diff,
            "tolerance": tol,
            "mode": mode,
        }

    return run_trial(trial, body)


def torch_export(params: dict, ctx: Context) -> dict:
    """torch.export.export -> save -> load, compared with eager (also at another batch size)."""
    dynamic = bool(params.get("dynamic_batch", True))
    trial = Trial(apis=("torch.export",), versions=versions("torch"))

    def body(t: Trial) -> dict:
        model, x, expected = _tiny(ctx)
        shapes = ({0: torch.export.Dim("batch")},) if dynamic else None
        t.step = "torch.export.export"
        program = torch.export.export(model, (x,), dynamic_shapes=shapes)
        with scratch_dir(ctx) as folder:
            path = os.path.join(folder, "tiny.pt2")
            t.step = "torch.export.save"
            torch.export.save(program, path)
            t.step = "torch.export.load"
            loaded = torch.export.load(path).module()
        t.step = "running the loaded program"
        with torch.no_grad():
            diff, tol = compare(expected, loaded(x).cpu().numpy())
            if dynamic:  # the point of a dynamic dimension: another batch size must run too
                other = torch.from_numpy(tiny_input(ctx.seed + 7, batch=3)).to(x.device)
                diff3, tol3 = compare(model(other).cpu().numpy(), loaded(other).cpu().numpy())
                diff, tol = max(diff, diff3), min(tol, tol3)
        batches = "batch sizes 2 and 3" if dynamic else "batch size 2"
        return {
            "detail": f"torch.export exported, saved and reloaded the model, whose outputs matched "
            f"eager PyTorch at {batches}.",
            "max_abs_diff": diff,
            "tolerance": tol,
            "dynamic_batch": dynamic,
        }

    return run_trial(trial, body)


def torch_compile(params: dict, ctx: Context) -> dict:
    """torch.compile with a backend, compared with eager; first-call (compile) time recorded."""
    backend = params.get("backend", "inductor")
    mode = params.get("mode")
    if (
        backend == "inductor"
        and ctx.device == "cpu"
        and not shutil.which(os.environ.get("CXX", "g++"))
    ):
        raise NotCheckable("torch.compile's inductor backend needs a C++ compiler on the CPU")
    trial = Trial(
        apis=("torch.compile", "torch._dynamo", "TorchDynamo", "inductor"),
        versions=versions("torch", "triton"),
    )

    def body(t: Trial) -> dict:
        model, x, expected = _tiny(ctx)
        torch._dynamo.reset()  # an earlier compile in this process must not be reused
        t.step = f"torch.compile(backend={backend!r})"
        compiled = torch.compile(model, backend=backend, mode=mode)
        with torch.no_grad():
            t.step = "the first compiled call (compilation)"
            start = time.perf_counter()
            compiled(x)
            compile_s = time.perf_counter() - start
            t.step = "a compiled call"
            start = time.perf_counter()
            got = compiled(x)
            _sync(x)
            call_s = time.perf_counter() - start
        diff, tol = compare(expected, got.cpu().numpy())
        return {
            "detail": f"torch.compile with the {backend} backend compiled the model in "
            f"{compile_s:.1f} s and its outputs matched eager PyTorch.",
            "max_abs_diff": diff,
            "tolerance": tol,
            "backend": backend,
            "mode": mode,
            "compile_s": round(compile_s, 3),
            "compiled_call_s": round(call_s, 5),
        }

    return run_trial(trial, body)


def _tiny(ctx: Context, device: str | None = None) -> tuple[TinyNet, torch.Tensor, np.ndarray]:
    device = device or _device(ctx)
    model = TinyNet(tiny_weights(ctx.seed)).eval().to(device)
    x = torch.from_numpy(tiny_input(ctx.seed)).to(device)
    with torch.no_grad():
        expected = model(x).cpu().numpy()
    return model, x, expected


def _device(ctx: Context) -> str:
    if ctx.device == "cuda":
        if not torch.cuda.is_available():
            raise NotCheckable("device cuda requested but this torch build sees no CUDA GPU")
        return "cuda"
    if ctx.device != "cpu":
        raise NotCheckable(f"device {ctx.device!r} is not supported by these probes")
    return "cpu"


def _sync(x: torch.Tensor) -> None:
    if x.is_cuda:
        torch.cuda.synchronize()
