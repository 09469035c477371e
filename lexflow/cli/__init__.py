"""The `lexflow` command line (entry point `lexflow = lexflow.cli:main`)."""

from lexflow.cli.app import app, main

__all__ = ["app", "main"]
