"""SpanExampleGen: reads the window of spans (corpus + feedback spans) from the data root, itself.

Why not CsvExampleGen plus resolvers: the open-source Kubeflow Pipelines backend refuses TFX
resolver nodes and never runs ExampleGen's driver (span resolution lives in a container
`lifecycle.preCacheCheck` that nothing reads), so a pipeline that must run the same on every
orchestrator cannot pick spans before the executor. Here the executor resolves the spans at run
time from the files, and writes three Examples artifacts in one Beam job:

- `examples`: every span of the window (`spans.window` newest spans; 0 = all), split
  train/validation/eval: what Transform, ModelSearch, Trainer and Evaluator read, and what the data
  gate validates;
- `newest_examples` and `previous_examples`: the newest span and the one before it, for DriftCheck
  (the previous one is empty on the first span).

The split (window.py) takes the user's own eval rows (`split` column, `eval/` folders: core/splits.py),
keeps a `document`'s rows in one split, and is label-aware: every label keeps its first two rows
(or documents, by a stable hash) in train, so a rare label can never land only in validation or eval,
where the model could not learn it. Bad split values stop the run naming the file and row.
"""

from components.span_example_gen.component import SpanExampleGen

__all__ = ["SpanExampleGen"]
