"""Driver of SpanExampleGen: a fingerprint of the files the window reads, for the cache key.

The executor resolves spans itself (so it runs the same where no driver runs, as on Kubeflow);
this driver only puts a fingerprint of those files (path, size, modification time) into the
exec properties before the orchestrator's cache lookup, so an unchanged data root re-uses the
cached run and a new or rewritten span re-ingests. LocalDagRunner runs it; on Kubeflow the
compiled spec turns caching off for this task instead (lexflow/runs/kubeflow/compile.py).
"""

from __future__ import annotations

from tfx.dsl.components.base import base_driver
from tfx.dsl.io import fileio
from tfx.orchestration import data_types_utils
from tfx.orchestration import metadata as tfx_metadata
from tfx.orchestration.portable import base_driver as ir_base_driver
from tfx.orchestration.portable import data_types as portable_data_types
from tfx.proto.orchestration import driver_output_pb2

from components.span_example_gen import window as w
from components.span_example_gen.executor import resolve_window
from components.span_example_gen.spec import FINGERPRINT_KEY, INPUT_BASE_KEY, INPUT_PATTERN_KEY, WINDOW_KEY


class Driver(base_driver.BaseDriver, ir_base_driver.BaseDriver):
    def __init__(self, metadata_handle: tfx_metadata.Metadata):
        base_driver.BaseDriver.__init__(self, metadata_handle)
        ir_base_driver.BaseDriver.__init__(self, metadata_handle)

    def run(self, execution_info: portable_data_types.ExecutionInfo) -> driver_output_pb2.DriverOutput:
        properties = execution_info.exec_properties
        base = str(properties[INPUT_BASE_KEY]).rstrip("/")
        found = resolve_window(base, str(properties[INPUT_PATTERN_KEY]), int(properties[WINDOW_KEY]))
        entries = []
        for _, name in found.files_to_read():
            stat = fileio.stat(f"{base}/{name}")
            entries.append((name, int(stat.length), float(stat.mtime_nsec) / 1e9))
        result = driver_output_pb2.DriverOutput()
        for key, value in properties.items():
            if value is not None:
                data_types_utils.set_metadata_value(result.exec_properties[key], value)
        data_types_utils.set_metadata_value(result.exec_properties[FINGERPRINT_KEY], w.fingerprint(entries))
        return result
