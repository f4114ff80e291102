"""Kubernetes execution for the production profile (dagster-k8s).

Runs are launched as Kubernetes Jobs by the ``K8sRunLauncher`` the official Dagster Helm chart configures
(``deploy/helm/values.yaml``); with ``MLOPS_EXECUTOR=k8s`` each step of a run gets its own pod through
``k8s_job_executor``, sized by what the step does: training gets more CPU and memory than a report.
Secrets reach the pods only as environment variables from the Kubernetes secret ``mlops-secrets``.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

SECRET = "mlops-secrets"
"""Kubernetes secret with MLOPS_DAGSTER_PG_URL, MLFLOW_TRACKING_URI, MLOPS_REDIS_URL, ... (docs/production.md)."""

STEP_RESOURCES: dict[str, Any] = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}
HEAVY_STEPS = ("trained_model", "training_dataset", "model_evaluation")
HEAVY_RESOURCES: dict[str, Any] = {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "8Gi"}}


def executor_config() -> dict[str, Any]:
    """The ``k8s_job_executor`` config: concurrency, secrets, and per-step pod resources."""
    return {
        "max_concurrent": 4,
        "env_secrets": [SECRET],
        "env_vars": ["MLOPS_PROFILE=production"],
        "step_k8s_config": {"container_config": {"resources": STEP_RESOURCES}},
        "per_step_k8s_config": {step: {"container_config": {"resources": HEAVY_RESOURCES}} for step in HEAVY_STEPS},
    }


def step_executor() -> dg.ExecutorDefinition:
    from dagster_k8s import k8s_job_executor

    return k8s_job_executor.configured(executor_config(), name="k8s_step_executor")
