"""Monitoring files in deploy/: Prometheus scrape configs and alert rules, the Grafana dashboard,
their compose and Kubernetes wiring. The rules are checked by promtool (`check rules`, `test rules`
with deploy/prometheus/alerts.test.yml); every metric they and the dashboard name must be one the
gateway exports, read from a running gateway's Prometheus registry."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "lexflow-dashboard.json"
K8S_MONITORING = DEPLOY / "k8s" / "monitoring"

# Series Prometheus itself makes for each scrape target.
PROMETHEUS_SERIES = {"up"}
REQUIRED_ALERTS = {
    "LexflowLiveAccuracyLow",
    "LexflowDriftDetected",
    "LexflowHighErrorRate",
    "LexflowHighLatencyP99",
    "LexflowNoModelLoaded",
    "LexflowFeedbackBacklog",
}
_SERIES_NAME = re.compile(r"\b(lexflow_[a-z0-9_]+|up)\b(?!\s*\()")


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("LEXFLOW_REQUIRE_PROMTOOL"):
            pytest.fail("promtool not found (apt-get install prometheus)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return found


def _run(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess:
    return subprocess.run([_promtool(), *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def _rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    def panels(items):
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in panels(dashboard["panels"]) for target in panel.get("targets", [])]


def _named_series(expr: str) -> set[str]:
    # Label values ("/v1/classify", "5..") and label names never start with lexflow_; functions are followed by "(".
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    return set(_SERIES_NAME.findall(without_strings))


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> set[str]:
    """Series names a running gateway exposes, from its own registry (metrics with labels count
    even before their first sample)."""
    from tests.serving.conftest import gateway

    names = set()
    with gateway(tmp_path_factory.mktemp("gateway")) as client:
        for family in client.app.state.metrics.registry.collect():
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(family.type, [""])
            names |= {family.name + suffix for suffix in suffixes}
    return names


# --- which metrics ---------------------------------------------------------------------------------


def test_every_series_the_rules_and_dashboard_name_is_exported(exported):
    assert {"lexflow_requests_total", "lexflow_request_seconds_bucket", "lexflow_drift_detected"} <= exported
    known = exported
    for source, exprs in (("alerts.yml", [r["expr"] for r in _rules()]), ("dashboard", _dashboard_exprs())):
        assert exprs, source
        for expr in exprs:
            named = _named_series(expr)
            assert named, f"{source}: {expr!r} names no lexflow series"
            unknown = named - known - (PROMETHEUS_SERIES if source == "alerts.yml" else set())
            assert not unknown, f"{source}: {expr!r} uses {sorted(unknown)}, which the gateway does not export"


def test_the_dashboard_shows_every_metric_the_gateway_exports(exported):
    shown = set().union(*(_named_series(e) for e in _dashboard_exprs()))
    bases = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in exported}
    missing = {b for b in bases if not any(s.startswith(b) for s in shown)}
    assert not missing, f"not on the dashboard: {sorted(missing)}"


# --- the rules ---------------------------------------------------------------------------------------


def test_the_required_alerts_exist_with_severity_and_summary():
    rules = {r["alert"]: r for r in _rules()}
    assert set(rules) >= REQUIRED_ALERTS
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name


def test_alert_thresholds_are_the_retrain_policys():
    from pipeline.config import RetrainPolicy

    rules = {r["alert"]: r["expr"] for r in _rules()}
    policy = RetrainPolicy()
    assert float(rules["LexflowLiveAccuracyLow"].rsplit("<", 1)[1]) == policy.min_live_accuracy
    assert int(rules["LexflowFeedbackBacklog"].rsplit(">", 1)[1]) == policy.min_new_feedback


def test_promtool_checks_the_rules_and_the_compose_scrape_config():
    for args in (["check", "rules", "alerts.yml"], ["check", "config", "prometheus.yml"]):
        result = _run(*args)
        assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_fire_every_alert():
    result = _run("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", (PROMETHEUS / "alerts.test.yml").read_text()))
    assert tested == {r["alert"] for r in _rules()}


def test_dashboard_queries_are_valid_promql(tmp_path):
    # promtool parses expressions in rule files: each panel query becomes a recording rule
    # (Grafana's $__rate_interval is an interval, as in a real query).
    rules = [
        {"record": f"dashboard:query_{i}", "expr": expr.replace("$__rate_interval", "5m")}
        for i, expr in enumerate(_dashboard_exprs())
    ]
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = _run("check", "rules", "dashboard.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the dashboard -----------------------------------------------------------------------------------


def test_dashboard_panels_query_the_chosen_prometheus():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "lexflow-gateway" and dashboard["title"]
    (variable,) = dashboard["templating"]["list"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "${" + variable["name"] + "}", panel["title"]
        assert all(t["datasource"] == panel["datasource"] for t in panel["targets"]), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]


# --- compose -----------------------------------------------------------------------------------------


def test_compose_monitoring_adds_prometheus_and_grafana_to_the_serving_stack():
    base = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    extra = yaml.safe_load((DEPLOY / "compose.monitoring.yaml").read_text())
    replicas = sorted(name for name, service in base["services"].items() if name.startswith("gateway"))
    assert len(replicas) >= 2
    # Additions only: every gateway replica gets the reports folder, nothing else is redefined.
    assert set(extra["services"]) == {*replicas, "prometheus", "grafana"}
    for name, service in extra["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists() or source == "../artifacts/lexflow/reports", (name, source)
            else:
                assert source in extra["volumes"], (name, source)
    for name in replicas:
        gateway = extra["services"][name]
        reports = next(v.split(":")[1] for v in gateway["volumes"] if v.startswith("../artifacts/lexflow/reports:"))
        assert gateway["environment"]["LEXFLOW_REPORTS_DIR"] == reports, name
    # Prometheus scrapes every replica on the port it listens on inside the network (not a balancer).
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "lexflow-gateway")
    (static,) = job["static_configs"]
    listening = {name: int(base["services"][name]["ports"][0].split(":")[-1]) for name in replicas}
    assert sorted(static["targets"]) == sorted(f"{name}:{port}" for name, port in listening.items())
    assert job["metrics_path"] == "/metrics"
    assert "/etc/prometheus" in [v.split(":")[1] for v in extra["services"]["prometheus"]["volumes"]]
    assert "--config.file=/etc/prometheus/prometheus.yml" in extra["services"]["prometheus"]["command"]


def test_grafana_provisioning_loads_the_dashboard_from_where_compose_mounts_it():
    extra = yaml.safe_load((DEPLOY / "compose.monitoring.yaml").read_text())
    mounts = {v.split(":")[1]: v.split(":")[0] for v in extra["services"]["grafana"]["volumes"]}
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/lexflow.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert (DEPLOY / mounts[path] / DASHBOARD.name).resolve() == DASHBOARD.resolve()
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


# --- Kubernetes --------------------------------------------------------------------------------------


def _k8s_docs() -> list[dict]:
    return [
        doc
        for path in sorted(K8S_MONITORING.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def _of_kind(kind: str) -> dict:
    return {d["metadata"]["name"]: d for d in _k8s_docs() if d["kind"] == kind}


def test_k8s_monitoring_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S_MONITORING / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in K8S_MONITORING.glob("*.yaml") if p.name != "kustomization.yaml"
    )
    base = yaml.safe_load((DEPLOY / "k8s/kustomization.yaml").read_text())
    assert kustomization["namespace"] == base["namespace"]


def test_k8s_prometheus_has_the_same_rules_and_scrapes_the_gateway_pods():
    # Debian's promtool is built without Kubernetes service discovery and cannot parse
    # prometheus-k8s.yml; its structure is checked here instead.
    configmap = _of_kind("ConfigMap")["prometheus-config"]
    assert configmap["data"]["alerts.yml"] == RULES.read_text(), "alerts.yml drifted from deploy/prometheus"
    in_cluster = (PROMETHEUS / "prometheus-k8s.yml").read_text()
    assert configmap["data"]["prometheus.yml"] == in_cluster, "prometheus.yml drifted from prometheus-k8s.yml"
    config = yaml.safe_load(in_cluster)
    assert config["rule_files"] == ["alerts.yml"]
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "lexflow-gateway")
    keep = {r["source_labels"][0]: r["regex"] for r in job["relabel_configs"] if r.get("action") == "keep"}
    gateway = next(
        d for d in yaml.safe_load_all((DEPLOY / "k8s/gateway.yaml").read_text()) if d["kind"] == "Deployment"
    )
    pod_labels = gateway["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["app.kubernetes.io/name"] == keep["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
    ports = [p.get("name") for c in gateway["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])]
    assert keep["__meta_kubernetes_pod_container_port_name"] in ports
    # Pod discovery needs RBAC for the account Prometheus runs as, in its namespace only.
    deployment = _of_kind("Deployment")["prometheus"]
    account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    binding = _of_kind("RoleBinding")["prometheus"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account}]
    (rule,) = _of_kind("Role")[binding["roleRef"]["name"]]["rules"]
    assert rule["resources"] == ["pods"] and set(rule["verbs"]) == {"get", "list", "watch"}
    mounts = {
        m["name"]: m["mountPath"] for m in deployment["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    }
    assert (
        "--config.file=" + mounts["config"] + "/prometheus.yml"
        in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    )


def test_k8s_monitoring_manifests_validate_against_kubernetes_schemas():
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")
    for doc in _k8s_docs():
        kubernetes_validate.validate(doc, "1.29.0", strict=True)
