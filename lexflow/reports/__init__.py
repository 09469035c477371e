"""What a person reads: the run summary, the notebooks' tables and figures, and drift reports."""
