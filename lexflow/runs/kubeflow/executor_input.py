"""What the open-source KFP launcher hands a task, made into what TFX 1.16's entry point can run (pure).

The KFP backend (kubeflow/pipelines `backend/src/v2`) builds an ExecutorInput that TFX's
`kubeflow_v2_run_executor` was never written for (it targets Vertex AI); see docs/kubeflow.md for
the sources. `adapt` fixes the three differences on the JSON before TFX parses it, and
`restore_output` puts the bucket URIs back into the ExecutorOutput TFX writes:

1. Input artifacts arrive typed `{"instanceSchema": ""}`: the driver never looks up the producer's
   schema (metadata/client.go `GetOutputArtifactsByExecutionId`). TFX then fails parsing "".
   The type is taken from the component's inputs spec, which the compiled command line carries.
2. KFP >= 2.5 adds an output `executor-logs` typed `system.Artifact` (the launcher's own log file,
   driver.go `provisionOutputs`). No TFX component declares it and TFX cannot import that type, so
   TFX does not see it; the launcher still uploads the log.
3. Artifact URIs under a `minio://` or `s3://` pipeline root, which TF cannot open. The launcher
   has downloaded every input to, and uploads every output from, a local path
   (launcher_v2.go `LocalPathForURI`: minio://b/k -> /minio/b/k, s3://b/k -> /s3/b/k): TFX reads
   and writes there. gs:// stays as it is: TF opens it, and remote Beam workers (Dataflow) need it.
4. The parameter `RUN_PARAMETER` (the run's id) exists only for KFP's cache key: the compiler gives it
   to the tasks that must run every time (lexflow/runs/kubeflow/caching.py). No TFX component declares
   it, so TFX does not see it.

Vertex AI's ExecutorInput has typed artifacts, gs:// URIs and no extra output, so it passes unchanged.
"""

from __future__ import annotations

import copy
import posixpath
from dataclasses import dataclass, field
from typing import Any

# Schemes the launcher copies to local paths and TF cannot open: scheme -> local folder.
LOCAL_FOLDERS = {"minio": "minio", "s3": "s3"}
# The launcher's local paths start at the container's root; a test points this elsewhere.
DEFAULT_LOCAL_ROOT = "/"
# A task parameter for KFP's cache key alone (the run's id: no two runs share a key), never an exec property.
RUN_PARAMETER = "lexflow_run_id"


class AdaptError(ValueError):
    """The ExecutorInput cannot be made runnable (names what is missing)."""


@dataclass
class Adapted:
    executor_input: dict[str, Any]
    # local path -> bucket URI, for every URI that was rewritten (outputs and inputs)
    remote_of: dict[str, str] = field(default_factory=dict)
    dropped_outputs: list[str] = field(default_factory=list)


def local_path(uri: str, local_root: str = DEFAULT_LOCAL_ROOT) -> str | None:
    """The launcher's local copy of `uri`, or None when the launcher leaves that scheme to the executor."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in LOCAL_FOLDERS:
        return None
    return posixpath.join(local_root, LOCAL_FOLDERS[scheme], rest)


def _is_untyped(artifact_type: dict[str, Any] | None) -> bool:
    return not artifact_type or not (artifact_type.get("schemaTitle") or artifact_type.get("instanceSchema"))


def _is_kfp_system_type(artifact_type: dict[str, Any] | None) -> bool:
    # TFX types every output with an instanceSchema ("title: tfx.Examples ..."); KFP's own are schemaTitle system.*
    return str((artifact_type or {}).get("schemaTitle", "")).startswith("system.")


def _localize(artifact: dict[str, Any], local_root: str, remote_of: dict[str, str]) -> None:
    uri = artifact.get("uri", "")
    # KFP >= 2.15 may name the local path itself (customPath); it wins, as in the launcher.
    path = artifact.get("customPath") or local_path(uri, local_root)
    if path and uri:
        remote_of[path] = uri
        artifact["uri"] = path


def adapt(
    executor_input: dict[str, Any], inputs_spec: dict[str, Any] | None, local_root: str = DEFAULT_LOCAL_ROOT
) -> Adapted:
    """A copy of `executor_input` that TFX's entry point parses and runs (see the module docstring)."""
    result = Adapted(copy.deepcopy(executor_input))
    result.executor_input.get("inputs", {}).get("parameterValues", {}).pop(RUN_PARAMETER, None)
    declared = (inputs_spec or {}).get("artifacts", {})
    inputs = result.executor_input.get("inputs", {}).get("artifacts", {})
    for key, artifact_list in inputs.items():
        for artifact in artifact_list.get("artifacts", []):
            if _is_untyped(artifact.get("type")):
                if key not in declared or "artifactType" not in declared[key]:
                    raise AdaptError(
                        f"input artifact '{key}' has no type and the component's inputs spec declares none"
                    )
                artifact["type"] = copy.deepcopy(declared[key]["artifactType"])
            _localize(artifact, local_root, result.remote_of)
    outputs = result.executor_input.get("outputs", {}).get("artifacts", {})
    for key in list(outputs):
        artifacts = outputs[key].get("artifacts", [])
        if any(_is_kfp_system_type(a.get("type")) for a in artifacts):
            del outputs[key]
            result.dropped_outputs.append(key)
            continue
        for artifact in artifacts:
            _localize(artifact, local_root, result.remote_of)
    return result


def remote_uri(uri: str, remote_of: dict[str, str]) -> str:
    """The bucket URI of a local path the executor reported (also a path below a rewritten one)."""
    if uri in remote_of:
        return remote_of[uri]
    for local, remote in remote_of.items():
        if uri.startswith(local.rstrip("/") + "/"):
            return remote.rstrip("/") + uri[len(local.rstrip("/")) :]
    return uri


def _restored(value: Any, remote_of: dict[str, str]) -> Any:
    """Metadata with local paths made bucket URIs again (TFX records e.g. the Evaluator's `current_model`
    as a path), without nulls: the launcher's MLMD conversion rejects them (metadata/converter.go
    `StructValueToMLMDValue`)."""
    if isinstance(value, dict):
        return {k: _restored(v, remote_of) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_restored(v, remote_of) for v in value if v is not None]
    if isinstance(value, str):
        return remote_uri(value, remote_of)
    return value


def restore_output(executor_output: dict[str, Any], remote_of: dict[str, str]) -> dict[str, Any]:
    """The ExecutorOutput with bucket URIs where TFX reported local paths, as the launcher must record them.

    The launcher keeps a URI the executor reports (launcher_v2.go `mergeRuntimeArtifacts`) and records it
    in ML Metadata, where downstream tasks and the UI read it: it must be the bucket URI, never a local path.
    """
    result = copy.deepcopy(executor_output)
    for artifact_list in result.get("artifacts", {}).values():
        for artifact in artifact_list.get("artifacts", []):
            if artifact.get("uri"):
                artifact["uri"] = remote_uri(artifact["uri"], remote_of)
            if "metadata" in artifact:
                artifact["metadata"] = _restored(artifact["metadata"], remote_of)
    return result
