"""`lexflow classify` with the model a small pipeline run pushed (session fixture): the real load path."""

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lexflow.cli.app import app
from pipeline.schema_info import label_domain, load_schema
from tests.conftest import SCHEMA
from tests.documents.samples import CONTRACT, docx_bytes

pytestmark = pytest.mark.e2e


def test_a_docx_contract_is_classified_by_the_pushed_model(pipeline_run, tmp_path):
    (tmp_path / "msa.docx").write_bytes(docx_bytes(CONTRACT.split("\n\n")))
    base_dir = Path(pipeline_run.model_dir).parent.parent  # <base>/lexflow/<version>
    result = CliRunner().invoke(
        app, ["classify", str(tmp_path / "msa.docx"), "--model-base-dir", str(base_dir), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 12
    assert {r["label"] for r in rows} <= set(label_domain(load_schema(SCHEMA)))
    for row in rows:
        confidence, margin = float(row["confidence"]), float(row["margin"])
        assert 0 < confidence <= 1 and 0 <= margin <= confidence
    governing = next(r for r in rows if r["number"] == "Section 3")
    assert governing["label"] == "governing_law"
    assert f"version {Path(pipeline_run.model_dir).name}" in result.stderr
