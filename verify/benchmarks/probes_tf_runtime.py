"""TensorFlow probes of how TensorFlow runs and where its models go: the execution mode a fresh
process uses, the C API shipped in the wheel, TensorFlow.js, and Keras as the bundled API.

- ``tf-execution-default``: is a fresh TensorFlow eager, and is a graph built only under
  ``tf.function``? ``expect`` ("eager" or "graph") is what the claim says the default is.
- ``tf-c-api``: compiles ``c/tf_c_run.c`` against the headers and libraries in the installed wheel
  with the system's C compiler, runs an exported SavedModel from C and compares with Keras.
- ``tfjs-convert``: converts the SavedModel with the TensorFlow.js converter (kept in the cache by
  ``make probe-tools``, run in a child process) and runs it, and the same network built with
  TensorFlow.js's layers API, in Node.js (``js/tfjs_run.cjs``), training the latter a few steps.
- ``keras-bundled``: TensorFlow's package requires Keras and ``tf.keras`` is that Keras, while
  torch's requirements name no high-level training library.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"

import importlib.metadata  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from verify.benchmarks import external  # noqa: E402
from verify.benchmarks.context import Context, NotCheckable  # noqa: E402
from verify.benchmarks.probekit import (  # noqa: E402
    INPUT_SHAPE,
    Trial,
    compare,
    run_trial,
    scratch_dir,
    tiny_input,
    tiny_weights,
)
from verify.benchmarks.probes_keras import tiny_keras_model  # noqa: E402
from verify.benchmarks.probes_tf import versions  # noqa: E402

HERE = Path(__file__).resolve().parent
TFJS_PACKAGES = (
    "@tensorflow/tfjs-core",
    "@tensorflow/tfjs-backend-cpu",
    "@tensorflow/tfjs-layers",
    "@tensorflow/tfjs-converter",
)
HIGH_LEVEL = ("lightning", "pytorch-lightning", "fastai", "ignite", "pytorch-ignite")
TIMEOUT_S = 120.0


def run(name: str, params: dict, ctx: Context) -> dict:
    """Run the TensorFlow runtime probe ``name``."""
    probes = {
        "tf-execution-default": execution_default,
        "tf-c-api": c_api,
        "tfjs-convert": tfjs_convert,
        "keras-bundled": keras_bundled,
    }
    if name not in probes:
        raise ValueError(f"{name!r} is not a TensorFlow runtime probe; expected {sorted(probes)}")
    if ctx.device != "cpu":  # the TensorFlow on the project's machines is the CPU build
        raise NotCheckable(f"the TensorFlow probes run on the CPU only, not {ctx.device!r}")
    return probes[name](params, ctx)


def execution_default(params: dict, ctx: Context) -> dict:
    """What this process does before anything asks for a mode: eager, or graphs?"""
    expect = params.get("expect", "eager")
    if expect not in ("eager", "graph"):
        raise ValueError(f"expect must be 'eager' or 'graph', not {expect!r}")
    # Asked before anything else runs: the module imports TensorFlow and nothing more.
    top_level = tf.executing_eagerly()
    trial = Trial(apis=("tf.compat.v1", "executing_eagerly"), versions=versions())

    def body(t: Trial) -> dict:
        t.step = "an operation at top level"
        value = tf.constant([1.0, 2.0]) * 3.0
        immediate = hasattr(value, "numpy") and value.numpy().tolist() == [3.0, 6.0]
        inside: list[bool] = []

        @tf.function
        def step(x):
            inside.append(tf.executing_eagerly())  # runs while tracing only
            return x * 3.0

        t.step = "two calls of a tf.function"
        spec = tf.constant([1.0, 2.0])
        step(spec)
        step(tf.constant([4.0, 5.0]))
        graph = step.get_concrete_function(spec).graph
        found = "eager" if top_level and immediate else "graph"
        facts = {
            "default_mode": found,
            "executing_eagerly": top_level,
            "eager_value": immediate,
            "tf_function_traces": len(inside),
            "eager_inside_tf_function": any(inside),
            "graph_operations": len(graph.get_operations()),
        }
        how = (
            f"A fresh TensorFlow {tf.__version__} process executes eagerly "
            "(tf.executing_eagerly() is True and an operation returns its value at once); "
            f"a graph of {facts['graph_operations']} operations was built only under tf.function, "
            f"traced {len(inside)} time(s) for two calls, with eager execution off inside it"
            if found == "eager"
            else f"A fresh TensorFlow {tf.__version__} process does not execute eagerly "
            "(tf.executing_eagerly() is False): it builds graphs by default"
        )
        verdict = "as the claim says" if found == expect else f"not {expect} as the claim says"
        return {**facts, "ok": found == expect, "found_otherwise": found != expect,
                "detail": f"{how}: {found} by default, {verdict}."}  # fmt: skip

    return run_trial(trial, body)


def c_api(params: dict, ctx: Context) -> dict:
    """Build a C program against the wheel's C API, run a SavedModel from it, compare."""
    compiler = params.get("compiler") or os.environ.get("CC") or "cc"
    cc = external.tool(compiler, "the C API probe compiles a small C program with it")
    include, lib = Path(tf.sysconfig.get_include()), Path(tf.sysconfig.get_lib())
    header = include / "tensorflow" / "c" / "c_api.h"
    libraries = [lib / "libtensorflow_cc.so.2", lib / "libtensorflow_framework.so.2"]
    for needed in (header, *libraries):
        if not needed.exists():
            raise NotCheckable(f"the TensorFlow wheel here has no {needed.name} ({needed.parent})")
    trial = Trial(apis=("TF_SessionRun", "TF_LoadSessionFromSavedModel"), versions=versions())

    def body(t: Trial) -> dict:
        model, x, expected = _tiny(ctx)
        with scratch_dir(ctx) as folder:
            exported = os.path.join(folder, "tiny-c-api")
            t.step = "keras Model.export(format='tf_saved_model')"
            model.export(exported, format="tf_saved_model", verbose=False)
            feed, fetch = _signature_ops(exported)
            program = os.path.join(folder, "tf_c_run")
            t.step = f"compiling c/tf_c_run.c with {compiler}"
            links = [f"-l:{p.name}" for p in libraries]
            built = external.run(
                [cc, "-O1", "-o", program, str(HERE / "c" / "tf_c_run.c"), f"-I{include}"]
                + [f"-L{lib}", *links, f"-Wl,-rpath,{lib}"],
                TIMEOUT_S,
            )
            if built.returncode != 0:
                raise RuntimeError(f"the compiler failed: {built.tail()}")
            inputs, outputs = os.path.join(folder, "x.f32"), os.path.join(folder, "y.f32")
            x.astype(np.float32).tofile(inputs)
            t.step = "running the SavedModel from C"
            ran = external.run(
                [program, exported, feed, fetch, inputs, *map(str, x.shape), outputs], TIMEOUT_S
            )
            if ran.returncode != 0:
                raise RuntimeError(f"the C program failed: {ran.tail()}")
            got = np.fromfile(outputs, np.float32).reshape(expected.shape)
        reported = re.search(r"tensorflow (\S+)", ran.stdout)
        c_version = reported.group(1) if reported else "?"
        diff, tol = compare(expected, got)
        return {
            "detail": f"A C program compiled with {compiler} against the C API in the "
            f"TensorFlow {tf.__version__} wheel (TF_Version() says {c_version}) loaded the "
            "exported SavedModel and ran it with outputs matching Keras.",
            "max_abs_diff": diff,
            "tolerance": tol,
            "compiler": compiler,
            "c_api_version": c_version,
        }

    return run_trial(trial, body)


def tfjs_convert(params: dict, ctx: Context) -> dict:
    """SavedModel -> TensorFlow.js graph model -> Node.js; plus a model built and trained in JS."""
    node = external.tool("node", "TensorFlow.js runs here in Node.js")
    modules = [external.npm_module(p, "TensorFlow.js runs from it") for p in TFJS_PACKAGES]
    site = external.cache_path("pip", "tensorflowjs", why="it holds the TensorFlow.js converter")
    timeout = float(params.get("timeout_s", TIMEOUT_S))
    trial = Trial(apis=("tensorflowjs", "TensorFlow.js"), versions=versions())
    trial.versions.update(
        {p: external.npm_version(m) for p, m in zip(TFJS_PACKAGES, modules, strict=True)}
    )
    trial.versions.update(_site_versions(site, ("tensorflowjs", "tensorflow_decision_forests")))

    def body(t: Trial) -> dict:
        model, x, expected = _tiny(ctx)
        with scratch_dir(ctx) as folder:
            exported, converted = os.path.join(folder, "tiny-tfjs-sm"), os.path.join(folder, "js")
            t.step = "keras Model.export(format='tf_saved_model')"
            model.export(exported, format="tf_saved_model", verbose=False)
            t.step = "the TensorFlow.js converter (tensorflowjs, in a child process)"
            payload = json.dumps({"site": str(site), "saved_model": exported, "out": converted})
            child = external.run(
                [sys.executable, "-m", __name__, payload], timeout, env=_child_env()
            )
            conversion = _child_result(child)
            if "error" in conversion:
                conversion["error"] += _pins(site)
            t.step = "running TensorFlow.js in Node.js"
            graph = converted if "error" not in conversion else None
            js = _run_tfjs(node, folder, x, graph, ctx.seed)
        t.versions["node"] = js["versions"]["node"]
        return _tfjs_findings(js, conversion, expected)

    return run_trial(trial, body)


def _tfjs_findings(js: dict, conversion: dict, expected: np.ndarray) -> dict:
    """The tfjs-convert result from the Node run and the conversion's outcome."""
    losses = js["losses"]
    diff, tol = compare(expected, np.asarray(js["layers_output"]))
    trained = bool(np.all(np.isfinite(losses))) and losses[-1] < losses[0]
    runtime = (
        f"TensorFlow.js {js['versions']['@tensorflow/tfjs-core']} in Node.js "
        f"{js['versions']['node']} ran the same network built with its layers API "
        f"(outputs within {diff:.2g} of Keras) and training lowered its loss from "
        f"{losses[0]:.3g} to {losses[-1]:.3g}"
    )
    found = {"losses": losses, "layers_max_abs_diff": diff, "converter": conversion}
    if not trained:
        return found | {"ok": False, "detail": f"Training in TensorFlow.js did not lower the loss: "
                        f"{losses}."}  # fmt: skip
    if diff > tol:
        return found | {"ok": False, "detail": f"{runtime}, but its outputs differ from Keras."}
    if "error" in conversion:
        return found | {
            "ok": False,
            "detail": f"The TensorFlow.js converter could not convert a TensorFlow "
            f"{tf.__version__} model: {conversion['error']}. {runtime}.",
        }
    graph_diff, graph_tol = compare(expected, np.asarray(js["graph_output"]))
    return found | {
        "detail": f"The TensorFlow.js converter turned the exported SavedModel into a graph model, "
        f"which TensorFlow.js ran in Node.js with outputs matching Keras; {runtime}.",
        "max_abs_diff": graph_diff,
        "tolerance": graph_tol,
    }


def keras_bundled(params: dict, ctx: Context) -> dict:
    """TensorFlow requires Keras and exposes it as tf.keras; torch requires no high-level API."""
    trial = Trial(apis=("tf.keras", "tf_keras"), versions=versions())

    def body(t: Trial) -> dict:
        t.step = "reading the installed packages' requirements"
        tf_dist = _distribution_of("tensorflow")
        requires = [_req_name(r) for r in importlib.metadata.requires(tf_dist) or []]
        torch_requires = _requirements("torch")
        t.step = "resolving tf.keras"
        same = tf.keras.Model is keras.Model
        found = {
            "tensorflow_distribution": tf_dist,
            "tensorflow_requires_keras": "keras" in requires,
            "tf_keras_is_keras": same,
            "torch_requires": torch_requires,
        }
        if torch_requires is None:
            raise NotCheckable("torch is not installed here, so its requirements cannot be read")
        bundled = [r for r in torch_requires if r in HIGH_LEVEL]
        ok = found["tensorflow_requires_keras"] and same and not bundled
        tf_side = (
            f"{tf_dist} {tf.__version__} requires keras and tf.keras is Keras {keras.__version__}"
            if found["tensorflow_requires_keras"] and same
            else f"{tf_dist} {tf.__version__} does not bundle Keras as tf.keras "
            f"(requires keras: {found['tensorflow_requires_keras']}, tf.keras is keras: {same})"
        )
        torch_side = (
            "torch requires none of the high-level training libraries (Lightning, fastai, Ignite)"
            if not bundled
            else f"torch requires {', '.join(bundled)}"
        )
        return found | {"ok": ok, "detail": f"{tf_side}; {torch_side}."}

    return run_trial(trial, body)


# --- helpers ---------------------------------------------------------------------------------


def _tiny(ctx: Context) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    model = tiny_keras_model(tiny_weights(ctx.seed))
    x = tiny_input(ctx.seed)
    return model, x, np.asarray(model(x, training=False))


def _signature_ops(exported: str) -> tuple[str, str]:
    """The graph operations behind the serving signature's one input and one output."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(Path(exported, "saved_model.pb").read_bytes())
    (meta,) = [m for m in proto.meta_graphs if "serve" in m.meta_info_def.tags]
    signature = meta.signature_def["serving_default"]
    ((_, feed),) = signature.inputs.items()
    ((_, fetch),) = signature.outputs.items()
    return feed.name.split(":")[0], fetch.name.split(":")[0]


def _run_tfjs(node: str, folder: str, x: np.ndarray, graph_model: str | None, seed: int) -> dict:
    w = tiny_weights(seed)
    train_x = tiny_input(seed + 1, batch=16)
    payload = {
        "weights": {k: _tensor(v) for k, v in w.items()} | {"input_shape": list(INPUT_SHAPE)},
        "input": _tensor(x),
        "train_x": _tensor(train_x),
        "train_y": _tensor(np.zeros((16, w["dense_bias"].shape[0]), np.float32)),
        "learning_rate": 0.01,
        "batch_size": 8,
        "epochs": 3,
        "graph_model": graph_model,
    }
    path = os.path.join(folder, "tfjs-payload.json")
    Path(path).write_text(json.dumps(payload), encoding="utf-8")
    env = {"NODE_PATH": str(external.cache_dir() / "npm" / "node_modules")}
    found = external.run([node, str(HERE / "js" / "tfjs_run.cjs"), path], TIMEOUT_S, env).result()
    if "error" in found:
        raise RuntimeError(f"TensorFlow.js failed in Node.js: {found['error']}")
    return found


def _tensor(a: np.ndarray) -> dict:
    return {"data": np.asarray(a, np.float32).ravel().tolist(), "shape": list(a.shape)}


def _child_env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(external.ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def _child_result(child: external.Finished) -> dict:
    try:
        return child.result()
    except RuntimeError as exc:
        return {"error": f"the converter process {exc}"}


def _site_versions(site: Path, names: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for dist in importlib.metadata.distributions(path=[str(site)]):
        name = dist.metadata["Name"].replace("-", "_").lower()
        if name in names:
            found[dist.metadata["Name"]] = dist.version
    return found


def _pins(site: Path) -> str:
    """What the converter's installed dependencies require of TensorFlow, if they pin it."""
    pins = []
    for dist in importlib.metadata.distributions(path=[str(site)]):
        for requirement in dist.requires or []:
            if _req_name(requirement) == "tensorflow" and "==" in requirement:
                pins.append(f"{dist.metadata['Name']} {dist.version} requires {requirement}")
    return f" ({'; '.join(sorted(pins))})" if pins else ""


def _distribution_of(module: str) -> str:
    names = importlib.metadata.packages_distributions().get(module, [])
    return names[0] if names else module


def _requirements(dist: str) -> list[str] | None:
    try:
        return [
            _req_name(r) for r in importlib.metadata.requires(dist) or [] if "extra ==" not in r
        ]
    except importlib.metadata.PackageNotFoundError:
        return None


def _req_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower()


def _convert(payload: dict) -> dict:
    """In a child process: import the converter from the cache and convert the SavedModel."""
    sys.path.append(payload["site"])
    try:
        import tensorflowjs
        from tensorflowjs.converters import convert_tf_saved_model
    except Exception as exc:  # the finding: which dependency breaks, and how
        line = " ".join(str(exc).replace(payload["site"] + os.sep, "").split())[:300]
        return {"error": f"importing tensorflowjs failed: {type(exc).__name__}: {line}"}
    convert_tf_saved_model(payload["saved_model"], payload["out"])
    return {"tensorflowjs": tensorflowjs.__version__, "files": sorted(os.listdir(payload["out"]))}


if __name__ == "__main__":
    from verify.benchmarks.probekit import child_main

    child_main(_convert)
