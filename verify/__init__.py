"""fwclaims verification, one subpackage per step of the pipeline:

cli         the `verify` command line (the only importer of typer and rich)
run         the parent side of the engine: workers, timed pairs, records written
judge       pure statistics and verdicts
benchmarks  the child-process island: the only code importing torch, tensorflow, keras or jax
publish     the static site;  serve: the JSON API and the read-only SPARQL endpoint

The version is declared here once; pyproject.toml reads it.
"""

__version__ = "0.1.0"
