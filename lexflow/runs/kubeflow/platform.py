"""What Kubernetes gives every task's pod: the compiled YAML's platform spec, and where the pods find the
data root and the serving dir.

The platform spec is the second YAML document the KFP SDK writes for kfp-kubernetes (PVC mounts, Secret
keys as environment variables), built with kfp-kubernetes' own protos from `PipelineConfig.kubeflow`. The
KFP API server takes it from the uploaded file (apiserver/template/v2_template.go, 2.0.0-2.17.0), the
Argo compiler hands each executor's part to the driver (`--kubernetes_config`), and the driver adds the
volumes and variables to the pod (driver.go `extendPodSpecPatch`, 2.0.0; driver/k8s.go, 2.17.0). The
driver of 2.0.x parses that part strictly, so only fields kfp-kubernetes 1.0.0 has are written
(`pvcMount.constant`/`mountPath`, `secretAsEnv`): every 2.x release reads them.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from core.errors import UserError
from core.workspace import is_uri
from pipeline.config import KubeflowParams, PipelineConfig

# The data root and the serving dir are opened by TensorFlow in the pods (tf.io.gfile), not staged by the
# KFP launcher: TF 2.16 opens gs:// and local paths. S3 and MinIO are reached through a volume instead
# (the image carries no tensorflow-io, and the gateways, TF Serving and `lexflow promote` use paths).
READABLE_SCHEMES = ("gs://",)
LOCATIONS = (("data_root", "--data-root"), ("model_base_dir", "--model-base-dir"))


def check_locations(config: PipelineConfig, image_project_root: str, vertex: bool) -> None:
    """Refuse a data root or serving dir the pods could not reach, and volumes that hide the image's code."""
    kubeflow = config.kubeflow
    if vertex and (kubeflow.volumes or kubeflow.secrets_as_env):
        raise UserError(
            "kubeflow.volumes and kubeflow.secrets_as_env are Kubernetes settings, and the .json PipelineJob "
            "(Vertex AI) carries none: compile to .yaml for Kubeflow Pipelines, or use gs:// locations"
        )
    for volume in kubeflow.volumes:
        mount, code = PurePosixPath(volume.mount_path), PurePosixPath(image_project_root)
        if code.is_relative_to(mount) or mount.is_relative_to(code):
            raise UserError(
                f"kubeflow.volumes: {volume.claim} at {volume.mount_path} would hide or overlay the project in "
                f"the image ({image_project_root}): mount it elsewhere, e.g. /data"
            )
    for field, option in LOCATIONS:
        location = str(getattr(config, field))
        if is_uri(location):
            if not location.startswith(READABLE_SCHEMES):
                raise UserError(
                    f"{option} {location}: the pods open it with TensorFlow, which in the pipeline image reads gs:// "
                    "and paths, not s3:// or minio://: put it on a ReadWriteMany volume (kubeflow.volumes) and give "
                    "the in-pod path, e.g. /data/<dataset> (docs/kubeflow.md)"
                )
        elif kubeflow.volume_of(location) is None:
            mounts = ", ".join(f"{v.claim} at {v.mount_path}" for v in kubeflow.volumes) or "none"
            raise UserError(
                f"{option} {location} is a path inside the pods but on no declared volume (kubeflow.volumes: "
                f"{mounts}): what a task writes there is lost with its pod and the next run, the gateways and "
                "TF Serving never see it; declare the PersistentVolumeClaim it is on, or give a gs:// URI"
            )


def executor_config(kubeflow: KubeflowParams) -> dict[str, Any]:
    """One executor's KubernetesExecutorConfig as the KFP SDK writes it (kfp-kubernetes' `mount_pvc`,
    `use_secret_as_env`)."""
    from google.protobuf import json_format
    from kfp.kubernetes import kubernetes_executor_config_pb2 as k8s

    message = k8s.KubernetesExecutorConfig(
        pvc_mount=[k8s.PvcMount(constant=v.claim, mount_path=v.mount_path) for v in kubeflow.volumes],
        secret_as_env=[
            k8s.SecretAsEnv(
                secret_name=s.secret,
                key_to_env=[k8s.SecretAsEnv.SecretKeyToEnvMap(secret_key=k, env_var=e) for k, e in s.env.items()],
            )
            for s in kubeflow.secrets_as_env
        ],
    )
    return json_format.MessageToDict(message)


def platform_spec(spec: dict[str, Any], kubeflow: KubeflowParams) -> dict[str, Any]:
    """The PlatformSpec document for `spec`: every executor gets the same volumes and variables (the data
    root and the serving dir are read by several tasks; one rule keeps them the same everywhere).
    Empty when nothing is configured, as the KFP SDK writes no second document then."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    if not (kubeflow.volumes or kubeflow.secrets_as_env):
        return {}
    # One dict per executor: a shared one would come out as YAML anchors and aliases, which the SDK never writes.
    executors = {label: executor_config(kubeflow) for label in spec["deploymentSpec"]["executors"]}
    document = {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executors}}}}
    json_format.ParseDict(document, pipeline_spec_pb2.PlatformSpec())  # what the API server parses, strictly
    return document
