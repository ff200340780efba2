"""The GPU health figure every record of a GPU run carries (verify.benchmarks.gpucheck).

It is measured once per ``verify run`` in a process of its own, before the checks, so the
runner itself never loads a framework or a CUDA context."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

TIMEOUT_S = 180.0


def measure(
    python: str = "",
    *,
    device: str = "cuda",
    gpu_name: str | None = None,
    size: int | None = None,
    seconds: float | None = None,
    timeout_s: float = TIMEOUT_S,
) -> dict[str, Any]:
    """The figure as gpucheck reports it, or ``{"error": why}`` when it could not be taken."""
    cmd = [python or sys.executable, "-m", "verify.benchmarks.gpucheck", "--device", device]
    if gpu_name:
        cmd += ["--gpu-name", gpu_name]
    if size:
        cmd += ["--size", str(size)]
    if seconds:
        cmd += ["--seconds", str(seconds)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"the bf16 matrix-product check took over {timeout_s:g} s"}
    if out.returncode != 0:
        reason = (out.stderr.strip().splitlines() or [f"exit status {out.returncode}"])[-1]
        return {"error": reason[:500]}
    try:
        result = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "the bf16 matrix-product check printed no result"}
    return result if isinstance(result, dict) else {"error": "unexpected output"}


def describe(sanity: dict[str, Any] | None) -> str:
    """One line for a reader: 'bf16 matrix products: 792 TFLOP/s, 80% of the nominal 989'."""
    if not sanity:
        return ""
    if sanity.get("error"):
        return f"GPU check not taken: {sanity['error']}"
    text = f"bf16 matrix products ({sanity.get('framework')}): {sanity['tflops']:.0f} TFLOP/s"
    if sanity.get("nominal_tflops"):
        text += (
            f", {100 * sanity['fraction_of_nominal']:.0f}% of the card's nominal"
            f" {sanity['nominal_tflops']:.0f}"
        )
    return text
