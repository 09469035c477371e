"""Schema resolution and TFDV drafting for datasets without a curated schema."""

import csv
from pathlib import Path

import pytest

from core.errors import UserError
from lexflow.runs.schemas import curated_schema_path, draft_schema, resolve_schema
from pipeline.config import PipelineConfig
from pipeline.schema_info import label_domain, load_schema

REPO = Path(__file__).resolve().parents[2]


def _csv(path: Path, rows, fields=("text", "label")):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        writer.writerows(rows)
    return path


def test_demo_dataset_has_a_curated_schema_with_the_contract():
    schema = load_schema(curated_schema_path("demo"))
    features = {f.name: f for f in schema.feature}
    assert features["text"].presence.min_fraction == 1.0 and features["text"].shape.dim[0].size == 1
    assert len(label_domain(schema)) >= 10
    assert "SERVING" in features["label"].not_in_environment


def test_draft_has_closed_label_domain_required_text_and_optional_metadata(tmp_path):
    rows = [(f"clause number {i}", ["b_label", "a_label"][i % 2], "corpus") for i in range(30)]
    path = _csv(tmp_path / "d.csv", rows, fields=("text", "label", "source"))
    schema = draft_schema([path])
    features = {f.name: f for f in schema.feature}
    assert label_domain(schema) == ["a_label", "b_label"]
    assert features["text"].presence.min_fraction == 1.0 and not features["text"].HasField("domain")
    assert features["source"].presence.min_fraction == 0.0 and not features["source"].HasField("shape")


def test_draft_rejects_a_single_label(tmp_path):
    path = _csv(tmp_path / "d.csv", [(f"t{i}", "only") for i in range(5)])
    with pytest.raises(UserError, match="at least 2 distinct labels"):
        draft_schema([path])


def test_resolve_prefers_explicit_then_curated_then_draft(tmp_path):
    demo = PipelineConfig(pipeline_root=tmp_path / "p")
    assert resolve_schema(demo).path == curated_schema_path("demo") and not resolve_schema(demo).drafted

    _csv(tmp_path / "brand_new" / "span-0" / "x.csv", [(f"text {i}", f"l{i % 3}") for i in range(12)])
    config = PipelineConfig(data_root=tmp_path / "brand_new", pipeline_root=tmp_path / "p")
    resolved = resolve_schema(config)
    assert resolved.drafted and resolved.path.is_file() and str(tmp_path / "p") in str(resolved.path)
    assert label_domain(load_schema(resolved.path)) == ["l0", "l1", "l2"]

    explicit = config.model_copy(update={"schema_path": tmp_path / "missing.pbtxt"})
    with pytest.raises(UserError, match=r"missing\.pbtxt does not exist"):
        resolve_schema(explicit)


def test_draft_reads_every_span_and_declares_the_columns_lexflow_adds(tmp_path):
    """A label only in the corpus (span 0) is kept when a feedback span is newer; `source` (every
    feedback export adds it), `document` and `split` are declared optional even when absent."""
    from typer.testing import CliRunner

    from lexflow.cli import app

    _csv(
        tmp_path / "ds" / "span-0" / "corpus.csv",
        [(f"text {i}", ["a / b", "c, d", "only in span 0"][i % 3]) for i in range(9)],
    )
    _csv(tmp_path / "ds" / "span-1" / "feedback.csv", [("more", "a / b", "feedback")], ("text", "label", "source"))
    out = tmp_path / "schema.pbtxt"
    result = CliRunner().invoke(app, ["schema", "draft", str(tmp_path / "ds"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    schema = load_schema(out)
    assert label_domain(schema) == ["a / b", "c, d", "only in span 0"]
    features = {f.name: f for f in schema.feature}
    assert list(features) == ["text", "label", "source", "document", "split"]
    for name in ("source", "document", "split"):
        assert features[name].presence.min_fraction == 0.0 and not features[name].HasField("shape")
    assert "10 rows in 2 files" in result.output


def test_a_drafted_schema_validates_a_feedback_span_without_anomalies(tmp_path):
    """The first retrain's data (corpus without `source` + an export with it) passes the data gate's check."""
    import pandas as pd
    import tensorflow_data_validation as tfdv

    path = _csv(tmp_path / "d.csv", [(f"clause {i}", ["x", "y"][i % 2]) for i in range(10)])
    schema = draft_schema([path])
    frame = pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"], "source": ["feedback", "feedback"]})
    anomalies = tfdv.validate_statistics(tfdv.generate_statistics_from_dataframe(frame), schema)
    assert not anomalies.anomaly_info, anomalies
