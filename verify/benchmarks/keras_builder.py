"""Keras 3 models for the specs in ``models``, channels-last, on whichever backend Keras runs.

Channels-last (NHWC) is the Keras default and TensorFlow's native layout on CPU, so the canonical
weights are converted at load time: conv kernels OIHW -> HWIO, dense (out, in) -> (in, out),
and a dense layer after ``Flatten`` gets its rows permuted from (C, H, W) to (H, W, C) order.

Keras fixes its backend when it is first imported, so this module chooses none: ``keras_models``
(TensorFlow) and ``keras_jax_models`` (JAX) set ``KERAS_BACKEND``, import Keras and check it before
they import this builder, and a process uses one of them only.
"""

from __future__ import annotations

import keras
import numpy as np

from verify.benchmarks import models as m

# (keras layer, canonical layer, the Flatten before it or None), in canonical weight order.
_Loaded = list[tuple[keras.layers.Layer, m.Layer, m.Flatten | None]]


def _conv(layer: m.Conv, x, loaded: _Loaded):
    k, p = layer.kernel, layer.pad
    if p == 0:
        padding = "valid"
    elif layer.stride == 1 and k % 2 == 1 and p == k // 2:
        padding = "same"  # identical to symmetric padding only at stride 1
    else:
        x = keras.layers.ZeroPadding2D(p)(x)
        padding = "valid"
    conv = keras.layers.Conv2D(layer.cout, k, strides=layer.stride, padding=padding)
    loaded.append((conv, layer, None))
    return conv(x)


def _apply(layers: list[m.Layer], x, loaded: _Loaded):
    flatten: m.Flatten | None = None
    for layer in layers:
        if isinstance(layer, m.Conv):
            x = _conv(layer, x, loaded)
        elif isinstance(layer, m.BatchNorm):
            bn = keras.layers.BatchNormalization(epsilon=m.BN_EPSILON, momentum=0.9)
            loaded.append((bn, layer, None))
            x = bn(x)
        elif isinstance(layer, m.ReLU):
            x = keras.layers.ReLU()(x)
        elif isinstance(layer, m.MaxPool):
            x = keras.layers.MaxPooling2D(layer.size)(x)
        elif isinstance(layer, m.Residual):
            main, short = m.block_layers(layer)
            y = _apply(main, x, loaded)
            s = _apply(short, x, loaded) if short else x
            x = keras.layers.ReLU()(keras.layers.Add()([y, s]))
        elif isinstance(layer, m.GlobalAvgPool):
            x = keras.layers.GlobalAveragePooling2D()(x)
        elif isinstance(layer, m.Flatten):
            x = keras.layers.Flatten()(x)
            flatten = layer
            continue
        elif isinstance(layer, m.Dense):
            dense = keras.layers.Dense(layer.fout)
            loaded.append((dense, layer, flatten))
            x = dense(x)
        else:
            raise TypeError(f"no Keras layer for {layer!r}")
        flatten = None
    return x


def _convert(layer: m.Layer, arrays: list[np.ndarray], flatten: m.Flatten | None):
    if isinstance(layer, m.Conv):
        kernel, bias = arrays
        return [kernel.transpose(2, 3, 1, 0), bias]
    if isinstance(layer, m.Dense):
        weight, bias = arrays
        if flatten is not None:
            c, h, w = flatten.channels, flatten.height, flatten.width
            weight = weight.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(-1, h * w * c)
        return [weight.T, bias]
    return arrays  # BatchNorm: gamma, beta, moving mean, moving variance, as Keras orders them


_COUNTS = {m.Conv: 2, m.Dense: 2, m.BatchNorm: 4}


def build(spec: m.ModelSpec, weights: list[np.ndarray] | None = None) -> keras.Model:
    """The spec as a functional Keras model on NHWC input, with ``weights`` loaded when given."""
    inputs = keras.Input(shape=(spec.size, spec.size, spec.channels))
    loaded: _Loaded = []
    outputs = _apply(list(spec.layers), inputs, loaded)
    model = keras.Model(inputs, outputs, name=spec.name.replace("-", "_"))
    if weights is not None:
        expected = sum(_COUNTS[type(layer)] for _, layer, _ in loaded)
        if expected != len(weights):
            raise ValueError(f"model has {expected} weight arrays, got {len(weights)}")
        pos = 0
        for keras_layer, layer, flatten in loaded:
            n = _COUNTS[type(layer)]
            keras_layer.set_weights(_convert(layer, weights[pos : pos + n], flatten))
            pos += n
    return model
