#!/bin/sh
# Every check that times something, on this machine's CUDA GPU, within 8 minutes; the records go
# to data/results/ as usual. For a machine with torch and JAX built for CUDA but not the rest of
# fwclaims' dependencies: give a folder of wheels (scripts/gpu-wheels.sh makes one elsewhere) and
# they are installed into a private folder put first on PYTHONPATH; nothing else is changed.
#
#   scripts/gpu-check.sh [WHEEL_FOLDER]
#
# TensorFlow has no build there, so the PyTorch-vs-TensorFlow checks come out "not checkable
# here: no TensorFlow build"; PyTorch (eager and compiled), JAX and Keras on JAX are measured.
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
BUDGET=${BUDGET:-25}
if [ $# -ge 1 ]; then
  target=${TMPDIR:-/tmp}/fwclaims-site
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$target" "$1"/*.whl
  PYTHONPATH="$target:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH PYTHONUNBUFFERED=1
"$PYTHON" -m verify env
exec timeout 480 "$PYTHON" -m verify run --all --kind performance --device cuda --budget "$BUDGET"
