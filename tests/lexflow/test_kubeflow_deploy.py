"""deploy/kubeflow: the serving loop beside Kubeflow Pipelines, checked against the spec the documented
command compiles. The pipeline's tasks, the gateways, TF Serving and the jobs must name the same claims at
the same paths, in one namespace, so that a run's push is served, a promotion reaches the next run's
baseline and exported feedback reaches the next run (docs/kubeflow.md §2).

The overlay is rendered with `kubectl kustomize` (kustomize 5, as `kubectl apply -k` does).
"""

import json
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OVERLAY = REPO / "deploy" / "kubeflow"
IMAGE = "registry.example.com/lexflow@sha256:" + "5f" * 32


@pytest.fixture(scope="module")
def rendered():
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (with kustomize) is not installed")
    result = subprocess.run(["kubectl", "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The documented compile command (docs/kubeflow.md §3), as a user runs it from the repository root."""
    from tests.e2e.test_kubeflow_execution import documented_compile_command

    words = documented_compile_command()
    args = words[words.index("kubeflow_runner.py") + 1 :]
    args[args.index("--image") + 1] = IMAGE
    args[args.index("--config") + 1] = str(REPO / args[args.index("--config") + 1])
    output = tmp_path_factory.mktemp("kfp") / "pipeline.yaml"
    args[args.index("--output") + 1] = str(output)
    from typer.testing import CliRunner

    import kubeflow_runner

    result = CliRunner().invoke(kubeflow_runner.app, args)
    assert result.exit_code == 0, result.output
    spec, platform = yaml.safe_load_all(output.read_text())
    options = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
    return spec, platform, options


def _one(docs, kind, name):
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _pod(doc):
    template = doc["spec"]["jobTemplate"]["spec"]["template"] if doc["kind"] == "CronJob" else doc["spec"]["template"]
    return template["spec"]


def _claim_at(pod, container, path):
    """(claim, path inside it) of an absolute path in a container, or None when no claim holds it."""
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v
    }
    mounts = {m["mountPath"]: claims.get(m["name"]) for m in container.get("volumeMounts", [])}
    inside = [m for m in mounts if PurePosixPath(path).is_relative_to(m) and mounts[m]]
    if not inside:
        return None
    point = max(inside, key=len)
    return mounts[point], str(PurePosixPath(path).relative_to(point))


def _param(spec, task, name):
    return spec["root"]["dag"]["tasks"][task]["inputs"]["parameters"][name]["runtimeValue"]["constant"]


def _env(container):
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def test_everything_is_in_kfps_namespace_and_kfp_does_the_training(rendered):
    namespaces = {d["metadata"].get("namespace") for d in rendered}
    assert namespaces == {"kubeflow"}  # where standalone KFP runs its pipelines' pods
    kinds = {(d["kind"], d["metadata"]["name"]) for d in rendered}
    assert ("Namespace", "lexflow") not in kinds and ("CronJob", "retrain") not in kinds
    assert {("CronJob", "feedback-export"), ("Job", "seed-demo-data"), ("Deployment", "gateway")} <= kinds
    for claim in ("lexflow-data", "lexflow-models"):
        assert _one(rendered, "PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteMany"]


def test_pipeline_tasks_gateways_and_tf_serving_share_one_place_for_data_and_models(rendered, compiled):
    spec, platform, options = compiled
    gateway = _one(rendered, "Deployment", "gateway")
    gateway_pod = _pod(gateway)
    (gateway_container,) = gateway_pod["containers"]
    env = _env(gateway_container)
    # Every task mounts the claims where the gateways do.
    pipeline_mounts = {
        (m["constant"], m["mountPath"])
        for config in platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"].values()
        for m in config["pvcMount"]
    }
    assert {claim for claim, _ in pipeline_mounts} == {"lexflow-data", "lexflow-models"}
    for claim, path in pipeline_mounts:
        assert _claim_at(gateway_pod, gateway_container, path) == (claim, "."), (claim, path)
    # The data root the pipeline reads is where the gateways export feedback...
    assert options["--data-root"] == env["LEXFLOW_EXPORT_DATA_ROOT"]
    assert _param(spec, "ExampleGen", "input_base") == env["LEXFLOW_EXPORT_DATA_ROOT"]
    # ...and the Pusher's model base dir is the one the gateways route, keep TF Serving's config for, and
    # write routing.json into (ProductionBaseline's), the one TF Serving serves.
    model_base = json.loads(_param(spec, "Pusher", "push_destination"))["filesystem"]["base_directory"]
    assert model_base == f"{env['LEXFLOW_MODEL_BASE_DIR']}/{env['LEXFLOW_MODEL_NAME']}"
    assert model_base == env["LEXFLOW_TFSERVING_BASE_PATH"] == _param(spec, "ProductionBaseline", "model_dir")
    tfserving_pod = _pod(_one(rendered, "Deployment", "tfserving"))
    (tfserving,) = tfserving_pod["containers"]
    assert _claim_at(tfserving_pod, tfserving, model_base) == _claim_at(gateway_pod, gateway_container, model_base)
    assert _claim_at(gateway_pod, gateway_container, model_base)[0] == "lexflow-models"


def test_feedback_export_job_calls_the_gateway_with_its_key_and_the_seed_fills_the_data_root(rendered, compiled):
    _, _, options = compiled
    gateway = _one(rendered, "Deployment", "gateway")
    (gateway_container,) = _pod(gateway)["containers"]
    export = _one(rendered, "CronJob", "feedback-export")
    assert export["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = _pod(export)["containers"]
    command = " ".join(container["args"])
    service = _one(rendered, "Service", "gateway")
    assert f"http://{service['metadata']['name']}/v1/feedback/export" in command and "-X POST" in command
    assert "$LEXFLOW_API_KEY" in command
    assert _env(container)["LEXFLOW_API_KEY"] == _env(gateway_container)["LEXFLOW_API_KEY"]  # the same Secret key
    seed = _one(rendered, "Job", "seed-demo-data")
    seed_pod = _pod(seed)
    (seeder,) = seed_pod["containers"]
    assert options["--data-root"] in seeder["args"][0]
    assert _claim_at(seed_pod, seeder, options["--data-root"]) == _claim_at(
        _pod(gateway), gateway_container, options["--data-root"]
    )
    for job in (export, seed):
        template = (
            job["spec"]["jobTemplate"]["spec"]["template"] if job["kind"] == "CronJob" else job["spec"]["template"]
        )
        assert template["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"  # a Job must end
        assert _pod(job)["securityContext"]["runAsNonRoot"] is True


def test_everything_that_writes_the_volumes_is_user_10001(rendered):
    """The Pusher (the pipeline image's user), the gateways and TF Serving's config seeding write the same
    folders; TF Serving only reads."""
    from tests.deploy.test_deploy import _args

    assert _args(REPO / "Dockerfile", "USER")[-1] == "10001"
    tfserving_pod = _pod(_one(rendered, "Deployment", "tfserving"))
    (seed,) = tfserving_pod["initContainers"]
    assert seed["securityContext"]["runAsUser"] == 10001
    assert str(_pod(_one(rendered, "Deployment", "gateway"))["securityContext"]["runAsUser"]) == "10001"
    assert all(m.get("readOnly") for m in tfserving_pod["containers"][0]["volumeMounts"] if m["name"] == "models")


def test_manifests_validate_against_kubernetes_schemas(rendered):
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")
    for doc in rendered:
        kubernetes_validate.validate(doc, "1.29.0", strict=True)
