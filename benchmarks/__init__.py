"""Quality and cost benchmarks of the lexflow pipeline on real legal datasets (see BENCHMARKS.md).

Not part of the default test run: `python -m benchmarks.quality --help`.
"""
