"""The `verify` command line: one module per group of commands, over one library call each.

The only code that imports typer and rich. ``app.main`` is the one error boundary: it turns the
project's errors (kg.errors.FwcError and its subclasses) into a one-line message and an exit code.
"""
