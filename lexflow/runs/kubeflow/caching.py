"""KFP's cache must never answer for a task that reads or writes what its inputs do not name.

KFP's cache key (backend/src/v2/cacheutils/cache.go `GenerateCacheKey`) holds a task's input artifact
ids, parameter values, output specs, image name and command: not the files ExampleGen lists, nor the
model base dir ProductionBaseline reads (routing.json, the versions) and the Pusher writes. Those tasks
(pipeline.RUN_EVERY_TIME) are compiled without `cachingOptions`, and since `enable_caching=True` at
submission turns caching on for every task anyway (kfp `Client.create_run_from_pipeline_package` /
`create_recurring_run` rewrite each task's `cachingOptions`; Vertex AI `PipelineJob` likewise), they also
take the run's id as a parameter: `{{$.pipeline_job_uuid}}`, which the KFP driver resolves from 2.5.0
(driver.go `resolveInputParameter`; resolve.go in 2.17.0) and Vertex AI always, so no two runs share
their key. KFP 2.0-2.4 pass the placeholder through verbatim: there, leave `enable_caching` unset.

The image is in the key by name: a tag rebuilt in place (the project's code, `schema/`) would be served
from cache and nodes may run an older pull. A digest changes with the content.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from lexflow.runs.kubeflow.executor_input import RUN_PARAMETER
from pipeline.pipeline import RUN_EVERY_TIME

RUN_ID_PLACEHOLDER = "{{$.pipeline_job_uuid}}"
INPUTS_SPEC_ARG = "--json_serialized_inputs_spec_args"

ENABLE_CACHING_NOTE = (
    "caching: do not force it on for a run (enable_caching=True in kfp.Client create_run_from_pipeline_package "
    f"or create_recurring_run, or Vertex AI PipelineJob): {', '.join(RUN_EVERY_TIME)} are compiled uncached and "
    "carry the run's id, which keeps them running on KFP 2.5+ and Vertex AI; KFP 2.0-2.4 would serve them "
    "from cache (stale spans, baseline and push). Leave it unset, or compile with --no-cache"
)


def run_every_time(spec: dict[str, Any]) -> None:
    """No cache for the RUN_EVERY_TIME tasks, and the run's id among their parameters (their cache key)."""
    tasks = spec["root"]["dag"]["tasks"]
    for name in RUN_EVERY_TIME:
        task = tasks[name]
        task.pop("cachingOptions", None)
        task.setdefault("inputs", {}).setdefault("parameters", {})[RUN_PARAMETER] = {
            "runtimeValue": {"constant": RUN_ID_PLACEHOLDER}
        }
        component = spec["components"][task["componentRef"]["name"]]
        definitions = component.setdefault("inputDefinitions", {})
        definitions.setdefault("parameters", {})[RUN_PARAMETER] = {"parameterType": "STRING"}
        # The entry point's copy of the inputs spec (TFX reads parameter types there) says the same.
        container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
        args = container["args"]
        args[args.index(INPUTS_SPEC_ARG) + 1] = json.dumps(definitions, sort_keys=True)


def mutable_image_warning(image: str) -> Optional[str]:
    """A warning when `image` is a tag rather than a digest."""
    if "@sha256:" in image:
        return None
    name = image.rsplit("/", 1)[-1]
    repository = image.rsplit(":", 1)[0] if ":" in name else image
    return (
        f"image {image} is a tag, which can move: KFP's cache key holds the image's name, not its content, so "
        "a rebuild under the same tag (new code, a new schema/) is served from cache, and nodes may run an "
        f"older pull; compile with the digest the push printed ({repository}@sha256:...)"
    )
