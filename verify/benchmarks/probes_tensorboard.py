"""TensorBoard logging from both frameworks: scalars written by PyTorch's SummaryWriter and by
tf.summary, each in a fresh process of its own, read back with TensorBoard's event reader.

The parent imports neither framework; it reads the two event folders with
``tensorboard.backend.event_processing.plugin_event_accumulator`` (the reader TensorBoard's
scalar dashboard uses) and compares steps and values with what was written.
"""

from __future__ import annotations

import os

import numpy as np

from verify.benchmarks.context import Context, NotCheckable
from verify.benchmarks.probekit import (
    Trial,
    child_main,
    compare,
    require,
    run_children,
    run_trial,
    scratch_dir,
    versions,
)

WRITERS = {"torch": "torch.utils.tensorboard.SummaryWriter", "tensorflow": "tf.summary"}
TAG = "probe/loss"
TIMEOUT_S = 120.0


def run(name: str, params: dict, ctx: Context) -> dict:
    """Run the TensorBoard probe (only tensorboard-logging)."""
    if name != "tensorboard-logging":
        raise ValueError(f"{name!r} is not a TensorBoard probe; expected 'tensorboard-logging'")
    return tensorboard_logging(params, ctx)


def tensorboard_logging(params: dict, ctx: Context) -> dict:
    """Both frameworks write the same scalars; TensorBoard's reader must give them back."""
    require("tensorboard", "it reads the event files (and torch's SummaryWriter needs it)")
    writers = params.get("writers", list(WRITERS))
    if not writers or any(w not in WRITERS for w in writers):
        raise ValueError(f"writers must be a non-empty list of {sorted(WRITERS)}, not {writers!r}")
    steps = int(params.get("steps", 5))
    values = [float(np.float32(1.0 / (1 + step))) for step in range(steps)]
    trial = Trial(apis=("SummaryWriter", "tf.summary", "tensorboard"),
                  versions=versions("tensorboard", "torch", "tensorflow", "tensorflow-cpu"))  # fmt: skip

    def body(t: Trial) -> dict:
        with scratch_dir(ctx) as folder:
            payloads = [{"writer": w, "logdir": os.path.join(folder, f"tb-{w}"), "values": values}
                        for w in writers]  # fmt: skip
            t.step = "writing scalars in a fresh process per framework"
            env = {"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": str(max(1, ctx.threads))}
            written = run_children(
                __name__, payloads, env, float(params.get("timeout_s", TIMEOUT_S))
            )
            for payload, found in zip(payloads, written, strict=True):
                if "not_checkable" in found:
                    raise NotCheckable(found["not_checkable"])
                if "error" in found:
                    raise RuntimeError(
                        f"the {WRITERS[payload['writer']]} process: {found['error']}"
                    )
            t.step = "reading the event files with TensorBoard's reader"
            read = {p["writer"]: _read(p["logdir"]) for p in payloads}
        diff, problems = 0.0, []
        for writer, (got_steps, got_values) in read.items():
            if got_steps != list(range(steps)):
                problems.append(f"{WRITERS[writer]} gave steps {got_steps}")
                continue
            diff = max(diff, compare(np.asarray(values), np.asarray(got_values))[0])
        found = {"writers": writers, "read": {w: len(v[0]) for w, v in read.items()}}
        if problems:
            return found | {"ok": False, "detail": "TensorBoard's reader did not give back what "
                            f"was written: {'; '.join(problems)}."}  # fmt: skip
        names = " and ".join(WRITERS[w] for w in writers)
        return found | {
            "detail": f"{steps} scalars written with {names}, each in its own process, were read "
            f"back by TensorBoard {trial.versions.get('tensorboard', '?')}'s event reader with "
            "the same steps and values.",
            "max_abs_diff": diff,
            "tolerance": 1e-6,
        }

    return run_trial(trial, body)


def _read(logdir: str) -> tuple[list[int], list[float]]:
    """Steps and values of TAG in a run folder, as TensorBoard's scalar dashboard reads them."""
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.util import tensor_util

    accumulator = pea.EventAccumulator(logdir, size_guidance={pea.TENSORS: 0})
    accumulator.Reload()
    if TAG not in accumulator.Tags().get(pea.TENSORS, []):
        return [], []
    events = accumulator.Tensors(TAG)
    return [e.step for e in events], [
        float(tensor_util.make_ndarray(e.tensor_proto)) for e in events
    ]


def _child(payload: dict) -> dict:
    """In a fresh process: write the scalars with one framework's TensorBoard writer."""
    import importlib.util

    writer, logdir, values = payload["writer"], payload["logdir"], payload["values"]
    module = "torch" if writer == "torch" else "tensorflow"
    if importlib.util.find_spec(module) is None:
        raise NotCheckable(f"{module} is not installed here, so {WRITERS[writer]} cannot run")
    if writer == "torch":
        from torch.utils.tensorboard import SummaryWriter

        out = SummaryWriter(logdir)
        for step, value in enumerate(values):
            out.add_scalar(TAG, value, step)
        out.close()
    else:
        import tensorflow as tf

        out = tf.summary.create_file_writer(logdir)
        with out.as_default():
            for step, value in enumerate(values):
                tf.summary.scalar(TAG, value, step=step)
        out.close()
    return {"files": sorted(os.listdir(logdir))}


if __name__ == "__main__":
    child_main(_child)
