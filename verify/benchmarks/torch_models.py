"""PyTorch modules for the specs in ``models`` and loading of the canonical weights."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from verify.benchmarks import models as m
from verify.benchmarks.context import Context, NotCheckable, cpu_name


def configure(ctx: Context) -> torch.device:
    """Set the thread counts from ``ctx`` and pick its device; call before any op runs."""
    if ctx.scratch:
        # A private inductor cache: compile_s then measures a cold compile in every worker instead
        # of whatever earlier runs on this machine left in the shared cache.
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(ctx.scratch, "inductor-cache")
    torch.set_num_threads(ctx.threads)
    try:
        torch.set_num_interop_threads(ctx.threads)
    except RuntimeError:
        pass  # settable once per process; runtime_info() reads back what is in force
    if ctx.device == "cuda":
        if not torch.cuda.is_available():
            raise NotCheckable("device cuda requested but this torch build sees no CUDA GPU")
        # cuDNN convolutions use TensorFloat-32 by default; fp32 means full single precision
        tf32 = ctx.precision == "tf32"
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        return torch.device("cuda")
    if ctx.device != "cpu":
        raise NotCheckable(f"device {ctx.device!r} is not supported by these benchmarks")
    return torch.device("cpu")


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work; a no-op on CPU, where torch runs ops synchronously."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def runtime_info(device: torch.device) -> dict:
    """Version, layout, thread counts read back from torch, and device name."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    return {
        "framework": "torch",
        "version": torch.__version__,
        "layout": "NCHW",
        "intra_op_threads": torch.get_num_threads(),
        "inter_op_threads": torch.get_num_interop_threads(),
        "device": device.type,
        "device_name": name,
        "compile_cache": os.environ.get("TORCHINDUCTOR_CACHE_DIR", "default"),
        "tf32": bool(torch.backends.cudnn.allow_tf32) if device.type == "cuda" else None,
    }


class _Block(nn.Module):
    """Basic residual block: relu(main(x) + shortcut(x))."""

    def __init__(self, main: nn.Sequential, short: nn.Sequential) -> None:
        super().__init__()
        self.main = main
        self.short = short

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.main(x) + self.short(x))


def _module(layer: m.Layer) -> nn.Module:
    if isinstance(layer, m.Conv):
        return nn.Conv2d(layer.cin, layer.cout, layer.kernel, layer.stride, layer.pad)
    if isinstance(layer, m.BatchNorm):
        return nn.BatchNorm2d(layer.channels, eps=m.BN_EPSILON, momentum=0.1)
    if isinstance(layer, m.ReLU):
        return nn.ReLU()
    if isinstance(layer, m.MaxPool):
        return nn.MaxPool2d(layer.size)
    if isinstance(layer, m.Residual):
        main, short = m.block_layers(layer)
        return _Block(_sequential(main), _sequential(short))
    if isinstance(layer, m.GlobalAvgPool):
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if isinstance(layer, m.Flatten):
        return nn.Flatten()
    if isinstance(layer, m.Dense):
        return nn.Linear(layer.fin, layer.fout)
    raise TypeError(f"no PyTorch module for {layer!r}")


def _sequential(layers: list[m.Layer]) -> nn.Sequential:
    return nn.Sequential(*(_module(layer) for layer in layers))


def _targets(module: nn.Module) -> Iterator[torch.Tensor]:
    """Parameter and buffer tensors in canonical order (module registration order is walk order)."""
    for sub in module.modules():
        if isinstance(sub, nn.Conv2d | nn.Linear):
            yield sub.weight
            yield sub.bias
        elif isinstance(sub, nn.BatchNorm2d):
            yield from (sub.weight, sub.bias, sub.running_mean, sub.running_var)


def build(spec: m.ModelSpec, weights: list[np.ndarray] | None = None) -> nn.Sequential:
    """The spec as an ``nn.Sequential`` in eval mode, with ``weights`` loaded when given."""
    model = _sequential(list(spec.layers)).eval()
    if weights is not None:
        load_weights(model, weights)
    return model


def load_weights(model: nn.Module, weights: list[np.ndarray]) -> None:
    """Copy canonical-layout arrays into the model's parameters and BN statistics."""
    targets = list(_targets(model))
    if len(targets) != len(weights):
        raise ValueError(f"model has {len(targets)} weight tensors, got {len(weights)} arrays")
    with torch.no_grad():
        for target, array in zip(targets, weights, strict=True):
            if tuple(target.shape) != array.shape:
                raise ValueError(f"shape mismatch: {tuple(target.shape)} vs {array.shape}")
            target.copy_(torch.from_numpy(array))


def parameter_count(model: nn.Module) -> int:
    """Scalars in parameters and floating-point buffers (BN statistics), as the spec counts them."""
    return sum(t.numel() for t in model.state_dict().values() if t.is_floating_point())


LAYOUTS = ("contiguous", "channels_last")


def memory_format(params: dict) -> torch.memory_format:
    """The memory layout a check asks for (``torch_memory_format``): PyTorch's default NCHW
    (contiguous) unless it names channels_last, which reorders activations and weights as NHWC."""
    name = str(params.get("torch_memory_format", "contiguous"))
    if name not in LAYOUTS:
        raise ValueError(f"torch_memory_format must be one of {', '.join(LAYOUTS)}, not {name!r}")
    return torch.channels_last if name == "channels_last" else torch.contiguous_format
