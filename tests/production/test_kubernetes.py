"""The Kubernetes side of the production profile, checked without a cluster.

Every manifest in ``deploy/k8s`` validates strictly (unknown fields are errors) against the Kubernetes
API schema bundled by ``kubernetes-validate``; the Job that dagster-k8s itself builds for a training
step from our executor config validates too, and carries the image, the step's resources and the
secrets as environment. The Helm values name what the chart needs for our code location.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from resources.k8s import HEAVY_RESOURCES, SECRET, STEP_RESOURCES, executor_config
from resources.profiles import project_root

DEPLOY = project_root() / "deploy"
K8S_VERSION = "1.30.0"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _by_kind(kind: str) -> list[dict]:
    return [doc for path in MANIFESTS for doc in _documents(path) if doc["kind"] == kind]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_manifest_validates_strictly_against_the_kubernetes_api_schema(path):
    for document in _documents(path):
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_a_misspelled_field_is_caught_by_the_same_validation():
    deployment = _by_kind("Deployment")[0]
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def _container(name: str) -> dict:
    deployment = next(d for d in _by_kind("Deployment") if d["metadata"]["name"] == name)
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_triton_runs_explicit_model_control_on_gpu_nodes_and_is_ready_only_when_its_models_are():
    triton = _container("triton")
    assert "--model-control-mode=explicit" in triton["args"]
    assert triton["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert triton["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {m["mountPath"] for m in triton["volumeMounts"]} >= {"/models"}


def test_the_gateway_fronts_the_triton_service_and_scales_on_cpu():
    gateway = _container("mlops-gateway")
    assert gateway["command"][:3] == ["mlops", "serve", "--triton-grpc"]
    assert {"secretRef": {"name": SECRET}} in gateway["envFrom"]
    hpa = _by_kind("HorizontalPodAutoscaler")[0]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "mlops-gateway"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="Debian's prometheus package is not installed")
def test_the_cluster_scrape_config_is_a_valid_prometheus_config(tmp_path):
    """Debian's promtool is built without Kubernetes service discovery, so the pod discovery block is
    swapped for file discovery (same relabelling semantics); rules, relabel regexes and the rest are checked."""
    config = next(c for c in _by_kind("ConfigMap") if c["metadata"]["name"] == "mlops-prometheus")
    parsed = yaml.safe_load(config["data"]["prometheus.yml"])
    rules = tmp_path / "alerts.yml"
    shutil.copy(DEPLOY / "prometheus" / "alerts.yml", rules)
    parsed["rule_files"] = [str(rules)]
    for job in parsed["scrape_configs"]:
        assert job.pop("kubernetes_sd_configs")[0]["role"] == "pod"
        job["file_sd_configs"] = [{"files": [str(tmp_path / "targets.json")]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(parsed))
    done = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_k8s_executor_config_is_accepted_by_dagster_k8s():
    from dagster._config import validate_config
    from dagster_k8s import k8s_job_executor

    result = validate_config(k8s_job_executor.config_schema.config_type, executor_config())
    assert result.success, result.errors


def test_the_job_dagster_k8s_builds_for_a_training_step_is_valid_and_carries_image_resources_and_secrets():
    from dagster_k8s.job import DagsterK8sJobConfig, UserDefinedDagsterK8sConfig, construct_dagster_k8s_job
    from kubernetes.client import ApiClient

    config = executor_config()
    job_config = DagsterK8sJobConfig(
        job_image="ghcr.io/mlops-platform/dagster-mlops:0.1.0",
        dagster_home="/opt/dagster/dagster_home",
        instance_config_map="dagster-instance",
        image_pull_policy="IfNotPresent",
        env_secrets=config["env_secrets"],
        env_vars=config["env_vars"],
    )
    user_config = UserDefinedDagsterK8sConfig.from_dict(config["per_step_k8s_config"]["trained_model"])
    job = construct_dagster_k8s_job(
        job_config,
        args=["dagster", "api", "execute_step", "..."],
        job_name="dagster-step-trained-model",
        user_defined_k8s_config=user_config,
        component="step_worker",
    )
    manifest = ApiClient().sanitize_for_serialization(job)
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/mlops-platform/dagster-mlops:0.1.0"
    assert container["resources"] == HEAVY_RESOURCES
    assert {"secretRef": {"name": SECRET}} in container["envFrom"]
    assert {"name": "MLOPS_PROFILE", "value": "production"} in container["env"]
    assert not any("password" in str(e).lower() for e in container.get("env", [])), "no secret value inline"
    # a light step gets the default size
    assert config["step_k8s_config"]["container_config"]["resources"] == STEP_RESOURCES


def test_the_helm_values_launch_runs_on_kubernetes_with_our_code_location_and_secrets():
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert {"name": SECRET} in values["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "mlops_assets.definitions"]
    assert {"name": "MLOPS_PROFILE", "value": "production"} in deployment["env"]
    assert values["postgresql"]["enabled"] is False
