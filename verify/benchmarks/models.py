"""Framework-neutral model architectures, seeded weights and probe inputs (numpy only).

A ``ModelSpec`` is a flat tuple of layers; each framework module walks it in order and builds the
same network. ``init_weights`` returns one array list in the canonical layout below, consumed in the
same walk order by both frameworks:

- ``Conv``:      kernel ``(out, in, kh, kw)`` (OIHW, PyTorch's layout), bias ``(out,)``
- ``BatchNorm``: gamma, beta, running mean, running variance, each ``(channels,)``; epsilon 1e-5
- ``Dense``:     weight ``(out, in)`` (PyTorch's layout), bias ``(out,)``
- ``Residual``:  conv1, bn1, conv2, bn2, then (only when ``projection``) shortcut conv and bn

``Dense`` after ``Flatten`` reads features in NCHW order (channel, row, column); the channels-last
side permutes that weight's rows once at load time instead of adding a transpose to the graph.
Padding is symmetric, as in PyTorch; a stride-2 convolution needs explicit padding on the
channels-last side because "same" padding there puts the extra row at the bottom only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BN_EPSILON = 1e-5
MODELS = ("small-cnn", "resnet")


@dataclass(frozen=True)
class Conv:
    """2-D convolution with bias and symmetric zero padding."""

    cin: int
    cout: int
    kernel: int = 3
    stride: int = 1
    pad: int = 1


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalisation over channels (inference mode uses the stored statistics)."""

    channels: int


@dataclass(frozen=True)
class ReLU:
    """Rectified linear unit."""


@dataclass(frozen=True)
class MaxPool:
    """Max pooling with a square window and equal stride, remainder rows dropped."""

    size: int = 2


@dataclass(frozen=True)
class Residual:
    """Basic residual block: two 3x3 conv+BN, shortcut projected by a 1x1 conv+BN on a shape change."""

    cin: int
    cout: int
    stride: int = 1

    @property
    def projection(self) -> bool:
        """Whether the shortcut needs a 1x1 convolution."""
        return self.stride != 1 or self.cin != self.cout


@dataclass(frozen=True)
class GlobalAvgPool:
    """Mean over the spatial dimensions."""


@dataclass(frozen=True)
class Flatten:
    """Flatten (channels, rows, columns) into one feature vector."""

    channels: int
    height: int
    width: int


@dataclass(frozen=True)
class Dense:
    """Fully connected layer with bias."""

    fin: int
    fout: int


Layer = Conv | BatchNorm | ReLU | MaxPool | Residual | GlobalAvgPool | Flatten | Dense


@dataclass(frozen=True)
class ModelSpec:
    """A named architecture for a given input (channels, size) and class count."""

    name: str
    channels: int
    classes: int
    size: int
    layers: tuple[Layer, ...]


def small_cnn(channels: int, classes: int, size: int, widths=(32, 64, 64), hidden=128) -> ModelSpec:
    """A few conv+relu+maxpool stages and a two-layer dense head, as in the cited comparisons."""
    layers: list[Layer] = []
    cin, side = channels, size
    for width in widths:
        layers += [Conv(cin, width), ReLU(), MaxPool(2)]
        cin, side = width, side // 2
    if side < 1:
        raise ValueError(f"input size {size} is too small for {len(widths)} pooling stages")
    layers += [Flatten(cin, side, side), Dense(cin * side * side, hidden), ReLU()]
    layers.append(Dense(hidden, classes))
    return ModelSpec("small-cnn", channels, classes, size, tuple(layers))


def resnet(channels: int, classes: int, size: int, widths=(16, 32, 64)) -> ModelSpec:
    """A CIFAR-style ResNet: conv stem, one basic block per width, global average pool, dense."""
    layers: list[Layer] = [Conv(channels, widths[0]), BatchNorm(widths[0]), ReLU()]
    cin = widths[0]
    for i, width in enumerate(widths):
        layers.append(Residual(cin, width, stride=1 if i == 0 else 2))
        cin = width
    layers += [GlobalAvgPool(), Dense(cin, classes)]
    return ModelSpec("resnet", channels, classes, size, tuple(layers))


def build_spec(name: str, channels: int, classes: int, size: int) -> ModelSpec:
    """The spec for a model name in ``MODELS``."""
    if name == "small-cnn":
        return small_cnn(channels, classes, size)
    if name == "resnet":
        return resnet(channels, classes, size)
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")


def block_layers(block: Residual) -> tuple[list[Layer], list[Layer]]:
    """The main path and the shortcut path of a residual block, as plain layers."""
    main: list[Layer] = [
        Conv(block.cin, block.cout, 3, block.stride, 1),
        BatchNorm(block.cout),
        ReLU(),
        Conv(block.cout, block.cout, 3, 1, 1),
        BatchNorm(block.cout),
    ]
    short: list[Layer] = []
    if block.projection:
        short = [Conv(block.cin, block.cout, 1, block.stride, 0), BatchNorm(block.cout)]
    return main, short


def param_shapes(spec: ModelSpec) -> list[tuple[str, tuple[int, ...]]]:
    """(kind, shape) of every weight array, in canonical order."""
    out: list[tuple[str, tuple[int, ...]]] = []

    def visit(layer: Layer) -> None:
        if isinstance(layer, Conv):
            out.append(("conv_kernel", (layer.cout, layer.cin, layer.kernel, layer.kernel)))
            out.append(("bias", (layer.cout,)))
        elif isinstance(layer, BatchNorm):
            for kind in ("bn_gamma", "bn_beta", "bn_mean", "bn_var"):
                out.append((kind, (layer.channels,)))
        elif isinstance(layer, Dense):
            out.append(("dense_kernel", (layer.fout, layer.fin)))
            out.append(("bias", (layer.fout,)))
        elif isinstance(layer, Residual):
            main, short = block_layers(layer)
            for inner in main + short:
                visit(inner)

    for layer in spec.layers:
        visit(layer)
    return out


def init_weights(spec: ModelSpec, seed: int) -> list[np.ndarray]:
    """Seeded float32 weights in canonical layout: He-normal kernels, non-trivial biases and BN."""
    rng = np.random.default_rng(seed)
    weights = []
    for kind, shape in param_shapes(spec):
        if kind in ("conv_kernel", "dense_kernel"):
            fan_in = int(np.prod(shape[1:]))
            w = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
        elif kind == "bn_gamma":
            w = rng.uniform(0.8, 1.2, shape)
        elif kind == "bn_var":
            w = rng.uniform(0.5, 1.5, shape)
        else:  # biases, BN beta and mean: small but non-zero so a misplaced array shows
            w = rng.uniform(-0.1, 0.1, shape)
        weights.append(w.astype(np.float32))
    return weights


def parameter_count(spec: ModelSpec) -> int:
    """Number of scalars in the canonical weight list (BN statistics included)."""
    return sum(int(np.prod(shape)) for _, shape in param_shapes(spec))


def make_input(batch: int, channels: int, size: int, seed: int) -> np.ndarray:
    """A fixed NCHW float32 probe batch drawn from a standard normal."""
    rng = np.random.default_rng([seed, 1])
    return rng.standard_normal((batch, channels, size, size), dtype=np.float32)


def make_dataset(
    samples: int, channels: int, size: int, classes: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A fixed synthetic training set: NCHW float32 images and int64 labels."""
    rng = np.random.default_rng([seed, 2])
    labels = rng.integers(0, classes, samples).astype(np.int64)
    images = rng.standard_normal((samples, channels, size, size), dtype=np.float32)
    # A per-class offset makes the labels learnable, so training stays in a normal regime.
    images += (labels.astype(np.float32) / classes - 0.5)[:, None, None, None]
    return images, labels


def to_nhwc(x: np.ndarray) -> np.ndarray:
    """NCHW -> NHWC copy, contiguous."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
