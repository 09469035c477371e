"""A stand-in for the open-source KFP v2 backend's driver and launcher: runs one compiled PipelineSpec.

Each task runs as KFP runs it, read from kubeflow/pipelines (backend/src/v2, tag 2.17.0 unless named;
file:line in docs/kubeflow.md), with the local disk standing in for the object store and for each pod:

- order: `dependentTasks` (Argo `depends`, compiler/argocompiler/dag.go `depends`) and the producers of
  `taskOutputArtifact` inputs;
- driver (driver/container.go `Container`, driver/resolve.go `resolveInputs`): parameters only in
  `parameterValues` (`runtimeValue.constant`, pipeline placeholders substituted), STRING parameters
  given as text; input artifacts from the producer's recorded ML Metadata artifact
  (`resolveUpstreamArtifacts`): `name` = the MLMD id, `type` = `{"instanceSchema": ""}` (the schema is
  never looked up, metadata/client.go `GetOutputArtifactsByExecutionId`), `uri`, and `metadata` after the
  MLMD round trip (metadata/converter.go `StructValueToMLMDValue` / `toRuntimeArtifact`: numbers come
  back as doubles, bools as 0/1, lists and dicts wrapped in {"list": ..} / {"struct": ..}) plus the
  `display_name` and `store_session_info` the launcher recorded (metadata/client.go `RecordArtifact`);
- outputs (driver/driver.go `provisionOutputs`): `<root>/<pipeline>/<run-id>/<task>/<uuid>/<key>` with the
  outputDefinition's type and `name` (2.15+), the launcher's `executor-logs` output (2.5+), the
  ExecutorOutput file under the task's local root (2.15+); or the 2.0-2.3 shape (no uuid, no logs,
  /tmp/kfp_outputs/output_metadata.json) with `release="2.3"`;
- the platform spec (kfp-kubernetes, driver.go `extendPodSpecPatch` / driver/k8s.go): each executor's
  `pvcMount` and `secretAsEnv`, parsed as strictly as the 2.0 driver does; a claim is a host folder here, and
  since the "pods" share the host's filesystem it must be mounted where it is (mountPath = that folder); a
  Secret key becomes the variable it names, a missing claim or key fails the task as Kubernetes would;
- submission: `enable_caching` set at run creation rewrites every task's `cachingOptions`, as kfp.Client
  `create_run_from_pipeline_package` does (`_override_caching_options`);
- launcher (component/launcher_v2.go): `addDefaultParams`, `compileCmdAndArgs` / `getPlaceholders`
  (`{{$}}` is the ExecutorInput JSON), `downloadArtifacts` (every input's objects to `LocalPathForURI`),
  `prepareOutputFolders`, the executor in a fresh process with the container's command and args,
  `getExecutorOutputFile` (strict parse), `uploadOutputArtifacts` (`mergeRuntimeArtifacts`, then the
  local files to the store: only files, so empty folders vanish as in an object store), `RecordArtifact`.

The pipeline root is a bucket URI (`minio://mlpipeline/v2/artifacts`, KFP's default); the "store" is a
folder per bucket, and each pod gets a fresh local root that the pipeline image's entry point is
pointed at (LEXFLOW_KFP_LOCAL_ROOT), where a real pod has `/minio/...`, and its own TMPDIR (a pod's /tmp).
"""

from __future__ import annotations

import copy
import itertools
import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

REPO = Path(__file__).resolve().parents[2]
LOCAL_FOLDERS = {"gs": "gcs", "minio": "minio", "s3": "s3"}  # launcher_v2.go LocalPathForURI
LOGS = "executor-logs"
_ids = itertools.count(84085)  # MLMD artifact ids, unique across runs as in one MLMD database


class TaskFailed(RuntimeError):
    def __init__(self, task: str, returncode: int, log: str):
        super().__init__(f"task {task} exited with {returncode}:\n{log[-6000:]}")
        self.task, self.returncode, self.log = task, returncode, log


@dataclass
class Recorded:
    """An output artifact as ML Metadata holds it (what a downstream driver reads back)."""

    id: int
    uri: str
    schema: str
    custom_properties: dict[str, Any]


@dataclass
class TaskRun:
    name: str
    executor_input: dict[str, Any]
    command: list[str]
    outputs: dict[str, Recorded] = field(default_factory=dict)
    cached: bool = False
    exec: bool = False  # started with exec (else forked from the zygote)
    seconds: float = 0.0
    log: str = ""


class ExecPods:
    """Each task's container command exec'd as given: `python` is this interpreter (the same pinned stack)."""

    def run(self, command: list[str], cwd: Path, env: dict[str, str], log: Path, timeout_s: float) -> int:
        executable = sys.executable if command[0] == "python" else command[0]
        with log.open("w") as out:
            process = subprocess.run(
                [executable, *command[1:]],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                timeout=timeout_s,
            )
        return process.returncode

    def close(self) -> None:
        pass


# What every task imports first: TF's Keras choice and TFX's entry point (most of a task's import time).
BASE_MODULES = ["core.tf_env", "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"]


def preload_modules(spec: dict[str, Any]) -> list[str]:
    """What a ForkedPods zygote imports for `spec`: TF's Keras choice, TFX's entry point, every executor."""
    modules = list(BASE_MODULES)
    for executor in spec["deploymentSpec"]["executors"].values():
        args = executor["container"]["args"]
        modules.append(args[args.index("--executor_class_path") + 1].rsplit(".", 1)[0])
    return list(dict.fromkeys(modules))


class ForkedPods:
    """`python -m MODULE ARGS` commands run in children forked from a zygote that has imported the image's
    stack once (tests/e2e/pod_zygote.py); any other command, and the tasks in `exec_tasks`, are exec'd.

    The zygote imports `preload` in the background; `preload()` adds modules before the first task starts
    (e.g. a spec's executors once it is compiled)."""

    def __init__(self, env: dict[str, str], preload: list[str]):
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("pod_zygote.py")), *preload],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._readies = 1  # "ready" answers still to read: one per import step
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[threading.Event, list[int]]] = {}
        self._reader: threading.Thread | None = None

    def preload(self, modules: list[str]) -> None:
        with self._lock:
            assert self._reader is None, "preload before the first task"
            self._process.stdin.write(json.dumps({"preload": modules}) + "\n")
            self._process.stdin.flush()
            self._readies += 1

    def _start(self) -> None:
        for _ in range(self._readies):
            ready = json.loads(self._process.stdout.readline())
            assert ready.get("ready") and ready["threads"] == ["MainThread"], ready  # nothing to break at fork
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._process.stdout:
            answer = json.loads(line)
            event, result = self._waiting.pop(answer["id"])
            result.append(answer["returncode"])
            event.set()

    def run(self, command: list[str], cwd: Path, env: dict[str, str], log: Path, timeout_s: float) -> int:
        assert command[:2] == ["python", "-m"], command[:3]
        request_id, event, result = uuid.uuid4().hex, threading.Event(), []
        self._waiting[request_id] = (event, result)
        request = {"id": request_id, "module": command[2], "argv": command[3:], "cwd": str(cwd), "env": env}
        with self._lock:
            if self._reader is None:
                self._start()
            self._process.stdin.write(json.dumps({**request, "log": str(log)}) + "\n")
            self._process.stdin.flush()
        if not event.wait(timeout_s):
            raise TimeoutError(f"{command[2]} ran longer than {timeout_s}s")
        return result[0]

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait(timeout=60)


def image_env(dockerfile: Path = REPO / "Dockerfile") -> dict[str, str]:
    """The ENV of the pipeline image (its pods' environment, less what Kubernetes adds)."""
    text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip().startswith("ENV "):
            for pair in line.strip()[4:].split():
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def mlmd_value(value: Any) -> Any:
    """A metadata value after toMLMDArtifact + toRuntimeArtifact (metadata/converter.go)."""
    if value is None:
        raise ValueError("unknown/unsupported value type (null metadata value)")  # StructValueToMLMDValue
    if isinstance(value, bool):
        return float(int(value))
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return {"list": value}
    if isinstance(value, dict):
        return {"struct": value}
    return str(value)


class KfpRun:
    """One run of a compiled PipelineSpec (a dict), as the KFP backend of `release` would run it."""

    def __init__(
        self,
        spec: dict[str, Any],
        *,
        pipeline_root: str,
        workdir: Path,
        release: str = "2.17",
        cache: dict[str, dict[str, Recorded]] | None = None,
        pods: ExecPods | ForkedPods | None = None,
        exec_tasks: tuple[str, ...] = (),
        timeout_s: float = 900,
        platform: dict[str, Any] | None = None,
        claims: dict[str, Path] | None = None,
        secrets: dict[str, dict[str, str]] | None = None,
        enable_caching: bool | None = None,
    ):
        if enable_caching is not None:  # kfp.Client: "Caching option set at submission time overrides"
            spec = copy.deepcopy(spec)
            for task in spec["root"]["dag"]["tasks"].values():
                task["cachingOptions"] = {"enableCache": enable_caching}
        self.spec = spec
        kubernetes = (platform or {}).get("platforms", {}).get("kubernetes", {})
        self.kubernetes = kubernetes.get("deploymentSpec", {}).get("executors", {})
        self.claims, self.secrets = claims or {}, secrets or {}
        self.release = tuple(int(p) for p in release.split("."))
        self.run_id = str(uuid.uuid4())
        self.pipeline_root = pipeline_root.rstrip("/")
        # metadata/client.go: the run's root as stored in MLMD is <root>/<pipeline name>/<run id>.
        self.run_root = f"{self.pipeline_root}/{spec['pipelineInfo']['name']}/{self.run_id}"
        self.store = workdir / "store"  # <bucket>/<key>: the object store
        self.pod_dirs = workdir / "pods" / self.run_id
        self.runner, self.exec_pods, self.exec_tasks = pods or ExecPods(), ExecPods(), set(exec_tasks)
        self.timeout_s = timeout_s
        self.tasks: dict[str, TaskRun] = {}
        self.cache = {} if cache is None else cache  # the cache server's entries, shared by runs
        scheme, _, rest = self.pipeline_root.partition("://")
        self.scheme, self.bucket = scheme, rest.split("/", 1)[0]

    # --- the spec as the API server and the Argo compiler see it -------------------------------------

    def check_spec(self) -> None:
        spec = self.spec
        assert spec["schemaVersion"] == "2.1.0", spec["schemaVersion"]  # apiserver/template/v2_template.go
        assert spec["pipelineInfo"]["name"] and spec["root"]
        json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())  # strict: unknown fields fail
        for label, executor in spec["deploymentSpec"]["executors"].items():
            # compiler/visitor.go: "non-container and non-importer executor not implemented"
            assert set(executor) == {"container"}, (label, set(executor))
        for name, task in self._dag().items():
            assert "triggerPolicy" not in task and "iteratorPolicy" not in task, name
        from kfp.kubernetes import kubernetes_executor_config_pb2 as k8s

        for label, config in self.kubernetes.items():
            assert label in spec["deploymentSpec"]["executors"], label
            # The 2.0 driver: jsonpb.UnmarshalString into KubernetesExecutorConfig (unknown fields fail).
            json_format.ParseDict(config, k8s.KubernetesExecutorConfig(), ignore_unknown_fields=False)

    def _dag(self) -> dict[str, Any]:
        return self.spec["root"]["dag"]["tasks"]

    def needs(self) -> dict[str, set[str]]:
        """Each task's upstream tasks: `dependentTasks` and the producers of its input artifacts."""
        return {
            name: set(task.get("dependentTasks", []))
            | {
                a["taskOutputArtifact"]["producerTask"]
                for a in task.get("inputs", {}).get("artifacts", {}).values()
                if "taskOutputArtifact" in a
            }
            for name, task in self._dag().items()
        }

    # --- driver ----------------------------------------------------------------------------------------

    def _constant(self, value: Any, task: str) -> Any:
        if not isinstance(value, str):
            return value
        for key, sub in {
            "{{$.pipeline_job_name}}": self.spec["pipelineInfo"]["name"],
            "{{$.pipeline_job_resource_name}}": self.run_id,
            "{{$.pipeline_job_uuid}}": self.run_id,
            "{{$.pipeline_task_name}}": task,
            "{{$.pipeline_task_uuid}}": str(uuid.uuid4()),
        }.items():
            value = value.replace(key, sub)
        return value

    def _parameters(self, name: str, task: dict[str, Any], component: dict[str, Any]) -> dict[str, Any]:
        types = {k: v["parameterType"] for k, v in component.get("inputDefinitions", {}).get("parameters", {}).items()}
        values = {}
        for key, spec in task.get("inputs", {}).get("parameters", {}).items():
            runtime = spec.get("runtimeValue", {})
            # resolve.go: only `constant`; the deprecated constantValue/runtimeParameter are "not implemented".
            assert set(spec) == {"runtimeValue"} and set(runtime) == {"constant"}, (name, key, spec)
            value = self._constant(runtime["constant"], name)
            if types.get(key) == "STRING" and not isinstance(value, str):
                value = json.dumps(value)
            values[key] = value
        return values

    def _input_artifacts(self, name: str, task: dict[str, Any]) -> dict[str, Any]:
        artifacts = {}
        for key, spec in task.get("inputs", {}).get("artifacts", {}).items():
            source = spec["taskOutputArtifact"]  # the only kind in a TFX spec; others need a parent DAG
            recorded = self.tasks[source["producerTask"]].outputs[source["outputArtifactKey"]]
            artifacts[key] = {
                "artifacts": [
                    {
                        "name": str(recorded.id),
                        "type": {"instanceSchema": ""},  # metadata/client.go: Schema "" (TODO(Bobgy))
                        "uri": recorded.uri,
                        "metadata": dict(recorded.custom_properties),
                    }
                ]
            }
        return artifacts

    def _outputs(self, name: str, component: dict[str, Any]) -> dict[str, Any]:
        definitions = dict(component.get("outputDefinitions", {}).get("artifacts", {}))
        assert not component.get("outputDefinitions", {}).get("parameters"), f"{name}: output parameters"
        if self.release >= (2, 5):
            definitions[LOGS] = {"artifactType": {"schemaTitle": "system.Artifact"}}
        task_root = f"{self.run_root}/{name}/{uuid.uuid4()}" if self.release >= (2, 4) else f"{self.run_root}/{name}"
        outputs: dict[str, Any] = {"artifacts": {}}
        for key, definition in definitions.items():
            artifact = {"uri": f"{task_root}/{key}", "type": definition["artifactType"]}
            if "metadata" in definition:
                artifact["metadata"] = definition["metadata"]
            if self.release >= (2, 15):
                artifact["name"] = key
            outputs["artifacts"][key] = {"artifacts": [artifact]}
        if self.release >= (2, 15):
            outputs["outputFile"] = f"{self.local_path(task_root)}/output_metadata.json"
        else:
            outputs["outputFile"] = "/tmp/kfp_outputs/output_metadata.json"
        return outputs

    def executor_input(self, name: str) -> dict[str, Any]:
        task = self._dag()[name]
        component = self.spec["components"][task["componentRef"]["name"]]
        inputs: dict[str, Any] = {}
        parameters = self._parameters(name, task, component)
        # launcher addDefaultParams: component defaults for parameters the task does not set.
        for key, definition in component.get("inputDefinitions", {}).get("parameters", {}).items():
            if key not in parameters and "defaultValue" in definition:
                parameters[key] = definition["defaultValue"]
        if parameters:
            inputs["parameterValues"] = parameters
        artifacts = self._input_artifacts(name, task)
        if artifacts:
            inputs["artifacts"] = artifacts
        return {"inputs": inputs, "outputs": self._outputs(name, component)}

    # --- launcher --------------------------------------------------------------------------------------

    @staticmethod
    def local_path(uri: str) -> str:
        scheme, sep, rest = uri.partition("://")
        if not sep or scheme not in LOCAL_FOLDERS:
            raise ValueError(f"failed to generate local path for URI {uri}: unsupported storage scheme")
        return f"/{LOCAL_FOLDERS[scheme]}/{rest}"

    def _key(self, uri: str) -> str:
        prefix = f"{self.scheme}://{self.bucket}/"
        if not uri.startswith(prefix):  # objectstore/config.go KeyFromURI
            raise ValueError(f"URI {uri} does not have expected bucket prefix {prefix}")
        return uri[len(prefix) :]

    def _in_pod(self, pod: Path, path: str) -> Path:
        return pod / path.lstrip("/")

    @staticmethod
    def _files(root: Path) -> Iterator[Path]:
        return (p for p in sorted(root.rglob("*")) if p.is_file())

    def _download(self, pod: Path, executor_input: dict[str, Any]) -> None:
        for artifact_list in executor_input["inputs"].get("artifacts", {}).values():
            for artifact in artifact_list["artifacts"]:
                source = self.store / self.bucket / self._key(artifact["uri"])
                target = self._in_pod(pod, self.local_path(artifact["uri"]))
                for path in self._files(source) if source.is_dir() else []:
                    destination = target / path.relative_to(source)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, destination)

    def _command(self, container: dict[str, Any], executor_input: dict[str, Any]) -> list[str]:
        serialized = json.dumps(executor_input)
        command, args = container.get("command", []), container.get("args", [])
        assert command, "the container has no command (the image's ENTRYPOINT would run)"
        compiled = [command[0].replace("{{$}}", serialized)]
        for arg in [*command[1:], *args]:
            compiled.append(arg.replace("{{$}}", serialized))
        for arg in compiled:
            assert "{{$" not in arg, f"unresolved placeholder in {arg[:200]}"  # TFX uses only {{$}}
        return compiled

    def _kubernetes_env(self, label: str) -> dict[str, str]:
        """The executor's platform config applied to its "pod": volumes checked, Secret keys as variables."""
        config = self.kubernetes.get(label, {})
        for mount in config.get("pvcMount", []):
            claim = mount["constant"]  # kfp-kubernetes 1.0 writes the claim's name as `constant`
            if claim not in self.claims:
                raise TaskFailed(label, -1, f'persistentvolumeclaim "{claim}" not found (the pod stays Pending)')
            assert Path(mount["mountPath"]) == self.claims[claim], (label, claim, mount["mountPath"])
        variables = {}
        for secret in config.get("secretAsEnv", []):
            for pair in secret["keyToEnv"]:
                values = self.secrets.get(secret["secretName"], {})
                if pair["secretKey"] not in values:  # CreateContainerConfigError
                    raise TaskFailed(label, -1, f"secret {secret['secretName']} has no key {pair['secretKey']}")
                variables[pair["envVar"]] = values[pair["secretKey"]]
        return variables

    def run_task(self, name: str, env: dict[str, str], executor_input: dict[str, Any] | None = None) -> TaskRun:
        task = self._dag()[name]
        component = self.spec["components"][task["componentRef"]["name"]]
        container = self.spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
        executor_input = executor_input or self.executor_input(name)
        pod = self.pod_dirs / name
        pod.mkdir(parents=True)
        # The output file is a local path of the pod (/tmp/kfp_outputs/... or /minio/...): under its root here.
        output_file = self._in_pod(pod, executor_input["outputs"]["outputFile"])
        executor_input["outputs"]["outputFile"] = str(output_file)
        command = self._command(container, executor_input)
        run = TaskRun(name, executor_input, command)
        self._download(pod, executor_input)
        for artifact_list in executor_input["outputs"]["artifacts"].values():  # prepareOutputFolders
            for artifact in artifact_list["artifacts"]:
                self._in_pod(pod, self.local_path(artifact["uri"])).parent.mkdir(parents=True, exist_ok=True)
        home, tmp = pod / "home", pod / "tmp"
        home.mkdir()
        tmp.mkdir()
        pod_env = {
            **image_env(),
            **env,
            **self._kubernetes_env(component["executorLabel"]),
            "HOME": str(home),
            "TMPDIR": str(tmp),
            "LEXFLOW_KFP_LOCAL_ROOT": str(pod),
        }
        runner = self.exec_pods if name in self.exec_tasks else self.runner
        log = pod / "launcher.log"
        started = time.monotonic()
        # The image's WORKDIR holds the project: the command runs there.
        returncode = runner.run(command, cwd=REPO, env=pod_env, log=log, timeout_s=self.timeout_s)
        run.seconds = time.monotonic() - started
        run.exec = runner is self.exec_pods
        run.log = log.read_text(encoding="utf-8", errors="replace")
        if LOGS in executor_input["outputs"]["artifacts"]:  # the launcher tees the log into executor-logs
            logs = self._in_pod(
                pod, self.local_path(executor_input["outputs"]["artifacts"][LOGS]["artifacts"][0]["uri"])
            )
            logs.write_text(run.log, encoding="utf-8")
        if returncode != 0:
            raise TaskFailed(name, returncode, run.log)
        run.outputs = self._upload_and_record(pod, executor_input, self._executor_output(output_file))
        self.tasks[name] = run
        return run

    @staticmethod
    def _executor_output(path: Path) -> dict[str, Any]:
        if not path.exists():
            return {}
        text = path.read_text(encoding="utf-8")
        # getExecutorOutputFile: protojson.Unmarshal, unknown fields fail.
        json_format.Parse(text, pipeline_spec_pb2.ExecutorOutput(), ignore_unknown_fields=False)
        return json.loads(text)

    def _upload_and_record(
        self, pod: Path, executor_input: dict[str, Any], executor_output: dict[str, Any]
    ) -> dict[str, Recorded]:
        recorded = {}
        for key, artifact_list in executor_input["outputs"]["artifacts"].items():
            artifact = json.loads(json.dumps(artifact_list["artifacts"][0]))
            reported = executor_output.get("artifacts", {}).get(key, {}).get("artifacts", [])
            if reported and key != LOGS:  # mergeRuntimeArtifacts
                if reported[0].get("uri"):
                    artifact["uri"] = reported[0]["uri"]
                artifact.setdefault("metadata", {}).update(reported[0].get("metadata", {}))
            local = self._in_pod(pod, self.local_path(artifact["uri"]))
            target = self.store / self.bucket / self._key(artifact["uri"])
            for path in self._files(local) if local.is_dir() else []:  # UploadBlob: files only
                destination = target / path.relative_to(local)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)
            if local.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(local, target)
            properties = {k: mlmd_value(v) for k, v in artifact.get("metadata", {}).items()}
            properties.setdefault("display_name", key)  # RecordArtifact
            if self.release >= (2, 3):
                properties.setdefault("store_session_info", json.dumps({"Provider": self.scheme, "Params": {}}))
            schema = artifact["type"].get("instanceSchema") or f"title: {artifact['type']['schemaTitle']}"
            recorded[key] = Recorded(next(_ids), artifact["uri"], schema, properties)
        return recorded

    def _fingerprint(self, name: str, executor_input: dict[str, Any]) -> str | None:
        """The cache key of a task whose `cachingOptions.enableCache` is set, else None (driver/cache.go
        `getFingerPrintsAndID`, cacheutils/cache.go `GenerateCacheKey`): input artifact names (MLMD ids),
        parameter values, output specs without URIs, the image and the unresolved command and args."""
        task = self._dag()[name]
        if not task.get("cachingOptions", {}).get("enableCache"):
            return None
        component = self.spec["components"][task["componentRef"]["name"]]
        container = self.spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
        key = {
            "inputArtifactNames": {
                k: [a["name"] for a in v["artifacts"]] for k, v in executor_input["inputs"].get("artifacts", {}).items()
            },
            "inputParameterValues": executor_input["inputs"].get("parameterValues", {}),
            "outputArtifactsSpec": {
                k: {f: v["artifacts"][0].get(f) for f in ("name", "type", "metadata")}
                for k, v in executor_input["outputs"]["artifacts"].items()
            },
            "containerSpec": {"image": container["image"], "cmdArgs": [*container["command"], *container["args"]]},
        }
        # The lookup is scoped to the pipeline's name (and namespace): "pipeline/<pipelineInfo.name>".
        return f"pipeline/{self.spec['pipelineInfo']['name']}:" + json.dumps(key, sort_keys=True)

    def _run_or_reuse(self, name: str, env: dict[str, str]) -> TaskRun:
        executor_input = self.executor_input(name)
        fingerprint = self._fingerprint(name, executor_input)
        if fingerprint is not None and fingerprint in self.cache:
            # A cache hit: the driver publishes a CACHED execution with the earlier run's output artifacts.
            run = TaskRun(name, executor_input, [], outputs=self.cache[fingerprint], cached=True)
            self.tasks[name] = run
            return run
        run = self.run_task(name, env, executor_input)
        if fingerprint is not None:
            self.cache[fingerprint] = run.outputs  # launcher_v2.go: a cache entry once the task succeeded
        return run

    def execute(
        self, env: dict[str, str], *, workers: int = 2, before: Callable[[str], None] = lambda name: None
    ) -> dict[str, TaskRun]:
        """Run every task once its dependencies have succeeded, up to `workers` at a time (Argo starts every
        ready task). `before(task)` runs first in the task's thread (a test holds a task back with it)."""
        self.check_spec()
        needs = self.needs()
        pending, running = set(needs), {}

        def start(name: str) -> TaskRun:
            before(name)
            return self._run_or_reuse(name, env)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            while pending or running:
                for name in sorted(n for n in pending if needs[n] <= set(self.tasks)):
                    pending.discard(name)
                    running[pool.submit(start, name)] = name
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    running.pop(future)
                    future.result()  # a failed task fails the run; Argo runs nothing that depends on it
        return self.tasks

    def stored(self, uri: str) -> Path:
        """Where the store holds the objects under `uri`."""
        return self.store / self.bucket / self._key(uri)
