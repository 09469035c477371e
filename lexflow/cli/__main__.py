"""`python -m lexflow.cli ...` (same as the `lexflow` command)."""

from lexflow.cli.app import main

main()
