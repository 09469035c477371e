"""Synthetic legal provisions for the embedded demo dataset (and drift simulations)."""

from datagen.generator import LABELS, generate_rows, write_csv

__all__ = ["LABELS", "generate_rows", "write_csv"]
