"""The two resource sets (embedded default and production), chosen in exactly one place.

``MLOPS_PROFILE=production`` switches storage without touching code: the same assets then use PostgreSQL,
Redis and an MLflow tracking server whose addresses come from the environment (``dg.EnvVar``), so no URL
or secret is baked into code, logs or metadata.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from resources.feast_store import FeastResource
from resources.landing import LandingResource
from resources.mlflow_tracking import DEFAULT_UI_URL, MlflowResource
from resources.model_registry import ModelRegistryResource
from resources.record_io_manager import RECORD_IO_MANAGER, RecordIOManager
from resources.serving import ServingResource
from resources.storage import LakeResource
from resources.tuning import TuningResource

PROFILES = ("embedded", "production")


def project_root() -> Path:
    return Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """``MLOPS_DATA_DIR`` if set, else ``data/`` in the project checkout (git-ignored)."""
    configured = os.environ.get("MLOPS_DATA_DIR")
    return Path(configured).resolve() if configured else project_root() / "data"


def active_profile() -> str:
    profile = os.environ.get("MLOPS_PROFILE", "embedded")
    if profile not in PROFILES:
        raise ValueError(f"MLOPS_PROFILE must be one of {PROFILES}, got {profile!r}")
    return profile


def embedded_resources(root: Path | None = None) -> dict[str, Any]:
    """Everything local: parquet files, SQLite for Feast online store and MLflow, a file Feast registry."""
    root = (root or data_dir()).resolve()
    tracking = f"sqlite:///{root / 'mlflow' / 'mlflow.db'}"
    (root / "mlflow").mkdir(parents=True, exist_ok=True)
    return {
        "lake": LakeResource(root=str(root / "lake")),
        RECORD_IO_MANAGER: RecordIOManager(root=str(root / "lake")),
        "landing": LandingResource(root=str(root / "landing")),
        "feast": FeastResource(
            repo_path=str(root / "feast"),
            source_path=str(root / "lake" / "features" / "customer_snapshots.parquet"),
            registry=str(root / "feast" / "registry.db"),
            online_store="sqlite",
            sqlite_path=str(root / "feast" / "online_store.db"),
        ),
        "mlflow": MlflowResource(tracking_uri=tracking, artifact_location=str(root / "mlflow" / "artifacts")),
        "registry": ModelRegistryResource(
            tracking_uri=tracking, history_url=f"sqlite:///{root / 'mlflow' / 'alias_history.db'}"
        ),
        "serving": ServingResource(state_dir=str(root / "serving")),
        "tuning": TuningResource(storage=f"sqlite:///{root / 'optuna' / 'studies.db'}"),
    }


def production_resources() -> dict[str, Any]:
    """Shared services; every address is read from the environment when a run starts."""
    return {
        "lake": LakeResource(root=dg.EnvVar("MLOPS_LAKE_ROOT")),
        RECORD_IO_MANAGER: RecordIOManager(root=dg.EnvVar("MLOPS_LAKE_ROOT")),
        "landing": LandingResource(root=dg.EnvVar("MLOPS_LANDING_ROOT")),
        "feast": FeastResource(
            repo_path=dg.EnvVar("MLOPS_FEAST_REPO_PATH"),
            source_path=dg.EnvVar("MLOPS_FEAST_SOURCE_PATH"),
            registry=dg.EnvVar("MLOPS_FEAST_REGISTRY_URL"),
            online_store="redis",
            redis_connection_string=dg.EnvVar("MLOPS_REDIS_URL"),
            project=os.environ.get("MLOPS_FEAST_PROJECT", "churn"),  # also the Redis key prefix
            # duckdb unless set: spark pays off with a cluster (docs/production.md, "Offline store")
            offline_store=os.environ.get("MLOPS_FEAST_OFFLINE_STORE", "duckdb"),
            spark_master=os.environ.get("MLOPS_SPARK_MASTER", "local[2]"),  # spark://host:7077, k8s://..., yarn
        ),
        "mlflow": MlflowResource(
            tracking_uri=dg.EnvVar("MLFLOW_TRACKING_URI"),
            ui_url=os.environ.get("MLFLOW_UI_URL", DEFAULT_UI_URL),  # links only; default: the tracking server
        ),
        "registry": ModelRegistryResource(
            tracking_uri=dg.EnvVar("MLFLOW_TRACKING_URI"), history_url=dg.EnvVar("MLOPS_REGISTRY_HISTORY_URL")
        ),
        "serving": ServingResource(
            state_dir=dg.EnvVar("MLOPS_SERVING_STATE_DIR"),
            triton_url=dg.EnvVar("MLOPS_TRITON_URL"),
            device=os.environ.get("MLOPS_TRITON_DEVICE", "cpu"),  # gpu: Triton's onnxruntime backend on GPU nodes
        ),
        "tuning": TuningResource(storage=dg.EnvVar("MLOPS_OPTUNA_STORAGE")),
    }


def build_resources(profile: str | None = None) -> dict[str, Any]:
    profile = profile or active_profile()
    return production_resources() if profile == "production" else embedded_resources()


def resolved(resources: Mapping[str, Any]) -> dict[str, Any]:
    """The resources with every ``dg.EnvVar`` read, for code that uses them outside a Dagster run.

    Inside a run Dagster resolves ``EnvVar`` fields itself; the CLI, the demo driver and ``mlops serve`` call
    resources directly, where an unresolved field would be the variable's *name*.
    """
    return {
        key: value.process_config_and_initialize() if isinstance(value, dg.ConfigurableResource) else value
        for key, value in resources.items()
    }
