"""fwclaims verification: the `verify` CLI, benchmark runner, statistics, verdicts, records, site."""

__version__ = "0.1.0"
