"""TensorFlow probes: SavedModel, TFLite / LiteRT, tf2onnx and XLA on a tiny Keras 3 network.

Each probe builds the tiny network from ``probes.tiny_weights`` in Keras on the TensorFlow backend,
does the capability on the installed versions and compares the result with the Keras output.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"

import importlib.util  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from verify.benchmarks.context import Context, NotCheckable  # noqa: E402
from verify.benchmarks.probekit import (  # noqa: E402
    INPUT_SHAPE,
    Trial,
    compare,
    require,
    run_trial,
    scratch_dir,
    tiny_input,
    tiny_weights,
)
from verify.benchmarks.probekit import versions as _versions  # noqa: E402
from verify.benchmarks.probes_keras import tiny_keras_model  # noqa: E402

if keras.backend.backend() != "tensorflow":  # keras was imported earlier with another backend
    raise RuntimeError(f"Keras runs on {keras.backend.backend()!r}; these probes need tensorflow")

# Relative tolerances of the quantized TFLite variants: their weights are rounded on purpose.
QUANTIZED_RTOL = {"none": 1e-4, "float16": 1e-2, "dynamic": 5e-2}


def run(name: str, params: dict, ctx: Context) -> dict:
    """Run the TensorFlow probe ``name``."""
    probes = {
        "savedmodel": savedmodel,
        "tflite-convert": tflite_convert,
        "tf2onnx-export": tf2onnx_export,
        "xla-jit": xla_jit,
    }
    if name not in probes:
        raise ValueError(f"{name!r} is not a TensorFlow probe; expected one of {sorted(probes)}")
    if ctx.device != "cpu":  # the TensorFlow on the project's machines is the CPU build
        raise NotCheckable(f"the TensorFlow probes run on the CPU only, not {ctx.device!r}")
    for setter in (
        tf.config.threading.set_intra_op_parallelism_threads,
        tf.config.threading.set_inter_op_parallelism_threads,
    ):
        try:
            setter(max(1, ctx.threads))
        except RuntimeError:
            pass  # fixed once the runtime has started in this process
    return probes[name](params, ctx)


def savedmodel(params: dict, ctx: Context) -> dict:
    """Keras Model.export as a SavedModel -> tf.saved_model.load -> serving signature."""
    signature = params.get("signature", "serving_default")
    trial = Trial(apis=("saved_model", "SavedModel", "Model.export"), versions=versions())

    def body(t: Trial) -> dict:
        model, x, expected = _tiny(ctx)
        with scratch_dir(ctx) as folder:
            path = os.path.join(folder, "tiny-savedmodel")
            t.step = "keras Model.export(format='tf_saved_model')"
            model.export(path, format="tf_saved_model", verbose=False)
            t.step = "tf.saved_model.load"
            loaded = tf.saved_model.load(path)
        if signature not in loaded.signatures:
            have = ", ".join(sorted(loaded.signatures)) or "none"
            return {
                "ok": False,
                "detail": f"The SavedModel has no {signature!r} signature ({have}).",
            }
        t.step = f"calling the {signature!r} signature"
        function = loaded.signatures[signature]
        (input_name,) = function.structured_input_signature[1]
        (got,) = function(**{input_name: tf.constant(x)}).values()
        diff, tol = compare(expected, got.numpy())
        return {
            "detail": f"Keras exported a SavedModel whose {signature!r} signature, reloaded with "
            "tf.saved_model.load, gave outputs matching Keras.",
            "max_abs_diff": diff,
            "tolerance": tol,
            "signature": signature,
        }

    return run_trial(trial, body)


def tflite_convert(params: dict, ctx: Context) -> dict:
    """TFLiteConverter on the exported SavedModel; run the flatbuffer with a LiteRT interpreter."""
    quantize = params.get("quantize", "none")
    if quantize not in QUANTIZED_RTOL:
        raise ValueError(f"quantize must be one of {sorted(QUANTIZED_RTOL)}, not {quantize!r}")
    run_it = bool(params.get("run_interpreter", True))
    trial = Trial(
        apis=("tf.lite", "TFLite", "TensorFlow Lite", "TFLiteConverter"),
        versions=versions("ai-edge-litert"),
    )

    def body(t: Trial) -> dict:
        model, x, expected = _tiny(ctx)
        with scratch_dir(ctx) as folder:
            path = os.path.join(folder, "tiny-savedmodel")
            t.step = "keras Model.export(format='tf_saved_model')"
            model.export(path, format="tf_saved_model", verbose=False)
            t.step = "tf.lite.TFLiteConverter.from_saved_model"
            converter = tf.lite.TFLiteConverter.from_saved_model(path)
            if quantize != "none":
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            if quantize == "float16":
                converter.target_spec.supported_types = [tf.float16]
            t.step = "TFLiteConverter.convert"
            flatbuffer = converter.convert()
        found = {"quantize": quantize, "model_bytes": len(flatbuffer), "interpreter": None}
        made = f"The TFLite converter wrote a {len(flatbuffer)}-byte model"
        t.step = "tf.lite.Interpreter"
        legacy = _legacy_interpreter(t, flatbuffer)
        if not run_it:
            return {**found, "detail": f"{made}; running it was not asked for."}
        t.step = "loading a LiteRT interpreter"
        if importlib.util.find_spec("ai_edge_litert") is not None:
            from ai_edge_litert.interpreter import Interpreter

            found["interpreter"] = "ai_edge_litert"
            interpreter = Interpreter(model_content=flatbuffer)
        elif legacy is not None:
            found["interpreter"], interpreter = "tf.lite.Interpreter", legacy
        else:
            return {**found, "detail": f"{made}, but no interpreter is installed to run it."}
        t.step = f"running the model with {found['interpreter']}"
        got = _invoke(interpreter, x)
        diff, tol = compare(expected, got, rtol=QUANTIZED_RTOL[quantize])
        return {
            **found,
            "detail": f"{made}, which {found['interpreter']} ran with outputs matching Keras.",
            "max_abs_diff": diff,
            "tolerance": tol,
        }

    return run_trial(trial, body)


def tf2onnx_export(params: dict, ctx: Context) -> dict:
    """tf2onnx from the Keras model (or its tf.function) -> ONNX Runtime, compared with Keras."""
    require("tf2onnx", "it converts TensorFlow graphs to ONNX")
    require("onnxruntime", "it runs the converted model")
    trial = Trial(apis=("tf2onnx",), versions=versions("tf2onnx", "onnx", "onnxruntime"))
    opset = params.get("opset")

    def body(t: Trial) -> dict:
        t.step = "import tf2onnx"
        try:
            import tf2onnx
        except Exception as exc:  # an installed tf2onnx that breaks on these versions
            raise NotCheckable(
                f"tf2onnx {trial.versions.get('tf2onnx')} does not import with TensorFlow "
                f"{tf.__version__}: {type(exc).__name__}: {exc}"
            ) from exc
        import onnxruntime as ort

        model, x, expected = _tiny(ctx)
        spec = (tf.TensorSpec((None, *INPUT_SHAPE), tf.float32, name="x"),)
        options = {"input_signature": spec, "opset": None if opset is None else int(opset)}
        t.step = "tf2onnx.convert.from_keras"
        route, keras_error = "from_keras", None
        try:
            proto, _ = tf2onnx.convert.from_keras(model, **options)
        except Exception as exc:  # noted; the tf.function route below is the documented fallback
            keras_error = f"{type(exc).__name__}: {exc}"
            t.notes.append(
                f"tf2onnx.convert.from_keras failed on a Keras {keras.__version__} model "
                f"({keras_error}); converted the model's tf.function with from_function instead"
            )
            route = "from_function"
            t.step = "tf2onnx.convert.from_function"
            function = tf.function(lambda x: model(x, training=False))
            proto, _ = tf2onnx.convert.from_function(function, **options)
        t.step = "running the converted model in ONNX Runtime"
        session = ort.InferenceSession(
            proto.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        used = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
        diff, tol = compare(expected, got)
        how = "" if keras_error is None else f" (from_keras failed: {keras_error})"
        return {
            "detail": f"tf2onnx.convert.{route} converted the Keras model to ONNX opset {used}"
            f"{how}, and ONNX Runtime's outputs matched Keras.",
            "max_abs_diff": diff,
            "tolerance": tol,
            "route": route,
            "from_keras_error": keras_error,
            # the claimed path is from_keras; a model that only converts through its
            # tf.function is judged "only through a fallback", never a plain holds
            "fallback": None
            if keras_error is None
            else f"tf2onnx.convert.from_keras failed ({keras_error}); "
            "tf2onnx.convert.from_function converted the model's tf.function",
            "opset": used,
        }

    return run_trial(trial, body)


def xla_jit(params: dict, ctx: Context) -> dict:
    """tf.function(jit_compile=True) against the same function without XLA."""
    framework = params.get("framework", "tensorflow")
    if framework != "tensorflow":
        package = {"torch": "torch_xla", "jax": "jax"}.get(framework, framework)
        if importlib.util.find_spec(package) is None:
            raise NotCheckable(f"XLA through {framework} needs {package}, which is not installed")
        raise NotCheckable(f"this probe compiles with XLA through TensorFlow only, not {framework}")
    trial = Trial(apis=("jit_compile", "XLA", "experimental_compile"), versions=versions())

    def body(t: Trial) -> dict:
        model, x, _ = _tiny(ctx)
        x = tf.constant(x)
        plain = tf.function(lambda v: model(v, training=False))
        compiled = tf.function(lambda v: model(v, training=False), jit_compile=True)
        t.step = "tf.function without XLA"
        expected = plain(x).numpy()
        t.step = "tf.function(jit_compile=True), first call"
        start = time.perf_counter()
        compiled(x)
        compile_s = time.perf_counter() - start
        got = compiled(x).numpy()
        t.step = "reading the XLA HLO"
        hlo = compiled.experimental_get_compiler_ir(x)(stage="hlo")
        diff, tol = compare(expected, got)
        return {
            "detail": f"tf.function(jit_compile=True) compiled the model with XLA in {compile_s:.1f} s "
            "and its outputs matched the uncompiled tf.function.",
            "max_abs_diff": diff,
            "tolerance": tol,
            "compile_s": round(compile_s, 3),
            "hlo_lines": len(hlo.splitlines()),
        }

    return run_trial(trial, body)


def versions(*more: str) -> dict[str, str]:
    """TensorFlow and Keras versions (whatever the TensorFlow wheel is called) plus ``more``."""
    return {"tensorflow": tf.__version__, "keras": keras.__version__, **_versions(*more)}


def _tiny(ctx: Context) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    model = tiny_keras_model(tiny_weights(ctx.seed))
    x = tiny_input(ctx.seed)
    return model, x, np.asarray(model(x, training=False))


def _legacy_interpreter(t: Trial, flatbuffer: bytes):
    """tf.lite.Interpreter on the model, if this TensorFlow still has it (its warning is recorded)."""
    legacy = getattr(tf.lite, "Interpreter", None)
    if legacy is None:
        t.notes.append(
            f"tf.lite.Interpreter is no longer supported: TensorFlow {tf.__version__} has removed "
            "it; use the LiteRT interpreter from the ai-edge-litert package"
        )
        return None
    return legacy(model_content=flatbuffer)


def _invoke(interpreter, x: np.ndarray) -> np.ndarray:
    """Run a TFLite flatbuffer interpreter (LiteRT or tf.lite) on one batch."""
    (source,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(source["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], x)
    interpreter.invoke()
    (sink,) = interpreter.get_output_details()
    return interpreter.get_tensor(sink["index"]).copy()
