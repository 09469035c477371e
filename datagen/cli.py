"""`python -m datagen` / `lexflow demo-data`: write a demo CSV."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer

from datagen.generator import generate_rows, write_csv

app = typer.Typer(
    add_completion=False, subcommand_metavar="", help="Generate synthetic legal provisions as CSV (text,label,source)."
)


# A callback rather than a command: the options work both as `python -m datagen --out ...` and,
# once mounted with add_typer, as `lexflow demo-data --out ...` (no sub-command name).
@app.callback(invoke_without_command=True)
def generate(
    out: Path = typer.Option(Path("data/demo/span-0/corpus.csv"), help="CSV file to write."),
    rows: int = typer.Option(3000, min=1, help="Number of provisions."),
    seed: int = typer.Option(7, help="Random seed (same arguments, same bytes)."),
    noise: float = typer.Option(0.03, min=0.0, max=1.0, help="Share of rows given a wrong label."),
    drift: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of rows in a shifted (UK/GDPR) drafting style."),
    source: str = typer.Option("corpus", help="Value of the `source` column."),
) -> None:
    data = generate_rows(rows, seed=seed, noise=noise, drift=drift, source=source)
    write_csv(out, data)
    counts = Counter(r["label"] for r in data)
    typer.echo(f"wrote {len(data)} rows to {out}: " + ", ".join(f"{k}={v}" for k, v in counts.most_common()))
