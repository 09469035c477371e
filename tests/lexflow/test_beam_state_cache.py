"""lexflow/runs/beam_state_cache.py: in_memory Beam without the embedded worker's state cache,
side inputs still read right, and Beam as it was afterwards."""

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import worker_handlers
from apache_beam.testing.util import assert_that, equal_to

from lexflow.runs.beam_state_cache import without_state_cache


def _run_with_side_inputs() -> None:
    options = PipelineOptions(["--direct_running_mode=in_memory", "--direct_num_workers=1"])
    with beam.Pipeline(options=options) as p:
        vocabulary = p | "vocab" >> beam.Create(["a", "b", "c"])
        rows = p | "rows" >> beam.Create(["a", "c", "z", "b"])
        ids = rows | beam.Map(lambda w, v: v.index(w) if w in v else -1, v=beam.pvalue.AsList(vocabulary))
        assert_that(ids, equal_to([0, 2, -1, 1]))


def test_side_inputs_are_read_without_the_cache_and_beam_is_restored():
    before = worker_handlers.STATE_CACHE_SIZE_MB
    with without_state_cache():
        assert worker_handlers.STATE_CACHE_SIZE_MB == 0
        _run_with_side_inputs()
    assert worker_handlers.STATE_CACHE_SIZE_MB == before > 0


def test_disabled_leaves_beam_as_it_is():
    before = worker_handlers.STATE_CACHE_SIZE_MB
    with without_state_cache(enabled=False):
        assert before == worker_handlers.STATE_CACHE_SIZE_MB
