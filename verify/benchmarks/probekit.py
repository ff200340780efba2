"""What every capability probe shares: a trial that turns a probe body's findings into a result
dict (warnings captured, deprecations and successors read from them), output comparison, fresh
child processes killed as a group, and the tiny network every framework builds from one set of
numpy weights.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from verify.benchmarks.context import Context, NotCheckable

# Small float32 nets: anything past this is a real numerical disagreement, not round-off.
RTOL = 1e-4
WARNING_CHARS = 240


# --- running one probe -------------------------------------------------------------------------


@dataclass
class Trial:
    """State a probe body updates as it goes, so a failure can say which step broke."""

    apis: tuple[str, ...]  # names whose deprecation concerns this probe (not its dependencies')
    versions: dict[str, str]
    step: str = "setup"
    notes: list[str] = field(default_factory=list)  # texts treated like warnings (fallbacks)


def run_trial(trial: Trial, body: Callable[[Trial], dict]) -> dict:
    """Run ``body`` under warning capture and a clock; turn its findings into a result dict.

    ``body`` returns ``detail``, ``max_abs_diff`` and ``tolerance`` (or ``None`` for both when
    nothing is compared) plus any extra fields; it may set ``ok`` False itself.
    """
    found: dict = {}
    error = None
    start = time.perf_counter()
    # Exporters print progress; stdout may carry the worker's protocol, so send prints to stderr.
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("always")
        try:
            found = body(trial)
        except NotCheckable:
            raise
        except Exception as exc:  # the capability failing is a finding, not a crash
            error = f"{trial.step} failed: {type(exc).__name__}: {_first_line(str(exc))}."
    seconds = time.perf_counter() - start
    texts = unique_warnings(caught) + trial.notes
    deprecated_apis, successor = deprecation(texts, trial.apis)
    diff, tol = found.pop("max_abs_diff", None), found.pop("tolerance", None)
    ok = error is None and found.pop("ok", True)
    detail = error or found.pop("detail", "")
    if ok and diff is not None and tol is not None and not diff <= tol:
        ok, detail = False, f"Outputs differ: max abs diff {diff:.3g} exceeds tolerance {tol:.3g}."
    if deprecated_apis:
        names = ", ".join(deprecated_apis)
        verb = "is" if len(deprecated_apis) == 1 else "are"
        instead = f"; successor: {successor}" if successor else ""
        detail = f"{detail.rstrip('.')} (warned: {names} {verb} deprecated{instead})."
    return {
        "ok": bool(ok),
        "detail": detail,
        "max_abs_diff": None if diff is None else float(diff),
        "warnings": texts,
        "deprecated": bool(deprecated_apis),
        "deprecated_apis": deprecated_apis,
        "successor": successor,
        "versions": trial.versions,
        "seconds": round(seconds, 3),
        **found,
    }


def compare(reference: np.ndarray, other: np.ndarray, rtol: float = RTOL) -> tuple[float, float]:
    """Max abs difference of two outputs and the tolerance it must stay within."""
    reference, other = np.asarray(reference, np.float64), np.asarray(other, np.float64)
    if reference.shape != other.shape:
        raise ValueError(f"output shapes differ: {reference.shape} vs {other.shape}")
    scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
    return float(np.abs(reference - other).max(initial=0.0)), rtol * scale


def versions(*distributions: str) -> dict[str, str]:
    """Installed versions of the named distributions; absent ones are left out."""
    found = {}
    for name in distributions:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


@contextlib.contextmanager
def scratch_dir(ctx: Context) -> Iterator[str]:
    """The context's scratch folder, or a temporary one removed afterwards."""
    if ctx.scratch:
        os.makedirs(ctx.scratch, exist_ok=True)
        yield ctx.scratch
        return
    with tempfile.TemporaryDirectory(
        prefix=f"fwclaims-probe-{os.getpid()}-{int(time.time() * 1000)}-"
    ) as folder:
        yield folder


def require(module: str, why: str) -> None:
    """Raise NotCheckable unless ``module`` can be imported."""
    if importlib.util.find_spec(module) is None:
        raise NotCheckable(f"{module} is not installed here; {why}")


# --- fresh processes -------------------------------------------------------------------------

RESULT_MARK = "FWCLAIMS-RESULT "
# The folder holding verify/, for the children's path (the benchmark island does not import kg).
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_children(
    module: str, payloads: list[dict], env: dict[str, str], timeout: float
) -> list[dict]:
    """Run ``python -m module PAYLOAD_JSON`` once per payload, all at once; their result dicts.

    Each child runs in its own process group, killed whole on timeout, so nothing outlives the
    probe. A child that crashes yields ``{"error": ...}`` with the end of its stderr.
    """
    path = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p)
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env, "PYTHONPATH": path}
    # pid and time in the name: a run killed meanwhile leaves it, and the next run removes it
    stamp = f"fwclaims-child-{os.getpid()}-{int(time.time() * 1000)}-"
    with tempfile.TemporaryDirectory(prefix=stamp) as folder:
        children = []
        for i, payload in enumerate(payloads):
            out = open(os.path.join(folder, f"{i}.out"), "w+", encoding="utf-8")  # noqa: SIM115
            err = open(os.path.join(folder, f"{i}.err"), "w+", encoding="utf-8")  # noqa: SIM115
            command = [sys.executable, "-m", module, json.dumps(payload)]
            child = subprocess.Popen(
                command, stdout=out, stderr=err, env=full_env, start_new_session=True
            )
            children.append((child, out, err))
        deadline = time.monotonic() + timeout
        timed_out = False
        for child, _, _ in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
                break
        results = []
        for child, out, err in children:
            _kill_group(child)  # also reaps helpers a finished child left behind
            results.append(_child_result(child, out, err, timed_out, timeout))
            out.close()
            err.close()
    return results


def child_main(work: Callable[[dict], dict]) -> None:
    """Entry point of a child process: read the payload from argv, print the result line."""
    payload = json.loads(sys.argv[1])
    try:
        result = work(payload)
    except NotCheckable as exc:
        result = {"not_checkable": str(exc)}
    except Exception as exc:  # reported to the parent, traceback kept on stderr
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {_first_line(str(exc))}"}
    sys.stdout.flush()
    print(RESULT_MARK + json.dumps(result), flush=True)


def _child_result(child: subprocess.Popen, out, err, timed_out: bool, timeout: float) -> dict:
    out.seek(0)
    for line in reversed(out.read().splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    if timed_out:
        return {"error": f"timed out after {timeout:.0f} s"}
    err.seek(0)
    tail = " ".join(err.read().strip().splitlines()[-3:])[-WARNING_CHARS:]
    return {"error": f"exited with status {child.returncode} and no result: {tail}"}


def _kill_group(child: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)  # its own group: only what this child started
    child.wait()


# --- warnings and deprecations -----------------------------------------------------------------


def unique_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    """Distinct warning texts, whitespace collapsed and trimmed, in first-seen order."""
    texts: list[str] = []
    for w in caught:
        text = " ".join(str(w.message).split())
        text = f"{w.category.__name__}: {text}"[:WARNING_CHARS]
        if text not in texts:
            texts.append(text)
    return texts


_DEPRECATED = re.compile(
    r"deprecat|legacy|will be removed|scheduled for (?:deletion|removal)"
    r"|no longer (?:supported|maintained)",
    re.IGNORECASE,
)
# Where a warning turns from what is wrong to what to do instead.
_ADVICE = re.compile(r"\bplease\b|\bswitch to\b|\bin favou?r of\b|\buse\b", re.IGNORECASE)
_SUCCESSOR_PATTERNS = (
    (re.compile(r"use the (.+?) from the ([\w.\-]+) package", re.IGNORECASE), "{0} ({1})"),
    (re.compile(r"the new (.+?) has become the default", re.IGNORECASE), "{0}"),
)


def deprecation(texts: list[str], apis: tuple[str, ...]) -> tuple[list[str], str | None]:
    """What the warnings say is deprecated among ``apis``, and the successor most of them name.

    Only the part of a warning before its advice counts as its subject, so "X is deprecated,
    switch to torch.compile" does not mark torch.compile deprecated.
    """
    subjects: list[str] = []
    votes: Counter[str] = Counter()
    for text in texts:
        subject, _, advice = _split_advice(text)
        if not _DEPRECATED.search(subject):
            continue
        name = _deprecated_name(subject, apis)
        if name is None:
            continue
        if name not in subjects:
            subjects.append(name)
        for successor in successors(text, advice):
            votes[successor] += 1
    return subjects, votes.most_common(1)[0][0] if votes else None


def _deprecated_name(subject: str, apis: tuple[str, ...]) -> str | None:
    """The API a warning's subject is about: a quoted or dotted name holding one of ``apis``."""
    for sentence in re.split(r"(?<=\.)\s+", subject):
        api = next((a for a in apis if a.lower() in sentence.lower()), None)
        if api is None:
            continue
        for quoted, dotted in re.findall(r"`([^`]+)`|\b([A-Za-z_]\w*(?:\.\w+)+)\b", sentence):
            if api.lower() in (quoted or dotted).lower():
                return quoted or dotted
        start = sentence.lower().index(api.lower())
        return sentence[start : start + len(api)]
    return None


def successors(text: str, advice: str) -> list[str]:
    """Names a deprecation warning recommends instead."""
    for pattern, template in _SUCCESSOR_PATTERNS:
        match = pattern.search(text)
        if match:
            return [template.format(*match.groups())]
    return re.findall(r"`([^`]+)`", advice)


def _split_advice(text: str) -> tuple[str, str, str]:
    match = _ADVICE.search(text)
    if not match:
        return text, "", ""
    return text[: match.start()], match.group(0), text[match.start() :]


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[0] if lines else "")[:WARNING_CHARS]


# --- the tiny network every framework builds ---------------------------------------------------

INPUT_SHAPE = (8, 8, 3)  # height, width, channels (channels-last, as Keras holds it)
FILTERS, CLASSES, KERNEL = 8, 5, 3  # dense kernel > 1024 values, so TFLite quantizes it


def tiny_weights(seed: int) -> dict[str, np.ndarray]:
    """Weights of conv(3x3, 4) -> relu -> flatten -> dense(5), channels-last layouts (HWIO)."""
    rng = np.random.default_rng(seed)
    height, width, channels = INPUT_SHAPE
    flat = (height - KERNEL + 1) * (width - KERNEL + 1) * FILTERS
    return {
        "conv_kernel": rng.normal(0, 0.3, (KERNEL, KERNEL, channels, FILTERS)).astype(np.float32),
        "conv_bias": rng.normal(0, 0.1, FILTERS).astype(np.float32),
        "dense_kernel": rng.normal(0, 0.1, (flat, CLASSES)).astype(np.float32),
        "dense_bias": rng.normal(0, 0.1, CLASSES).astype(np.float32),
    }


def tiny_input(seed: int, batch: int = 2) -> np.ndarray:
    """A fixed channels-last input batch for the tiny network."""
    return np.random.default_rng(seed + 1).standard_normal((batch, *INPUT_SHAPE)).astype(np.float32)


def tiny_forward(w: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Reference output of the tiny network in numpy (float64), channels-last, valid padding."""
    windows = np.lib.stride_tricks.sliding_window_view(
        x.astype(np.float64), (KERNEL, KERNEL), (1, 2)
    )
    # windows: (batch, h', w', channels, kh, kw) -> contract with the HWIO kernel
    conv = np.einsum("bijckl,klco->bijo", windows, w["conv_kernel"]) + w["conv_bias"]
    hidden = np.maximum(conv, 0.0).reshape(x.shape[0], -1)
    return hidden @ w["dense_kernel"] + w["dense_bias"]
