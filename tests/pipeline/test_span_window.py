"""The span-window resolver strategy: one artifact per span (the newest), latest N spans."""

from tfx.types import standard_artifacts

from pipeline.span_window import SpanWindowStrategy, select_window


def _examples(artifact_id: int, span: int):
    artifact = standard_artifacts.Examples()
    artifact.id = artifact_id
    artifact.set_int_custom_property("span", span)  # where ExampleGen records it
    return artifact


ARTIFACTS = [_examples(1, 0), _examples(5, 1), _examples(9, 0), _examples(12, 2), _examples(15, 3)]


def _ids(artifacts):
    return [a.id for a in artifacts]


def test_all_spans_newest_reingestion_wins():
    assert _ids(select_window(ARTIFACTS, num_spans=0)) == [15, 12, 5, 9]  # span 0 re-ingested: id 9, not 1


def test_rolling_window_and_previous_span():
    assert _ids(select_window(ARTIFACTS, num_spans=2)) == [15, 12]
    assert _ids(select_window(ARTIFACTS, num_spans=1, skip_recent=1)) == [12]
    assert select_window(ARTIFACTS[:1], num_spans=1, skip_recent=1) == []


def test_strategy_blocks_only_below_min_spans():
    assert SpanWindowStrategy(num_spans=0, min_spans=1).resolve_artifacts(None, {"examples": []}) is None
    assert SpanWindowStrategy(num_spans=1, skip_recent=1, min_spans=0).resolve_artifacts(
        None, {"examples": ARTIFACTS[:1]}
    ) == {"examples": []}
    assert _ids(SpanWindowStrategy(num_spans=0).resolve_artifacts(None, {"examples": ARTIFACTS})["examples"]) == [
        15,
        12,
        5,
        9,
    ]
