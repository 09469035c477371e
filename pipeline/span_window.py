"""Resolver strategy for span windows: the newest artifact of each of the latest N spans.

Why not TFX's own: in TFX 1.16 ExampleGen records `span`/`version` as *custom* properties, while
the `rolling_range` resolver function reads the `span` *property* (every artifact looks like span 0,
so only the newest survives), and `SpanRangeStrategy` keeps every re-ingestion of a span, which
would count a re-ingested span twice in training. This keeps exactly one artifact per span.
"""

from __future__ import annotations

from typing import Optional

import ml_metadata as mlmd
from tfx import types
from tfx.dsl.components.common import resolver

from components.artifacts import span_of


def select_window(artifacts: list[types.Artifact], num_spans: int, skip_recent: int = 0) -> list[types.Artifact]:
    """Newest artifact (highest id) per span; drop the `skip_recent` latest spans, keep the next
    `num_spans` (0 = all); newest span first."""
    newest: dict[int, types.Artifact] = {}
    for artifact in artifacts:
        span = span_of(artifact) or 0
        if span not in newest or artifact.id > newest[span].id:
            newest[span] = artifact
    spans = sorted(newest, reverse=True)[skip_recent:]
    if num_spans > 0:
        spans = spans[:num_spans]
    return [newest[span] for span in spans]


class SpanWindowStrategy(resolver.ResolverStrategy):
    """`Resolver(strategy_class=SpanWindowStrategy, examples=...,
    config={"num_spans": N, "skip_recent": K, "min_spans": M})`."""

    def __init__(self, num_spans: int = 0, skip_recent: int = 0, min_spans: int = 1):
        self._num_spans, self._skip_recent, self._min_spans = num_spans, skip_recent, min_spans

    def resolve_artifacts(
        self, store: mlmd.MetadataStore, input_dict: dict[str, list[types.Artifact]]
    ) -> Optional[dict[str, list[types.Artifact]]]:
        result = {
            key: select_window(list(artifacts), self._num_spans, self._skip_recent)
            for key, artifacts in input_dict.items()
        }
        # None means "not resolvable": the downstream node does not run (min_spans=0 never blocks).
        return None if any(len(v) < self._min_spans for v in result.values()) else result
