"""SpanExampleGen: reads the window of spans (corpus + feedback spans) from the data root, itself.

Why not CsvExampleGen plus resolvers: the open-source Kubeflow Pipelines backend refuses TFX
resolver nodes and never runs ExampleGen's driver (span resolution lives in a container
`lifecycle.preCacheCheck` that nothing reads), so a pipeline that must run the same on every
orchestrator cannot pick spans before the executor. Here the executor resolves the spans at run
time from the files, and writes three Examples artifacts in one Beam job:

- `examples`: every span of the window (`spans.window` newest spans; 0 = all), split train/eval:
  what Transform, Trainer and Evaluator read, and what the data gate validates;
- `newest_examples` and `previous_examples`: the newest span and the one before it, for DriftCheck
  (the previous one is empty on the first span).

The split is label-aware: every label keeps its first two rows (by a stable row hash) on the
training side, so a rare label can never land only in the eval split, where the Transform
vocabulary (computed on train) would not know it.
"""

from components.span_example_gen.component import SpanExampleGen

__all__ = ["SpanExampleGen"]
