"""What a person reads: the run summary, and the evaluation and lineage notebooks' tables."""
