"""The child-process island: the worker, the benchmarks and probes, and their framework code.

This package is the only code that imports torch, tensorflow, keras or jax, and a worker process
imports one framework only. Nothing here imports kg, rdflib or jinja2 (a contract in
pyproject.toml), so a worker starts light and the benchmark code hash covers only what it times.

``worker`` serves requests from the parent (verify.run.spawn) over JSON lines. ``contract`` states
what a benchmark module provides for each KIND ("timed", "single", "probe") and the Session a timed
benchmark opens; the worker checks it before it calls anything. Weights are framework-neutral:
``models`` (numpy only) defines the architectures and seeded weights; ``torch_models``,
``keras_models`` (with ``keras_builder``), ``keras_jax_models`` and ``jax_models`` build the same
network from those arrays. ``probekit`` holds what every capability probe shares.
"""
