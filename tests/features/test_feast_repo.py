"""Feast's own tools work on the platform's repo: the folder holds the `feature_store.yaml` the store is built from."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from resources.feast_store import CONFIG_FILE, DEFINITIONS_FILE, REDIS_URL_ENV, REGISTRY_URL_ENV, FeastResource
from tests.lifecycle_state import Lifecycle
from tests.production.conftest import REDIS, new_database  # noqa: F401 - the fixture, for the production test

if TYPE_CHECKING:
    from feast.repo_config import RepoConfig

FEAST = str(Path(sys.executable).parent / "feast")
VIEWS = ("customer_account", "customer_engagement", "customer_ratios")


def read_config(repo: str | Path) -> RepoConfig:
    """The repo's ``feature_store.yaml`` as the ``feast`` CLI reads it (Feast imported late: it costs 3 s)."""
    from feast.repo_config import load_repo_config

    return load_repo_config(Path(repo), Path(repo) / CONFIG_FILE)


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
    assert store.config.offline_store.type == "duckdb"


@pytest.mark.parametrize(
    ("offline_store", "source_kind"), [("duckdb", "FileSource"), ("file", "FileSource"), ("spark", "SparkSource")]
)
def test_the_folder_names_the_offline_store_and_defines_the_source_that_store_reads(
    tmp_path: Path, offline_store: str, source_kind: str
):
    feast = FeastResource(
        repo_path=str(tmp_path / "repo"),
        source_path=str(tmp_path / "snapshots.parquet"),
        registry=str(tmp_path / "repo" / "registry.db"),
        offline_store=offline_store,
    )

    feast.write_repo()

    assert read_config(feast.repo_path).offline_store.type == offline_store
    objects = runpy.run_path(str(tmp_path / "repo" / DEFINITIONS_FILE))  # what `feast plan` / `feast apply` import
    source = objects["customer_snapshots"]
    assert type(source).__name__ == source_kind
    assert str(tmp_path / "snapshots.parquet") in (source.query if source_kind == "SparkSource" else source.path)


def test_a_local_spark_master_binds_to_loopback_and_a_cluster_master_does_not(tmp_path: Path):
    def spark_conf(master: str) -> dict[str, str]:
        feast = FeastResource(
            repo_path=str(tmp_path / master.replace("/", "_")),
            source_path=str(tmp_path / "snapshots.parquet"),
            registry=str(tmp_path / "registry.db"),
            offline_store="spark",
            spark_master=master,
        )
        feast.write_repo()
        return read_config(feast.repo_path).offline_store.spark_conf

    local, cluster = spark_conf("local[2]"), spark_conf("spark://spark-master:7077")

    assert local["spark.master"] == "local[2]" and cluster["spark.master"] == "spark://spark-master:7077"
    assert local["spark.driver.bindAddress"] == "127.0.0.1" and local["spark.ui.enabled"] == "false"
    assert "spark.driver.bindAddress" not in cluster and "spark.sql.shuffle.partitions" not in cluster
    assert local["spark.sql.session.timeZone"] == cluster["spark.sql.session.timeZone"] == "UTC"


def test_an_unknown_offline_store_is_refused_naming_the_choices(tmp_path: Path):
    feast = FeastResource(
        repo_path=str(tmp_path / "repo"),
        source_path=str(tmp_path / "snapshots.parquet"),
        registry=str(tmp_path / "repo" / "registry.db"),
        offline_store="bigquery",
    )

    with pytest.raises(ValueError, match=r"offline_store must be one of \('duckdb', 'file', 'spark'\), got 'bigquery'"):
        feast.write_repo()


def test_production_joins_on_duckdb_unless_spark_is_chosen_through_the_environment(tmp_path: Path, monkeypatch):
    from resources.profiles import production_resources

    for name, value in {
        REGISTRY_URL_ENV: "postgresql+psycopg://postgres@127.0.0.1:5432/mlops_feast",
        REDIS_URL_ENV: "127.0.0.1:6379",
        "MLOPS_FEAST_REPO_PATH": str(tmp_path / "repo"),
        "MLOPS_FEAST_SOURCE_PATH": str(tmp_path / "snapshots.parquet"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MLOPS_FEAST_OFFLINE_STORE", raising=False)
    assert production_resources()["feast"].process_config_and_initialize().offline_store == "duckdb"

    monkeypatch.setenv("MLOPS_FEAST_OFFLINE_STORE", "spark")
    monkeypatch.setenv("MLOPS_SPARK_MASTER", "spark://spark-master:7077")
    text = production_resources()["feast"].process_config_and_initialize().write_repo().read_text()

    config = read_config(tmp_path / "repo")
    assert config.offline_store.type == "spark", text
    assert config.offline_store.spark_conf["spark.master"] == "spark://spark-master:7077"


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
    from mlops_assets.features.feature_definitions import build_repo

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
