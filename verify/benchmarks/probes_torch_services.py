"""PyTorch probes of tools beside PyTorch: serving with TorchServe, and Horovod.

- ``torchserve``: a model archive built with torch-model-archiver, served by TorchServe (Java) on
  127.0.0.1, one prediction request, compared with eager PyTorch.
- ``horovod-allreduce``: two Horovod processes all-reduce over Gloo; where Horovod is not
  installed, the reason recorded by the build attempt (``make horovod``).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import torch

from verify.benchmarks import external
from verify.benchmarks.context import Context, NotCheckable
from verify.benchmarks.probekit import Trial, compare, require, run_trial, scratch_dir, versions
from verify.benchmarks.probes_torch import _tiny

TIMEOUT_S = 120.0
FEATURES = 4


def run(name: str, params: dict, ctx: Context) -> dict:
    """Run the TorchServe or Horovod probe ``name``."""
    probes = {"torchserve": torchserve, "horovod-allreduce": horovod_allreduce}
    if name not in probes:
        raise ValueError(f"{name!r} is not a PyTorch service probe; expected {sorted(probes)}")
    torch.set_num_threads(max(1, ctx.threads))
    return probes[name](params, ctx)


# --- TorchServe ----------------------------------------------------------------------------------

MODEL_FILE = """import torch


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d({channels}, {filters}, {kernel})
        self.dense = torch.nn.Linear({flat}, {classes})

    def forward(self, x):
        hidden = torch.relu(self.conv(x.permute(0, 3, 1, 2)))
        return self.dense(hidden.permute(0, 2, 3, 1).flatten(1))
"""
HANDLER_FILE = """import json

import torch
from ts.torch_handler.base_handler import BaseHandler


class Handler(BaseHandler):
    def preprocess(self, data):
        body = data[0].get("body") or data[0].get("data")
        if isinstance(body, (bytes, bytearray)):
            body = json.loads(body)
        return torch.tensor(body["x"], dtype=torch.float32)

    def postprocess(self, output):
        return [output.tolist()]
"""


def torchserve(params: dict, ctx: Context) -> dict:
    """Archive the tiny network, serve it with TorchServe on loopback, answer one request."""
    require("ts", "it is TorchServe's Python side (pip package torchserve)")
    require("model_archiver", "it builds the model archive (pip package torch-model-archiver)")
    java = external.tool("java", "TorchServe's front end is a Java program")
    server, archiver = (_script(n) for n in ("torchserve", "torch-model-archiver"))
    timeout = float(params.get("timeout_s", TIMEOUT_S))
    trial = Trial(apis=("TorchServe", "torchserve"),
                  versions=versions("torch", "torchserve", "torch-model-archiver"))  # fmt: skip
    trial.versions["java"] = _java_version(java)

    def body(t: Trial) -> dict:
        model, x, expected = _tiny(ctx, device="cpu")
        with scratch_dir(ctx) as folder:
            root = Path(folder, "torchserve")
            store = root / "store"
            store.mkdir(parents=True, exist_ok=True)
            t.step = "torch-model-archiver"
            _archive(archiver, model, root, store)
            ports = external.free_ports(5)
            config = _config(root, ports)
            t.step = "starting TorchServe"
            argv = [server, "--start", "--foreground", "--ncs", "--disable-token-auth",
                    "--model-store", str(store), "--models", "tiny=tiny.mar", "--ts-config", config]  # fmt: skip
            env = {"LOG_LOCATION": str(root / "logs"), "METRICS_LOCATION": str(root / "logs"),
                   "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}  # fmt: skip
            process = external.start(argv, root / "torchserve.log", env, cwd=root)
            try:
                t.step = "the prediction request"
                answer, waited = _predict(ports[0], x.numpy(), timeout, process, root)
            finally:
                external.kill_group(process)
        diff, tol = compare(expected, np.asarray(answer, np.float32))
        return {
            "detail": f"TorchServe {trial.versions.get('torchserve', '?')} (Java "
            f"{trial.versions['java']}) loaded a model archive and answered a prediction request on "
            f"127.0.0.1 after {waited:.0f} s, with outputs matching eager PyTorch.",
            "max_abs_diff": diff,
            "tolerance": tol,
            "startup_s": round(waited, 1),
        }

    return run_trial(trial, body)


def _archive(archiver: str, model: torch.nn.Module, root: Path, store: Path) -> None:
    conv, dense = model.conv, model.dense
    shapes = {"channels": conv.in_channels, "filters": conv.out_channels,
              "kernel": conv.kernel_size[0], "flat": dense.in_features, "classes": dense.out_features}  # fmt: skip
    (root / "model.py").write_text(MODEL_FILE.format(**shapes), encoding="utf-8")
    (root / "handler.py").write_text(HANDLER_FILE, encoding="utf-8")
    torch.save(model.state_dict(), root / "tiny.pth")
    made = external.run(
        [archiver, "--model-name", "tiny", "--version", "1.0", "--model-file", "model.py",
         "--serialized-file", "tiny.pth", "--handler", "handler.py",
         "--export-path", str(store), "--force"], TIMEOUT_S, cwd=root)  # fmt: skip
    if made.returncode != 0:
        raise RuntimeError(f"torch-model-archiver failed: {made.tail()}")


def _config(root: Path, ports: list[int]) -> str:
    """A config that binds every listener to 127.0.0.1 and keeps sockets in the scratch folder."""
    lines = [
        f"inference_address=http://127.0.0.1:{ports[0]}",
        f"management_address=http://127.0.0.1:{ports[1]}",
        f"metrics_address=http://127.0.0.1:{ports[2]}",
        "grpc_inference_address=127.0.0.1",
        "grpc_management_address=127.0.0.1",
        f"grpc_inference_port={ports[3]}",
        f"grpc_management_port={ports[4]}",
        "default_workers_per_model=1",
        "disable_system_metrics=true",
        f"vmargs=-Xmx512m -Djava.io.tmpdir={root}",
    ]
    path = root / "config.properties"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _predict(port: int, x: np.ndarray, timeout: float, process, root: Path) -> tuple[list, float]:
    """POST the input until the model answers (it loads after the server starts)."""
    start = time.monotonic()
    body = json.dumps({"x": x.tolist()}).encode()
    last = "no answer"
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            log = (root / "torchserve.log").read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"TorchServe exited ({process.returncode}): {log[-300:]}")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/predictions/tiny", body, {"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return json.loads(reply.read()), time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = str(exc)
            time.sleep(0.5)
    raise RuntimeError(f"no prediction within {timeout:.0f} s (last: {last})")


def _script(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else external.tool(name, f"it is {name}'s command")


def _java_version(java: str) -> str:
    shown = external.run([java, "-version"], 30)
    words = (shown.stderr or shown.stdout).split('"')
    return words[1] if len(words) > 1 else "?"


# --- Horovod ---------------------------------------------------------------------------------------

BUILD_RECORD = ("horovod", "build.json")


def horovod_allreduce(params: dict, ctx: Context) -> dict:
    """Two Horovod processes all-reduce a tensor over Gloo; or why Horovod is not here."""
    site = external.cache_dir() / "pip" / "horovod"
    if not _importable("horovod.torch", site):
        raise NotCheckable(_horovod_missing())
    world = int(params.get("world_size", 2))
    trial = Trial(apis=("horovod",), versions=versions("torch"))

    def body(t: Trial) -> dict:
        t.step = f"{world} Horovod processes over Gloo"
        env = {"PYTHONPATH": os.pathsep.join((str(external.ROOT), str(site))),
               "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}  # fmt: skip
        payload = json.dumps({"world_size": world})
        ran = external.run([sys.executable, "-m", __name__, payload], TIMEOUT_S, env)
        found = ran.result()
        if "error" in found:
            raise RuntimeError(found["error"])
        expected = np.full(FEATURES, sum(range(1, world + 1)) / world)
        diff, tol = compare(expected, np.asarray(found["averaged"]))
        return {
            "detail": f"Horovod {found['horovod']} ran {world} processes over Gloo and their "
            "all-reduce averaged the ranks' tensors correctly.",
            "max_abs_diff": diff,
            "tolerance": tol,
        }

    return run_trial(trial, body)


def _importable(module: str, site: Path) -> bool:
    import importlib.util

    if importlib.util.find_spec(module.split(".")[0]) is not None:
        return True
    return (site / module.split(".")[0]).is_dir()


def _horovod_missing() -> str:
    """Why Horovod is not installed: the build attempt's record, or that none was made."""
    record = external.cache_dir().joinpath(*BUILD_RECORD)
    if not record.is_file():
        return "Horovod is not installed here, and no build was attempted (`make horovod` tries)"
    built = json.loads(record.read_text(encoding="utf-8"))
    return (
        f"Horovod {built['horovod']} did not build against torch {built['torch']} on "
        f"{built['date']}: {built['reason']}"
    )


def _allreduce_main() -> None:
    """In a child: run the ranks with Horovod's own launcher and print the averaged tensor."""
    from horovod.runner import run as horovod_run

    payload = json.loads(sys.argv[1])
    try:
        import horovod

        results = horovod_run(_rank, np=payload["world_size"], use_gloo=True, hosts="localhost:2")
        found = {"averaged": results[0], "horovod": horovod.__version__}
    except Exception as exc:  # reported to the parent as the failing step
        found = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    print(external.RESULT_MARK + json.dumps(found), flush=True)


def _rank() -> list[float]:
    import horovod.torch as hvd

    hvd.init()
    value = torch.full((FEATURES,), float(hvd.rank() + 1))
    return hvd.allreduce(value, op=hvd.Average).tolist()


if __name__ == "__main__":
    _allreduce_main()
