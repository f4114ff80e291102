"""``mlops demo`` on the production profile: PostgreSQL, Redis and an MLflow server, nothing else changed."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from resources.profiles import project_root
from tests.production.conftest import REDIS

pytestmark = [pytest.mark.production, pytest.mark.slow]


def test_the_demo_completes_on_the_production_profile_with_runs_and_events_in_postgres(
    new_database, mlflow_server, tmp_path
):
    secret = f"s3cr3t-{uuid.uuid4().hex[:8]}"  # trust auth ignores it; it must never show up anywhere

    def with_password(url: str, driver: str = "postgresql") -> str:
        return url.replace("postgresql://postgres@", f"{driver}://postgres:{secret}@")

    dagster_url = with_password(new_database("dagster"), "postgresql+psycopg2")
    project = f"churn_{uuid.uuid4().hex[:8]}"
    shared = tmp_path / "shared"  # stands in for the object store / shared volume of a cluster
    env = {
        **os.environ,
        "MLOPS_PROFILE": "production",
        "MLOPS_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "MLOPS_DAGSTER_PG_URL": dagster_url,
        "MLOPS_LAKE_ROOT": str(shared / "lake"),
        "MLOPS_LANDING_ROOT": str(shared / "landing"),
        "MLOPS_FEAST_REPO_PATH": str(shared / "feast"),
        "MLOPS_FEAST_SOURCE_PATH": str(shared / "lake" / "features" / "customer_snapshots.parquet"),
        "MLOPS_FEAST_REGISTRY_URL": with_password(new_database("feast"), "postgresql+psycopg"),
        "MLOPS_FEAST_PROJECT": project,
        "MLOPS_REDIS_URL": REDIS,
        "MLFLOW_TRACKING_URI": mlflow_server,
        "MLOPS_REGISTRY_HISTORY_URL": with_password(new_database("registry")),
        "MLOPS_OPTUNA_STORAGE": with_password(new_database("optuna")),
        "MLOPS_SERVING_STATE_DIR": str(shared / "serving"),
        "MLOPS_TRITON_URL": "",  # the demo's own local Triton, found through the endpoint file
    }
    try:
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "mlops"),
                "demo",
                "--days",
                "10",
                "--rows-per-day",
                "600",
                "--tuning-trials",
                "3",
            ],
            env=env,
            cwd=project_root(),
            capture_output=True,
            text=True,
            timeout=1500,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "champion model version" in done.stdout
        engine = sa.create_engine(dagster_url)
        with engine.connect() as conn:
            runs = conn.execute(sa.text("SELECT count(*) FROM runs WHERE status = 'SUCCESS'")).scalar()
            materialized = conn.execute(
                sa.text(
                    "SELECT count(DISTINCT asset_key) FROM event_logs"
                    " WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"
                )
            ).scalar()
        engine.dispose()
        assert runs >= 5 and materialized >= 15
        studies = sa.create_engine(env["MLOPS_OPTUNA_STORAGE"])
        with studies.connect() as conn:
            trials = conn.execute(sa.text("SELECT count(*) FROM trials")).scalar()
        studies.dispose()
        assert trials >= 6, "the demo's tuning trials were not stored in PostgreSQL"
        # the password is in no output, no Dagster event, run config or metadata, no MLflow param or tag
        assert secret not in done.stdout + done.stderr
        with engine.connect() as conn:
            for table in ("event_logs", "runs"):
                text = " ".join(str(row) for row in conn.execute(sa.text(f"SELECT * FROM {table}")))
                assert secret not in text, f"the password leaked into Dagster's {table}"
        engine.dispose()
        from mlflow.tracking import MlflowClient

        client = MlflowClient(mlflow_server)
        runs = client.search_runs([e.experiment_id for e in client.search_experiments()], max_results=1000)
        assert runs and all(secret not in str(r.data.params) + str(r.data.tags) for r in runs)
        assert not (tmp_path / "data" / "mlflow").exists(), "production must not fall back to the embedded MLflow"
    finally:
        _delete_redis_keys(project)


def _delete_redis_keys(project: str) -> None:
    import redis

    host, port = REDIS.split(":")
    client = redis.Redis(host=host, port=int(port))
    keys = [key for key in client.scan_iter(count=1000) if project.encode() in key]
    if keys:
        client.delete(*keys)
