"""Benchmarks, probes and their framework code.

This package is the only code that imports torch, tensorflow, keras or jax, and a worker process
imports one framework only. Nothing here imports rdflib or jinja2.

Contract with the runner (``verify.run`` drives it through worker processes, ``worker``):

Timed benchmarks (``latency``, ``training``) are modules that define

- ``TIERS: dict[str, str]`` -- API tier name -> framework it needs ("torch-eager" -> "torch",
  "keras-predict" -> "tensorflow", ...). A claim's decision rule names two tiers (subject, baseline).
- ``cells(params: dict) -> list[dict]`` -- the condition cells a check covers (one dict per batch size
  x input size, say); JSON-serialisable, each with a short ``"label"``.
- ``open_session(tier: str, cell: dict, params: dict, ctx: Context) -> Session`` where a Session has
    ``reference_output() -> numpy.ndarray``  outputs on the fixed probe input (fairness check: both
                                             tiers must agree before anything is timed)
    ``warmup() -> dict``                     runs until steady; returns first_call_s, compile_s, calls
    ``time(calls: int) -> float``            seconds per call over ``calls`` back-to-back calls, the
                                             device synchronised before the clock stops
    ``info() -> dict``                       layout, thread counts read back, versions, device name
    ``close() -> None``

Single-shot benchmarks (``memory``) define ``TIERS``, ``cells`` and
``measure_once(tier, cell, params, ctx) -> dict`` (one value per fresh process).

Probes (``probes``, ``distributed``) define ``PROBES: dict[str, str]`` (probe id -> framework) and
``probe(name: str, params: dict, ctx: Context) -> dict`` returning at least
``{"ok": bool, "detail": str, "warnings": [str], "deprecated": bool, "successor": str | None}``.

Weights are framework-neutral: ``models.py`` (numpy only) defines architectures and initialises
weights from a seed; each framework builds the same architecture and loads those arrays.
"""
