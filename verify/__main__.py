"""`python -m verify` runs the CLI."""

from verify.app import main

main()
