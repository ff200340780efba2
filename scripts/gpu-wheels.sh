#!/bin/sh
# Download, for Python 3.12 on x86-64 Linux, the wheels scripts/gpu-check.sh installs on a GPU
# machine that already has torch, JAX (CUDA), numpy, scipy, typer, rich, jinja2, networkx, psutil,
# py-cpuinfo, optax, h5py, ml-dtypes and nvidia-ml-py: fwclaims' graph libraries and Keras.
#
#   scripts/gpu-wheels.sh [FOLDER]     (default: .whl)
set -eu
out=${1:-.whl}
"${PYTHON:-python3}" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$out" \
  rdflib pyoxigraph pyshacl owlrl prettytable wcwidth fastjsonschema keras namex optree absl-py
ls "$out"
