"""Distributed training probes: a few data-parallel steps, then check the replicas agree.

- ``torch-ddp``: ``world_size`` processes, DistributedDataParallel over gloo on the CPU (nccl on
  GPUs), rendezvous through a file in the scratch folder and gloo bound to the loopback interface.
  Each rank starts from different random weights, so agreement at the end shows DDP's broadcast
  and gradient all-reduce at work, not a shared seed.
- ``tf-mirrored``: ``tf.distribute.MirroredStrategy`` over ``world_size`` devices; on the CPU one
  physical CPU is split into that many logical devices. Keras ``fit`` trains; every variable's
  per-replica copies must agree.
- ``tf-multiworker``: not run; see ``tf_multiworker``.

Every rank runs in a fresh process (``python -m verify.benchmarks.distributed``), killed on timeout.
"""

from __future__ import annotations

import os
import socket
import warnings
from datetime import timedelta

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
    unique_warnings,
    versions,
)

KIND = "probe"  # see verify.benchmarks.contract
PROBES: dict[str, str] = {
    "torch-ddp": "torch",
    "tf-mirrored": "tensorflow",
    "tf-multiworker": "tensorflow",
}
STEPS = 5
TIMEOUT_S = 180.0
FEATURES, HIDDEN, SAMPLES_PER_RANK = 6, 16, 32


def approach_of(params: dict) -> str:
    """The approach a distributed-capability check names (default torch-ddp)."""
    approach = params.get("approach", "torch-ddp")
    if approach not in PROBES:
        raise ValueError(f"approach must be one of {sorted(PROBES)}, not {approach!r}")
    return approach


def probe(name: str, params: dict, ctx: Context) -> dict:
    """Run ``distributed-capability`` (params["approach"]) or an approach named directly."""
    approach = name if name in PROBES else approach_of(params)
    world = int(params.get("world_size", 2))
    devices = params.get("devices", "cpu")
    if devices not in ("cpu", "gpu"):
        raise ValueError(f"devices must be 'cpu' or 'gpu', not {devices!r}")
    timeout = float(params.get("timeout_s", TIMEOUT_S))
    run = {"torch-ddp": torch_ddp, "tf-mirrored": tf_mirrored, "tf-multiworker": tf_multiworker}
    return run[approach](world, devices, timeout, ctx)


def torch_ddp(world: int, devices: str, timeout: float, ctx: Context) -> dict:
    """DistributedDataParallel across ``world`` processes; replicas must end identical."""
    require("torch", "DistributedDataParallel is part of it")
    import torch.distributed as dist

    if devices == "gpu":
        import torch

        if torch.cuda.device_count() < world:
            raise NotCheckable(
                f"{world} GPU processes need {world} GPUs; this machine has "
                f"{torch.cuda.device_count()}"
            )
        backend = "nccl"
    else:
        backend = "gloo"
    if not dist.is_available() or not dist.is_backend_available(backend):
        raise NotCheckable(f"this torch build has no {backend} backend for torch.distributed")
    trial = Trial(
        apis=("DistributedDataParallel", "torch.distributed", "init_process_group"),
        versions=versions("torch"),
    )

    def body(t: Trial) -> dict:
        t.step = f"training {world} DDP processes over {backend}"
        with scratch_dir(ctx) as folder:
            store = os.path.join(folder, f"ddp-rendezvous-{os.getpid()}")
            if os.path.exists(store):  # a stale store from an earlier run would confuse ranks
                os.remove(store)
            payloads = [
                {"approach": "torch-ddp", "rank": rank, "world_size": world, "store": store}
                | {"backend": backend, "devices": devices, "seed": ctx.seed}
                for rank in range(world)
            ]
            env = _child_env(ctx, devices) | {"GLOO_SOCKET_IFNAME": _loopback()}
            ranks = run_children(__name__, payloads, env, timeout)
        for rank, found in enumerate(ranks):
            _raise_child_failure(found, f"rank {rank}")
            t.notes.extend(found["warnings"])
        diff, tol = 0.0, 0.0
        for found in ranks[1:]:
            d, tol = compare(np.asarray(ranks[0]["params"]), np.asarray(found["params"]), 1e-6)
            diff = max(diff, d)
        before, after = ranks[0]["loss_before"], ranks[0]["loss_after"]
        found = {
            "world_size": world,
            "backend": backend,
            "loss_before": before,
            "loss_after": after,
        }
        if not after < before:
            return found | {
                "ok": False,
                "detail": f"DDP training did not lower the loss ({before:.4g} -> {after:.4g}).",
            }
        return found | {
            "detail": f"DistributedDataParallel over {backend} trained {world} processes for "
            f"{STEPS} steps; their parameters agree and the loss fell from {before:.3g} to "
            f"{after:.3g}.",
            "max_abs_diff": diff,
            "tolerance": tol,
        }

    return run_trial(trial, body)


def tf_mirrored(world: int, devices: str, timeout: float, ctx: Context) -> dict:
    """MirroredStrategy over ``world`` devices in one fresh process; replicas must agree."""
    require("tensorflow", "tf.distribute is part of it")
    trial = Trial(apis=("MirroredStrategy", "tf.distribute"), versions=versions("keras"))

    def body(t: Trial) -> dict:
        t.step = f"training with MirroredStrategy over {world} {devices} devices"
        payload = {"approach": "tf-mirrored", "world_size": world, "devices": devices}
        payload["seed"] = ctx.seed
        env = _child_env(ctx, devices) | {"KERAS_BACKEND": "tensorflow"}
        (found,) = run_children(__name__, [payload], env, timeout)
        _raise_child_failure(found, "the MirroredStrategy process")
        t.notes.extend(found["warnings"])
        t.versions.update(found["versions"])
        before, after, replicas = found["loss_before"], found["loss_after"], found["replicas"]
        summary = {
            "world_size": world,
            "replicas": replicas,
            "loss_before": before,
            "loss_after": after,
        }
        if replicas != world:
            return summary | {
                "ok": False,
                "detail": f"MirroredStrategy ran {replicas} replicas, not {world}.",
            }
        if not after < before:
            return summary | {
                "ok": False,
                "detail": f"Training did not lower the loss ({before:.4g} -> {after:.4g}).",
            }
        return summary | {
            "detail": f"MirroredStrategy trained a Keras model on {replicas} {devices} replicas; "
            f"their variables agree and the loss fell from {before:.3g} to {after:.3g}.",
            "max_abs_diff": found["replica_diff"],
            "tolerance": 1e-6 * max(1.0, found["weight_scale"]),
        }

    return run_trial(trial, body)


def tf_multiworker(world: int, devices: str, timeout: float, ctx: Context) -> dict:
    """Not run: MultiWorkerMirroredStrategy's gRPC servers listen on every network interface."""
    raise NotCheckable(
        "MultiWorkerMirroredStrategy starts gRPC servers that listen on all interfaces "
        "(0.0.0.0), and these probes bind only to 127.0.0.1"
    )


# --- child processes ---------------------------------------------------------------------------


def _child(payload: dict) -> dict:
    """In a fresh process: run one rank (torch) or the whole strategy (TensorFlow)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        work = _torch_rank if payload["approach"] == "torch-ddp" else _tf_mirrored_run
        found = work(payload)
    return found | {"warnings": unique_warnings(caught)}


def _torch_rank(p: dict) -> dict:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    rank, world = p["rank"], p["world_size"]
    device = torch.device(f"cuda:{rank}" if p["devices"] == "gpu" else "cpu")
    dist.init_process_group(
        p["backend"],
        init_method=f"file://{p['store']}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=60),
    )
    try:
        torch.manual_seed(p["seed"] + rank)  # different start per rank: DDP must broadcast rank 0's
        model = torch.nn.Sequential(
            torch.nn.Linear(FEATURES, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 1)
        ).to(device)
        ddp = DistributedDataParallel(model, device_ids=[rank] if device.type == "cuda" else None)
        x, y = (torch.from_numpy(a).to(device) for a in _data(p["seed"], world))
        shard = slice(rank, None, world)
        optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
        loss = torch.nn.functional.mse_loss
        with torch.no_grad():
            before = float(loss(model(x), y))
        for _ in range(STEPS):
            optimizer.zero_grad()
            loss(ddp(x[shard]), y[shard]).backward()
            optimizer.step()
        with torch.no_grad():
            after = float(loss(model(x), y))
        params = torch.cat([q.detach().flatten() for q in model.parameters()]).cpu().tolist()
    finally:
        dist.destroy_process_group()
    return {"rank": rank, "params": params, "loss_before": before, "loss_after": after}


def _tf_mirrored_run(p: dict) -> dict:
    import keras
    import tensorflow as tf

    world = p["world_size"]
    if p["devices"] == "gpu":
        names = [d.name for d in tf.config.list_logical_devices("GPU")]
        if len(names) < world:
            raise NotCheckable(
                f"{world} GPU replicas need {world} GPUs; TensorFlow sees {len(names)}"
            )
    else:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(world)]
        )
        names = [d.name for d in tf.config.list_logical_devices("CPU")]
    keras.utils.set_random_seed(p["seed"])
    strategy = tf.distribute.MirroredStrategy(devices=names[:world])
    with strategy.scope():
        model = keras.Sequential(
            [
                keras.Input((FEATURES,)),
                keras.layers.Dense(HIDDEN, activation="tanh"),
                keras.layers.Dense(1),
            ]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x, y = _data(p["seed"], world)
    before = float(model.evaluate(x, y, batch_size=len(x), verbose=0))
    model.fit(x, y, batch_size=len(x) // 2, epochs=STEPS, verbose=0, shuffle=False)
    after = float(model.evaluate(x, y, batch_size=len(x), verbose=0))
    diff, scale = 0.0, 0.0
    for variable in model.trainable_variables:
        copies = [c.numpy() for c in variable.value.values]  # one per replica
        scale = max(scale, float(np.abs(copies[0]).max()))
        diff = max([diff] + [float(np.abs(c - copies[0]).max()) for c in copies[1:]])
    return {
        "replicas": strategy.num_replicas_in_sync,
        "replica_diff": diff,
        "weight_scale": scale,
        "loss_before": before,
        "loss_after": after,
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
    }


def _data(seed: int, world: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed regression set, SAMPLES_PER_RANK rows per process."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((SAMPLES_PER_RANK * world, FEATURES)).astype(np.float32)
    y = np.tanh(x @ rng.standard_normal((FEATURES, 1))).astype(np.float32)
    return x, y


def _child_env(ctx: Context, devices: str) -> dict[str, str]:
    env = {"OMP_NUM_THREADS": str(max(1, ctx.threads))}
    if devices == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def _loopback() -> str:
    """The loopback interface's name ("lo" on Linux), so gloo listens on 127.0.0.1 only."""
    names = [name for _, name in socket.if_nameindex() if name.startswith("lo")]
    return names[0] if names else "lo"


def _raise_child_failure(found: dict, who: str) -> None:
    if "not_checkable" in found:
        raise NotCheckable(found["not_checkable"])
    if "error" in found:
        raise RuntimeError(f"{who}: {found['error']}")


if __name__ == "__main__":
    child_main(_child)
