"""Run `create_pipeline(config)` with TFX's LocalDagRunner: Beam DirectRunner, SQLite MLMD."""

from __future__ import annotations

import core.tf_env  # noqa: F401

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Optional

from components.data_gate import DataValidationError
from components.drift_check import DriftError
from components.span_example_gen.window import MalformedCsv
from core.errors import UserError
from lexflow.reports.run_summary import RunSummary, publish_lineage, summarize
from lexflow.runs.beam_state_cache import without_state_cache
from lexflow.runs.preflight import check_run_inputs
from lexflow.runs.schemas import resolve_schema
from pipeline.config import PipelineConfig

# Failures the user fixes in the data (exit code 2): the data gate's anomalies, drift when the
# config says to stop on it, an unreadable CSV row, a data root without matching files.
DATA_ERRORS = (DataValidationError, DriftError, MalformedCsv, FileNotFoundError)


class PipelineFailed(Exception):
    """A component failed; the message names it and the reason in one line."""

    def __init__(self, message: str, summary: Optional[RunSummary] = None, exit_code: int = 1):
        super().__init__(message)
        self.summary = summary
        self.exit_code = exit_code


def _root_cause(exc: BaseException) -> BaseException:
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DATA_ERRORS):
            return exc
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            return exc
        exc = nxt
    return exc


@contextlib.contextmanager
def _argv_without_options() -> Iterator[None]:
    """TFX's Beam executors parse `sys.argv` with absl, where our `-v` is absl's `--verbosity`
    (and swallows the next argument); our CLI has read its options already."""
    saved = sys.argv
    sys.argv = saved[:1]
    try:
        yield
    finally:
        sys.argv = saved


def quiet_logs(verbose: bool) -> None:
    """TFX, Beam and TF log every step at INFO; a user wants the summary unless asked."""
    import absl.logging
    import tf_keras

    # TFX's own WARNINGs (e.g. "ArtifactQuery.property_predicate is not supported") are
    # about its internals; errors still show.
    level = logging.INFO if verbose else logging.ERROR
    absl.logging.set_verbosity(absl.logging.INFO if verbose else absl.logging.ERROR)
    for name in ("apache_beam", "tensorflow", "absl", "tfx", "root", ""):
        logging.getLogger(name).setLevel(level)
    # Keras prints its epoch lines to stdout; without interactive logging they go to absl at INFO.
    if verbose:
        tf_keras.utils.enable_interactive_logging()
    else:
        tf_keras.utils.disable_interactive_logging()


def trained_spans(config: PipelineConfig) -> set[int]:
    """Spans the newest run's Transform read (its window), from this pipeline's metadata."""
    from lexflow.metadata import store as md

    if not config.metadata_path.is_file():
        return set()
    store = md.open_store(config.metadata_path)
    executions = md.node_executions(store, config.pipeline_name, "Transform")
    if not executions:
        return set()
    return {span for a in md.input_artifacts(store, executions[-1].id, "examples") for span in md.spans_of(a)}


def run_local(
    config: PipelineConfig, on_status: Optional[Callable[[str], None]] = None, preflight: bool = True
) -> RunSummary:
    """Preflight, resolve the schema, run the pipeline, return the run summary.

    Raises UserError for bad inputs and PipelineFailed when a component fails
    (a DataValidationError from the data gate is reported with its anomalies).
    """
    from tfx import v1 as tfx

    from pipeline.pipeline import create_pipeline

    if preflight:  # off where the caller checked already (the CLI, before TensorFlow loads), and in
        # tests that feed bad data to the pipeline's own data gate
        for warning in check_run_inputs(config):
            if on_status:
                on_status(f"warning: {warning}")
    resolved = resolve_schema(config)
    if on_status:
        on_status(
            f"schema: {resolved.path}"
            + (" (TFDV draft: review it and check it in under schema/)" if resolved.drafted else "")
        )
    config = config.model_copy(update={"schema_path": resolved.path})
    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(str(config.metadata_path))
    pipeline = create_pipeline(config, metadata_connection_config=metadata)
    in_memory = config.beam.runner == "DirectRunner" and config.beam.direct_running_mode == "in_memory"
    try:
        with _argv_without_options(), without_state_cache(in_memory):
            tfx.orchestration.LocalDagRunner().run(pipeline)
    except Exception as exc:  # any component failure surfaces here
        # TFX logs "Execution N failed." without the traceback; keep it for --verbose.
        logging.getLogger(__name__).info("pipeline failed", exc_info=True)
        cause = _root_cause(exc)
        try:
            summary = summarize(config, resolved.path, resolved.drafted)
        except UserError:
            summary = None
        failed = next((c.component for c in (summary.components if summary else []) if c.state == "FAILED"), None)
        where = f"{failed} failed: " if failed else "pipeline failed: "
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        data_error = isinstance(cause, DATA_ERRORS)
        message = where + (reason if data_error else f"{type(cause).__name__}: {reason}")
        raise PipelineFailed(message, summary, exit_code=2 if data_error else 1) from exc
    summary = summarize(config, resolved.path, resolved.drafted)
    # The gateway's models page reads a version's lineage from this file (it may not read MLMD): in
    # the reports directory beside the pipeline root, artifacts/<model>/reports by default, which
    # is the gateway's default LEXFLOW_REPORTS_DIR.
    publish_lineage(summary, config.local_path("pipeline_root").parent / "reports")
    return summary
