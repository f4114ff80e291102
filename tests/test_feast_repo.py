"""Feast's own tools work on the platform's repo: the folder holds the `feature_store.yaml` the store is built from."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from resources.feast_store import CONFIG_FILE, REDIS_URL_ENV, REGISTRY_URL_ENV, FeastResource
from tests.lifecycle_state import Lifecycle
from tests.production.conftest import REDIS, new_database  # noqa: F401 - the fixture, for the production test

FEAST = str(Path(sys.executable).parent / "feast")
VIEWS = ("customer_account", "customer_engagement", "customer_ratios")


def feast_cli(repo: str | Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run the `feast` CLI in ``repo`` as a user would; returns stdout, fails the test with stderr."""
    done = subprocess.run(
        [FEAST, *args], cwd=repo, env=env or dict(os.environ), capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"feast {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_feast_cli_in_the_repo_folder_lists_the_views_and_the_service_the_lifecycle_applied(lifecycle: Lifecycle):
    repo = lifecycle.resources["feast"].repo_path

    views = feast_cli(repo, "feature-views", "list")
    services = feast_cli(repo, "feature-services", "list")

    assert all(view in views for view in VIEWS), views
    assert "churn_model" in services and "customer_ratios:charges_per_tenure_month" in services, services


@pytest.mark.slow
def test_feast_plan_in_the_repo_folder_would_delete_nothing(lifecycle: Lifecycle):
    feast = lifecycle.resources["feast"]
    registry = Path(feast.registry).read_bytes()

    plan = feast_cli(feast.repo_path, "plan")

    assert "Deleted" not in plan, plan
    assert Path(feast.registry).read_bytes() == registry, "feast plan changed the registry"


def test_the_yaml_is_written_once_and_is_what_the_store_reads(tmp_path: Path):
    feast = FeastResource(
        repo_path=str(tmp_path / "repo"),
        source_path=str(tmp_path / "snapshots.parquet"),
        registry=str(tmp_path / "repo" / "registry.db"),
        sqlite_path=str(tmp_path / "repo" / "online_store.db"),
    )
    first = feast.write_repo()
    written = first.read_text(), first.stat().st_mtime_ns

    store = feast.store()

    assert (first.read_text(), first.stat().st_mtime_ns) == written, "building the store rewrote an unchanged file"
    assert store.config.project == "churn"
    assert store.config.online_store.path == str(tmp_path / "repo" / "online_store.db")
    assert store.config.registry.path == str(tmp_path / "repo" / "registry.db")
    assert store.config.offline_store.type == "file"


def test_the_production_yaml_names_the_environment_variables_never_the_password(tmp_path: Path, monkeypatch):
    from feast.repo_config import load_repo_config

    from resources.profiles import production_resources

    secret = f"s3cr3t-{uuid.uuid4().hex[:8]}"
    url = f"postgresql+psycopg://postgres:{secret}@127.0.0.1:5432/mlops_feast"
    redis = f"127.0.0.1:6379,password={secret}"
    monkeypatch.setenv(REGISTRY_URL_ENV, url)
    monkeypatch.setenv(REDIS_URL_ENV, redis)
    monkeypatch.setenv("MLOPS_FEAST_REPO_PATH", str(tmp_path / "repo"))
    monkeypatch.setenv("MLOPS_FEAST_SOURCE_PATH", str(tmp_path / "snapshots.parquet"))
    feast = production_resources()["feast"].process_config_and_initialize()

    text = feast.write_repo().read_text()

    assert secret not in text
    assert f"${{{REGISTRY_URL_ENV}}}" in text and f"${{{REDIS_URL_ENV}}}" in text
    config = load_repo_config(tmp_path / "repo", tmp_path / "repo" / CONFIG_FILE)  # as `feast` reads it
    assert config.registry.path == url
    assert config.online_store.connection_string == redis


def test_a_password_that_did_not_come_from_the_environment_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(REGISTRY_URL_ENV, raising=False)
    feast = FeastResource(
        repo_path=str(tmp_path / "repo"),
        source_path=str(tmp_path / "snapshots.parquet"),
        registry="postgresql://postgres:hunter2@127.0.0.1:5432/mlops_feast",
        online_store="redis",
        redis_connection_string="127.0.0.1:6379",
    )

    with pytest.raises(ValueError, match=REGISTRY_URL_ENV):
        feast.write_repo()
    assert not (tmp_path / "repo" / CONFIG_FILE).exists()


@pytest.mark.production
@pytest.mark.slow
def test_feast_cli_reads_the_postgres_registry_through_the_environment(new_database, tmp_path: Path, monkeypatch):  # noqa: F811
    from mlops_assets.core.feature_definitions import build_repo

    secret = f"s3cr3t-{uuid.uuid4().hex[:8]}"  # trust auth ignores it; it must not reach the file
    url = new_database("feast").replace("postgresql://postgres@", f"postgresql+psycopg://postgres:{secret}@")
    monkeypatch.setenv(REGISTRY_URL_ENV, url)
    monkeypatch.setenv(REDIS_URL_ENV, REDIS)
    feast = FeastResource(
        repo_path=str(tmp_path / "repo"),
        source_path=str(tmp_path / "snapshots.parquet"),
        registry=url,
        online_store="redis",
        redis_connection_string=REDIS,
        project=f"churn_{uuid.uuid4().hex[:8]}",
    )
    store = feast.store()
    store.apply(list(build_repo(feast.source_path).values()))
    try:
        views = feast_cli(feast.repo_path, "feature-views", "list", env=dict(os.environ))
        services = feast_cli(feast.repo_path, "feature-services", "list", env=dict(os.environ))
    finally:
        store.teardown()

    assert all(view in views for view in VIEWS), views
    assert "churn_model" in services
    assert secret not in (tmp_path / "repo" / CONFIG_FILE).read_text()
