"""`python -m verify` runs the CLI."""

from verify.cli.app import main

main()
