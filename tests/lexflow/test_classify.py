"""`lexflow classify` in the fast suite: the stand-in model (tests/serving/stand_in.py) replaces TensorFlow."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lexflow.cli.app import app
from lexflow.runs import classify as bulk
from serving.backends.base import Prediction
from tests.documents.samples import CONTRACT, docx_bytes, pdf_bytes
from tests.serving.stand_in import GOVERNING, LABELS, TERMINATION, StandInBackend


class _StandInModel:
    """What `load_model` returns (a LoadedModel's surface), scoring with the stand-in's keyword rule."""

    def __init__(self, version: int = 7):
        self.version = version
        self.backend = StandInBackend([version])
        self.calls: list[int] = []
        self.closed = False

    def predict(self, texts):
        self.calls.append(len(texts))
        return self.backend.predict(texts, self.version)

    def close(self):
        self.closed = True
        self.backend.close()


@pytest.fixture
def model(monkeypatch):
    stand_in = _StandInModel()
    loads = []

    def load(base_dir, name, version=None):
        loads.append((Path(base_dir).name, name, version))
        return stand_in

    monkeypatch.setattr(bulk, "load_model", load)
    stand_in.loads = loads
    yield stand_in
    stand_in.backend.close()


def _invoke(*args: str):
    return CliRunner().invoke(app, ["classify", *args])


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_contract_is_split_and_every_provision_classified(tmp_path, model):
    (tmp_path / "msa.txt").write_text(CONTRACT, encoding="utf-8")
    result = _invoke(str(tmp_path / "msa.txt"), "--no-progress")
    assert result.exit_code == 0, result.output
    rows = _csv(result.stdout)
    assert [r["provision"] for r in rows] == [str(i) for i in range(12)]
    assert rows[0].keys() == set(bulk.COLUMNS)
    governing = next(r for r in rows if r["number"] == "Section 3")
    assert (governing["heading"], governing["label"]) == ("Governing Law", "governing_law")
    assert float(governing["confidence"]) == pytest.approx(0.7) and float(governing["margin"]) == pytest.approx(0.6)
    assert governing["text"].startswith("Section 3. Governing Law. This Agreement shall be governed")
    start, end = int(governing["start"]), int(governing["end"])
    assert " ".join(CONTRACT[start:end].split()) == governing["text"]
    assert next(r for r in rows if r["number"] == "2.2")["label"] == "termination"
    assert model.closed
    assert "version 7" in result.stderr and "classified 12 texts" in result.stderr


def test_a_directory_of_documents_in_sorted_order_as_json(tmp_path, model):
    docs = tmp_path / "contracts"
    (docs / "sub").mkdir(parents=True)
    (docs / "b.docx").write_bytes(docx_bytes(["1. Fees. " + "The fees are payable within 30 days of the invoice."]))
    (docs / "a.pdf").write_bytes(pdf_bytes([["1. Law. " + GOVERNING, "2. Term. " + TERMINATION]]))
    (docs / "sub" / "c.txt").write_text("Confidential Information shall be kept confidential by the recipient.")
    (docs / "notes.md").write_text("not a document")
    out = tmp_path / "out.json"
    result = _invoke(str(docs), "--format", "json", "--output", str(out), "--no-progress")
    assert result.exit_code == 0, result.output
    records = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["document"], r["provision"], r["label"]) for r in records] == [
        ("a.pdf", 0, "governing_law"),
        ("a.pdf", 1, "termination"),
        ("b.docx", 0, "payment_terms"),
        ("sub/c.txt", 0, "confidentiality"),
    ]
    assert records[2]["number"] == "1" and records[2]["heading"] == "Fees"
    assert result.stdout == ""


def test_a_text_csv_is_classified_row_by_row_without_splitting(tmp_path, model):
    long_row = "1. Fees are payable monthly. " + "\n\n2. Either party may terminate this Agreement. " * 3
    path = tmp_path / "rows.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as handle:  # Excel writes a BOM
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([["a", GOVERNING], ["b", long_row], ["c", TERMINATION]])
    result = _invoke(str(path), "--no-progress")
    assert result.exit_code == 0, result.output
    rows = _csv(result.stdout)
    assert [(r["document"], r["provision"], r["label"]) for r in rows] == [
        ("rows.csv", "0", "governing_law"),
        ("rows.csv", "1", "payment_terms"),
        ("rows.csv", "2", "termination"),
    ]
    assert rows[1]["text"] == long_row and rows[1]["number"] == "" and rows[1]["start"] == ""


def test_large_inputs_go_in_batches_of_batch_size_in_order(tmp_path, model):
    texts = [GOVERNING if i % 3 else TERMINATION for i in range(1000)]
    (tmp_path / "many.csv").write_text("text\n" + "\n".join(f'"{t}"' for t in texts) + "\n", encoding="utf-8")
    result = _invoke(str(tmp_path / "many.csv"), "--batch-size", "300", "--no-progress")
    assert result.exit_code == 0, result.output
    assert model.calls == [300, 300, 300, 100]
    labels = [r["label"] for r in _csv(result.stdout)]
    assert labels == ["governing_law" if i % 3 else "termination" for i in range(1000)]


def test_model_options_reach_the_loader(tmp_path, model):
    (tmp_path / "a.txt").write_text(GOVERNING)
    result = _invoke(str(tmp_path / "a.txt"), "--model-base-dir", str(tmp_path / "models"), "--version", "7")
    assert result.exit_code == 0, result.output
    assert model.loads == [("models", "lexflow", 7)]


def test_the_progress_bar_goes_to_stderr_only(tmp_path, model):
    (tmp_path / "a.txt").write_text(GOVERNING)
    result = _invoke(str(tmp_path / "a.txt"), "--progress")
    assert result.exit_code == 0, result.output
    assert "classifying" in result.stderr
    assert _csv(result.stdout)[0]["label"] == "governing_law"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty.txt: the file is empty"),
        ("blob.txt", b"\x00\x01\x02 binary", "blob.txt: binary content (NUL bytes)"),
        ("dots.txt", b"... --- ...", "dots.txt: no provisions to classify"),
        ("scan.pdf", pdf_bytes([[]]), "scan.pdf: the PDF's 1 page(s) have no text layer"),
        ("broken.docx", b"PK not really", "broken.docx: not a readable .docx file"),
        ("contract.rtf", b"{\\rtf1 hello}", "contract.rtf: unsupported file type '.rtf'"),
        ("rows.csv", b"id,body\n1,hello\n", "rows.csv: no `text` column (columns: id, body)"),
        ("rows.csv", b'text\nThe fees are due.\n""\n', "rows.csv: line 3: empty `text`"),
        ("rows.csv", b"text\n", "rows.csv: no rows below the header"),
        ("rows.csv", b"text\n\xff\xfe caf\xe9\n", "rows.csv: not UTF-8 text"),
    ],
)
def test_bad_input_is_one_error_line_naming_the_file_and_exit_2(tmp_path, model, name, content, message):
    (tmp_path / name).write_bytes(content)
    out = tmp_path / "out.csv"
    result = _invoke(str(tmp_path / name), "--output", str(out))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message in " ".join(result.stderr.split())
    assert str(tmp_path) in result.stderr  # the path as the user gave it
    assert "Traceback" not in result.output
    assert not out.exists() and model.calls == []  # nothing scored, nothing written


def test_one_bad_document_in_a_directory_stops_the_run_before_any_output(tmp_path, model):
    (tmp_path / "a.txt").write_text(GOVERNING)
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.4 truncated")
    result = _invoke(str(tmp_path))
    assert result.exit_code == 2
    assert "b.pdf: not a readable PDF" in result.stderr and model.calls == []


def test_oversized_document_is_refused_before_reading(tmp_path, model):
    (tmp_path / "big.txt").write_text(GOVERNING * 10)
    result = _invoke(str(tmp_path / "big.txt"), "--max-bytes", "100")
    assert result.exit_code == 2
    assert "exceeds the limit of 100 bytes" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.txt"], "missing.txt: no such file or directory"),
        (["."], "no documents (.docx, .pdf, .txt) in this directory"),
        (["a.txt", "--format", "xml"], "--format 'xml': use csv or json"),
    ],
)
def test_bad_arguments(tmp_path, model, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(GOVERNING)
    if args == ["."]:
        (tmp_path / "a.txt").unlink()
    result = _invoke(*args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


# --- the library under the command -----------------------------------------------------------------


def test_no_model_versions_is_a_user_error(tmp_path):
    (tmp_path / "lexflow" / "3").mkdir(parents=True)  # incomplete: no saved_model.pb yet
    with pytest.raises(bulk.UserError, match=r"lexflow: no model versions"):
        bulk.load_model(tmp_path, "lexflow")


def test_an_unknown_version_lists_the_available_ones(tmp_path):
    _fake_versions(tmp_path, 3, 5)
    with pytest.raises(bulk.UserError, match=r"no version 4 \(versions: 3, 5\)"):
        bulk.load_model(tmp_path, "lexflow", 4)


def _fake_versions(base: Path, *versions: int) -> None:
    for version in versions:
        (base / "lexflow" / str(version)).mkdir(parents=True)
        (base / "lexflow" / str(version) / "saved_model.pb").write_bytes(b"")


@pytest.mark.parametrize(("production", "chosen"), [(None, 9), (3, 3)])
def test_the_production_version_is_what_routing_names_else_the_newest(tmp_path, monkeypatch, production, chosen):
    from core import routing_file
    from serving.backends import inprocess

    _fake_versions(tmp_path, 3, 9)
    routing_file.write(tmp_path, routing_file.content("lexflow", production, None, 0.0, None, None))
    monkeypatch.setattr(inprocess, "LoadedModel", lambda version, path: (version, path.name))
    assert bulk.load_model(tmp_path, "lexflow") == (chosen, str(chosen))
    assert bulk.load_model(tmp_path, "lexflow", 9) == (9, "9")  # --version wins


def test_a_production_version_missing_on_disk_is_a_user_error(tmp_path):
    from core import routing_file

    _fake_versions(tmp_path, 3)
    routing_file.write(tmp_path, routing_file.content("lexflow", 5, None, 0.0, None, None))
    with pytest.raises(bulk.UserError, match=r"production is version 5, which is not under .*pass --version"):
        bulk.load_model(tmp_path, "lexflow")


def test_a_corrupt_saved_model_is_a_user_error(tmp_path):
    (tmp_path / "lexflow" / "3").mkdir(parents=True)
    (tmp_path / "lexflow" / "3" / "saved_model.pb").write_bytes(b"not a protobuf")
    with pytest.raises(bulk.UserError, match="cannot load the model"):
        bulk.load_model(tmp_path, "lexflow")


def test_scoring_starts_while_later_rows_are_still_being_read():
    first_scored = threading.Event()
    calls = []

    def predict(texts):
        calls.append(len(texts))
        first_scored.set()
        return Prediction(1, LABELS, [[0.1, 0.6, 0.2, 0.1]] * len(texts), ["governing_law"] * len(texts))

    def rows():
        yield from (bulk.Row("d", i, GOVERNING) for i in range(2))
        assert first_scored.wait(5)  # the full first batch went to the model before this row was read
        yield from (bulk.Row("d", i, GOVERNING) for i in range(2, 5))

    scored = []
    total, batches = bulk.classify(rows(), predict, batch_size=2, on_scored=scored.append)
    assert total == 5
    results = [r for batch in batches for r in batch]
    assert [r.row.provision for r in results] == [0, 1, 2, 3, 4] and calls == [2, 2, 1]
    assert sorted(scored) == [1, 2, 2]
    assert results[0].confidence == 0.6 and results[0].margin == pytest.approx(0.4)


def test_a_bad_row_raises_before_any_result_is_returned():
    def rows():
        yield bulk.Row("d", 0, GOVERNING)
        raise bulk.UserError("b.pdf: not a readable PDF")

    with pytest.raises(bulk.UserError, match=r"b\.pdf"):
        bulk.classify(rows(), lambda texts: None, batch_size=1)


def test_a_model_error_reaches_the_caller():
    def predict(texts):
        raise RuntimeError("model crashed")

    _, batches = bulk.classify([bulk.Row("d", 0, "x")], predict, batch_size=8)
    with pytest.raises(RuntimeError, match="model crashed"):
        list(batches)


def test_json_writer_writes_valid_json_even_when_empty():
    out = io.StringIO()
    writer = bulk.Writer(out, "json")
    writer.close()
    assert json.loads(out.getvalue()) == []


def test_csv_writer_writes_exactly_what_the_csv_module_writes():
    texts = ["plain", "a, b", 'say "no"', '"quoted", and, commas', "two\nlines", "cr\rinside", "", " lead ", "tab\t"]
    results = [
        bulk.Result(bulk.Row(f"dir/{text}.txt", i, text, number, heading, start, None), text or "x", 0.5 + i, -1e-7)
        for i, text in enumerate(texts)
        for number, heading, start in [(None, None, None), ("1.2(a)", text, 7)]
    ]
    out = io.StringIO()
    writer = bulk.Writer(out, "csv")
    writer.write(results[:5])
    writer.write(results[5:])
    writer.close()
    expected = io.StringIO()
    reference = csv.writer(expected, lineterminator="\n")
    reference.writerow(bulk.COLUMNS)
    reference.writerows(r.values() for r in results)
    assert out.getvalue() == expected.getvalue()
    assert writer.count == len(results)
