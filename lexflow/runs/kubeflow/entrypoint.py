"""The container command of every task of the compiled pipeline: `python -m lexflow.runs.kubeflow.entrypoint`.

It takes exactly the arguments of TFX's own entry point
(`tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor`: `--executor_class_path`,
`--json_serialized_invocation_args` = the ExecutorInput, `--json_serialized_inputs_spec_args`, then
Beam arguments), adapts the ExecutorInput of the open-source KFP launcher (executor_input.py), runs
TFX's entry point in this process, and writes the ExecutorOutput back with bucket URIs. On Vertex AI
it changes nothing.

LEXFLOW_KFP_LOCAL_ROOT moves the launcher's local folders (/minio, /s3) under another directory;
only the execution test sets it (its "launcher" stages artifacts under a temporary directory).
"""

import core.tf_env  # noqa: F401  (must precede TensorFlow)

import argparse
import json
import os
import sys

from absl import app, logging
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor as tfx_entrypoint

from lexflow.runs.kubeflow.executor_input import DEFAULT_LOCAL_ROOT, AdaptError, adapt, restore_output

LOCAL_ROOT_ENV = "LEXFLOW_KFP_LOCAL_ROOT"


def _is_local(path: str) -> bool:
    return "://" not in path


def run(args: argparse.Namespace, beam_args: list[str]) -> None:
    executor_input = json.loads(args.json_serialized_invocation_args)
    inputs_spec = json.loads(args.json_serialized_inputs_spec_args) if args.json_serialized_inputs_spec_args else None
    adapted = adapt(executor_input, inputs_spec, os.environ.get(LOCAL_ROOT_ENV, DEFAULT_LOCAL_ROOT))
    for key in adapted.dropped_outputs:
        logging.info("Output %s is the KFP launcher's own (not a TFX output): left to the launcher.", key)
    for local, remote in adapted.remote_of.items():
        logging.info("%s is read and written at the launcher's local copy %s.", remote, local)
    args.json_serialized_invocation_args = json.dumps(adapted.executor_input)

    tfx_entrypoint.main((args, beam_args))

    output_file = executor_input.get("outputs", {}).get("outputFile", "")
    # The OSS launcher reads a local output file; Vertex AI hands a gs:// one and needs nothing restored.
    if output_file and _is_local(output_file) and os.path.exists(output_file):
        with open(output_file, encoding="utf-8") as handle:
            executor_output = json.load(handle)
        with open(output_file, "w", encoding="utf-8") as handle:
            json.dump(restore_output(executor_output, adapted.remote_of), handle)


def main(parsed: tuple[argparse.Namespace, list[str]]) -> None:
    args, beam_args = parsed
    try:
        run(args, beam_args)
    except AdaptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    # TFX's own flag parser: the same command line as its entry point.
    app.run(main, flags_parser=tfx_entrypoint._parse_flags)
