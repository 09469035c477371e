"""Reading ML Metadata and TFMA results back: the only place that does (store, evaluation, lineage)."""
