"""Bad input gets one clear line naming the path and the problem (CLI level and function level)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import UserError
from core.spans import csv_files, resolve_input_pattern
from lexflow.runs.preflight import check_run_inputs
from pipeline.config import PipelineConfig

REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path, data_root, **kw):
    return PipelineConfig(
        data_root=data_root,
        pipeline_root=tmp_path / "p",
        metadata_path=tmp_path / "m.sqlite",
        serving_dir=tmp_path / "s",
        **kw,
    )


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_span_layout_reads_the_latest_span(tmp_path):
    _write(tmp_path / "span-0" / "a.csv", "text,label\nx,y\n")
    _write(tmp_path / "span-2" / "b.csv", "text,label\nx,y\n")
    _write(tmp_path / "span-10" / "c.csv", "text,label\nx,y\n")
    assert resolve_input_pattern(tmp_path) == "span-{SPAN}/*.csv"
    assert [p.name for p in csv_files(tmp_path, "span-{SPAN}/*.csv")] == ["c.csv"]  # numeric, not lexical


def test_flat_layout_and_explicit_pattern(tmp_path):
    _write(tmp_path / "train.csv", "text,label\nx,y\n")
    _write(tmp_path / "test.csv", "text,label\nx,y\n")
    assert resolve_input_pattern(tmp_path) == "*.csv"
    assert [p.name for p in csv_files(tmp_path, resolve_input_pattern(tmp_path, "train.csv"))] == ["train.csv"]


@pytest.mark.parametrize(
    "setup, expected",
    [
        (lambda root: None, "does not exist"),
        (lambda root: root.mkdir(), "no CSV files match"),
        (lambda root: _write(root / "span-0" / "d.csv", ""), "empty CSV"),
        (lambda root: _write(root / "span-0" / "d.csv", "text,label\n"), "no data rows"),
        (lambda root: _write(root / "span-0" / "d.csv", "body,label\nx,y\n"), "no 'text' column"),
        (lambda root: _write(root / "span-0" / "d.csv", "text\nx\n"), "no 'label' column"),
    ],
)
def test_bad_data_roots(tmp_path, setup, expected):
    root = tmp_path / "data"
    setup(root)
    with pytest.raises(UserError, match=expected) as raised:
        check_run_inputs(_config(tmp_path, root))
    assert str(root) in str(raised.value)


def test_unwritable_pipeline_root(tmp_path):
    _write(tmp_path / "data" / "span-0" / "d.csv", "text,label\nx,y\n")
    blocker = _write(tmp_path / "file", "not a dir")
    config = _config(tmp_path, tmp_path / "data").model_copy(update={"pipeline_root": blocker / "root"})
    with pytest.raises(UserError, match=r"pipeline root .*file/root cannot be created"):
        check_run_inputs(config)


def test_cli_prints_one_line_and_exits_nonzero(tmp_path):
    _write(tmp_path / "data" / "span-0" / "d.csv", "body,label\nx,y\n")
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "local_runner.py"),
            "--data-root",
            str(tmp_path / "data"),
            "--pipeline-root",
            str(tmp_path / "p"),
            "--metadata-path",
            str(tmp_path / "m.sqlite"),
            "--serving-dir",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "no 'text' column" in error_lines[0] and "d.csv" in error_lines[0]


def test_cli_rejects_bad_option_values(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "local_runner.py"), "--train-steps", "0", "--pipeline-root", str(tmp_path / "p")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "train.train_steps" in result.stderr and "Traceback" not in result.stderr


def test_a_metadata_path_that_is_a_folder_or_not_sqlite_is_named(tmp_path):
    from lexflow.runs.preflight import check_metadata_store

    with pytest.raises(UserError, match=rf"metadata store {tmp_path} is not a file"):
        check_metadata_store(tmp_path)
    (tmp_path / "notes.sqlite").write_text("not a database")
    with pytest.raises(UserError, match=r"notes\.sqlite cannot be written: file is not a database"):
        check_metadata_store(tmp_path / "notes.sqlite")
    check_metadata_store(tmp_path / "new.sqlite")  # not there yet: the run creates it


@pytest.fixture
def run_cli(monkeypatch, tmp_path):
    """`lexflow run` in-process, stopped where the pipeline would start: (invoke(args), configs seen)."""
    import typer
    from typer.testing import CliRunner

    import lexflow.runs.local_run as local_run
    from lexflow.cli.run import run

    seen = []

    def fake_run_local(config, on_status=None, preflight=True):
        seen.append(config)
        raise UserError("stop here")

    monkeypatch.setattr(local_run, "run_local", fake_run_local)
    app = typer.Typer()
    app.command()(run)
    base = ["--pipeline-root", str(tmp_path / "p"), "--metadata-path", str(tmp_path / "m.sqlite")]
    base += ["--serving-dir", str(tmp_path / "s")]
    return (lambda args: CliRunner().invoke(app, base + list(args))), seen


def test_search_options_reach_the_config(run_cli):
    """`--no-search` and `--search-budget` set the `tuning` section the pipeline is built from."""
    invoke, seen = run_cli
    for args, enabled, budget in (
        ([], True, 300.0),
        (["--no-search"], False, 300.0),
        (["--search-budget", "45"], True, 45.0),
    ):
        result = invoke(args)
        assert result.exit_code == 2, result.output
        assert (seen[-1].tuning.enabled, seen[-1].tuning.time_budget_seconds) == (enabled, budget)
    result = invoke(["--search-budget", "0"])
    assert result.exit_code == 2 and "tuning.time_budget_seconds" in result.output
    # The search sizes its own steps: --train-steps alone would be ignored, so it is refused.
    calls = len(seen)
    result = invoke(["--train-steps", "12"])
    assert result.exit_code == 2 and "--train-steps 12: the model search sizes its own steps" in result.output
    assert len(seen) == calls
    result = invoke(["--no-search", "--train-steps", "12"])
    assert result.exit_code == 2 and "stop here" in result.output and seen[-1].train.train_steps == 12


def test_an_encoder_run_has_no_model_search(run_cli, tmp_path):
    """With --encoder the encoder is the model: the pipeline has no search, and asking for one is an error."""
    from tests.trainer.encoder.tiny_bert import write_tiny_bert

    invoke, seen = run_cli
    encoder = ["--encoder", str(write_tiny_bert(tmp_path / "bert"))]
    result = invoke([*encoder, "--train-steps", "12"])
    assert result.exit_code == 2 and "stop here" in result.output
    assert not seen[-1].runs_model_search() and seen[-1].train_and_eval_steps()[0] == 12
    for extra in (["--search"], ["--search-budget", "60"]):
        result = invoke(encoder + extra)
        assert result.exit_code == 2 and "no model search runs with an encoder" in result.output, result.output
    assert len(seen) == 1  # neither reached the pipeline


# --- intake: every file in full, before TensorFlow loads ----------------------------------------------


def test_a_bad_byte_anywhere_is_named_with_file_and_line(tmp_path):
    from lexflow.runs.preflight import check_csv

    path = tmp_path / "d.csv"
    path.write_bytes(b"text,label\nfine,a\nalso fine,b\n" + "caf\u00e9,a\n".encode("latin-1"))
    with pytest.raises(UserError, match=rf"{path}:4: not UTF-8 \(byte 0xe9"):
        check_csv(path)


def test_a_byte_order_mark_is_accepted_here_and_by_the_pipelines_reader(tmp_path):
    from components.span_example_gen.window import parse_rows
    from lexflow.runs.preflight import check_csv

    path = tmp_path / "d.csv"
    path.write_bytes(b"\xef\xbb\xbftext,label\nx,y\nz,w\n")
    assert check_csv(path).columns == ["text", "label"]
    [row] = parse_rows(["\ufefftext,label\n", "x,y\n"], "d.csv", 0)
    assert {k: v for k, v in row.items() if not k.startswith("__")} == {"text": "x", "label": "y"}


def test_a_row_longer_than_the_header_is_named(tmp_path):
    from lexflow.runs.preflight import check_csv

    path = _write(tmp_path / "d.csv", "text,label\nok,a\nPayment, net 30,payment terms\n")
    with pytest.raises(UserError, match=rf"{path}:3: 3 cells for 2 columns"):
        check_csv(path)


def test_every_span_the_run_reads_is_checked(tmp_path):
    """The corpus (span 0) is read with the newest span: a bad byte there is found before the run."""
    (tmp_path / "data" / "span-0").mkdir(parents=True)
    (tmp_path / "data" / "span-0" / "corpus.csv").write_bytes(b"text,label\nx,a\n\xff,b\n")
    _write(tmp_path / "data" / "span-1" / "feedback.csv", "text,label,source\ny,a,feedback\n")
    with pytest.raises(UserError, match=r"span-0/corpus\.csv:3: not UTF-8"):
        check_run_inputs(_config(tmp_path, tmp_path / "data"))


def test_a_single_row_label_like_another_is_a_warning(tmp_path):
    rows = ["governing law"] * 5 + ["Goverming law", "termination", "termination", "waiver", "waiver"]
    _write(tmp_path / "data" / "span-0" / "d.csv", "text,label\n" + "".join(f"t{i},{r}\n" for i, r in enumerate(rows)))
    warnings = check_run_inputs(_config(tmp_path, tmp_path / "data"))
    assert len(warnings) == 1, warnings
    assert "'Goverming law' has a single row" in warnings[0] and "typo of 'governing law' (5 rows)" in warnings[0]
    assert "span-0/d.csv:7" in warnings[0]


def test_cli_intake_error_comes_before_tensorflow_loads(tmp_path):
    """`lexflow run` on a file with a Latin-1 byte: one error line naming file and line, and
    TensorFlow never imported (python -X importtime lists every module the process loaded)."""
    (tmp_path / "data" / "span-0").mkdir(parents=True)
    (tmp_path / "data" / "span-0" / "d.csv").write_bytes(b"text,label\nx,a\nna\xefve,b\n")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lexflow.cli", "run", "--data-root", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "LEXFLOW_HOME": str(tmp_path)},
    )
    lines = result.stderr.splitlines()
    imported = {line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time:")}
    errors = [line for line in lines if line.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1, result.stderr[-2000:]
    assert "span-0/d.csv:3: not UTF-8" in errors[0]
    assert "tensorflow" not in imported and "tfx" not in imported
