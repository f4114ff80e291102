"""The Feast feature store as a Dagster resource, written as a ``feature_store.yaml`` that Feast's CLI reads too.

Building the store writes ``feature_store.yaml`` into ``repo_path`` and loads the store from that file, so the
assets, the gateway and ``feast feature-views list`` / ``feast ui`` run in that folder read one and the same
configuration. Embedded default: SQLite online store and a file registry under the data folder. Production:
Redis online store and a SQL registry on PostgreSQL, whose URLs appear in the file only as
``${MLOPS_FEAST_REGISTRY_URL}`` / ``${MLOPS_REDIS_URL}`` (Feast substitutes environment variables when it
reads the file), so no password is ever written to disk. Beside it, a generated module re-exports the
code's Feast objects, so ``feast plan`` / ``feast apply`` in the folder find them. Feast is imported inside
the methods only, because ``import feast`` costs about 3 s and the Dagster ``Definitions`` must load fast.

The offline store (the engine of the point-in-time join and of ``feast materialize``) is Feast's DuckDB store
by default, because Feast's ``file`` (dask) store grew 20x for 10x the rows (``python -m bench.run
pit_join_bench`` measures both). ``spark`` runs the same join through Feast's Spark store on a
``SparkSource`` over the same parquet file, for a cluster; ``file`` stays selectable for comparison.
The ``online_features`` asset does not go through it: it reads each customer's latest snapshot from the
parquet file with DuckDB and writes it with ``FeatureStore.write_to_online_store``
(``mlops_assets/features/online_materialization.py``), because Feast's local materialization held every
snapshot in memory at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import dagster as dg

if TYPE_CHECKING:
    from feast import FeatureStore

REGISTRY_URL_ENV = "MLOPS_FEAST_REGISTRY_URL"
"""The environment variable the production profile reads the SQL registry URL from."""
REDIS_URL_ENV = "MLOPS_REDIS_URL"
"""The environment variable the production profile reads the Redis connection string from."""
CONFIG_FILE = "feature_store.yaml"
DEFINITIONS_FILE = "churn_feature_repo.py"
"""Re-exports the code's Feast objects, so ``feast plan`` / ``feast apply`` in the folder change nothing.

Without it ``feast apply`` there would find no definitions and delete every registered object (and the
online tables); the definitions themselves stay in ``mlops_assets/features/feature_definitions.py``.
"""
DEFINITIONS_TEMPLATE = """\
\"\"\"Written by resources/feast_store.py: the Feast objects of mlops_assets/features/feature_definitions.py.

Here so that `feast plan` and `feast apply` in this folder see the code's definitions (without them,
`feast apply` would delete every registered object). Edits are overwritten.
\"\"\"

from mlops_assets.features.feature_definitions import build_repo

globals().update(build_repo({source}, offline_store={offline_store}))
"""
SQL_SCHEMES = ("postgresql", "sqlite:", "mysql")
OFFLINE_STORES = ("duckdb", "file", "spark")
"""Feast offline stores the resource can write: DuckDB (default), Feast's ``file`` (dask) store, Spark."""
SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.legacy.parquet.nanosAsLong": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}
"""Always set for Spark: Feast's SQL compares timestamps as UTC strings; the snapshot file's nanosecond
timestamps (pandas' default) are read as integers, which the ``SparkSource`` query converts (Spark refuses
them otherwise); results come back through Arrow."""
SPARK_LOCAL_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
}
"""Added for a ``local[...]`` master: one process has nothing to expose on the network, and 200 shuffle
partitions (Spark's default, sized for a cluster) only add task overhead on two cores."""


def _carries_secret(value: str) -> bool:
    """A URL with a password (``scheme://user:pw@host``) or a Redis string with ``password=...``."""
    try:
        password = urlsplit(value).password
    except ValueError:
        password = None
    return bool(password) or "password=" in value.lower()


def _by_reference(value: str, env_name: str, what: str) -> str:
    """``${ENV}`` when ``value`` came from that variable, else ``value`` itself if it holds no secret."""
    if value and os.environ.get(env_name) == value:
        return "${" + env_name + "}"
    if _carries_secret(value):
        raise ValueError(
            f"the Feast {what} carries a password and would be written to {CONFIG_FILE}: "
            f"set it through the environment variable {env_name} instead (the file then names the variable)"
        )
    return value


def spark_conf(master: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The ``spark_conf`` of Feast's Spark offline store for ``master`` (``local[2]``, ``spark://host:7077``)."""
    local = SPARK_LOCAL_CONF if master.startswith("local") else {}
    return {"spark.master": master, **SPARK_CONF, **local, **(overrides or {})}


def _write_if_changed(path: Path, text: str) -> None:
    from resources import atomic

    if not path.exists() or path.read_text() != text:
        atomic.write_bytes(path, text.encode())


class FeastResource(dg.ConfigurableResource):
    """Builds the ``FeatureStore`` for the churn project from the ``feature_store.yaml`` it writes.

    ``registry`` is a file path (embedded) or a SQLAlchemy URL such as ``postgresql://...`` (production);
    ``online_store`` is ``sqlite`` or ``redis``; ``source_path`` is where the offline snapshots are written
    (the parquet file the feature views read). ``offline_store`` picks the engine of the point-in-time
    join (and of ``feast materialize``), one of ``OFFLINE_STORES``; with ``spark`` the views read the file through
    a ``SparkSource`` and ``spark_master`` / ``spark_conf`` configure the session Feast starts.
    """

    repo_path: str
    source_path: str
    registry: str
    online_store: str = "sqlite"
    sqlite_path: str = ""
    redis_connection_string: str = ""
    project: str = "churn"
    offline_store: str = "duckdb"
    spark_master: str = "local[2]"
    spark_conf: dict[str, str] = {}

    @property
    def config_path(self) -> Path:
        return Path(self.repo_path) / CONFIG_FILE

    def feature_store_config(self) -> dict[str, Any]:
        """The content of ``feature_store.yaml``: credentials only as ``${ENV_VAR}`` references."""
        registry: dict[str, Any]
        if self.registry.startswith(SQL_SCHEMES):
            registry = {
                "registry_type": "sql",
                "path": _by_reference(self.registry, REGISTRY_URL_ENV, "registry URL"),
                "cache_ttl_seconds": 60,
                "serve_features_while_materializing": True,
            }
        else:
            registry = {"registry_type": "file", "path": str(Path(self.registry).resolve()), "cache_ttl_seconds": 60}
        online: dict[str, Any]
        if self.online_store == "redis":
            connection = _by_reference(self.redis_connection_string, REDIS_URL_ENV, "Redis connection string")
            online = {"type": "redis", "connection_string": connection}
        elif self.online_store == "sqlite":
            sqlite_path = self.sqlite_path or str(Path(self.repo_path) / "online_store.db")
            online = {"type": "sqlite", "path": str(Path(sqlite_path).resolve())}
        else:
            raise ValueError(f"online_store must be 'sqlite' or 'redis', got {self.online_store!r}")
        return {
            "project": self.project,
            "provider": "local",
            "registry": registry,
            "online_store": online,
            "offline_store": self._offline_store_config(),
            "entity_key_serialization_version": 3,
        }

    def _offline_store_config(self) -> dict[str, Any]:
        if self.offline_store not in OFFLINE_STORES:
            raise ValueError(f"offline_store must be one of {OFFLINE_STORES}, got {self.offline_store!r}")
        if self.offline_store == "spark":
            return {"type": "spark", "spark_conf": spark_conf(self.spark_master, self.spark_conf)}
        return {"type": self.offline_store}

    def write_repo(self) -> Path:
        """Write ``feature_store.yaml`` (and the definitions module) atomically, only when changed (no churn)."""
        import yaml

        config = self.feature_store_config()
        header = "# Written by resources/feast_store.py from the active profile; edits are overwritten.\n"
        _write_if_changed(self.config_path, header + yaml.safe_dump(config, sort_keys=False))
        source = str(Path(self.source_path).resolve())
        definitions = DEFINITIONS_TEMPLATE.format(source=repr(source), offline_store=repr(self.offline_store))
        _write_if_changed(Path(self.repo_path) / DEFINITIONS_FILE, definitions)
        if config["registry"]["registry_type"] == "file":
            Path(config["registry"]["path"]).parent.mkdir(parents=True, exist_ok=True)
        if config["online_store"]["type"] == "sqlite":
            Path(config["online_store"]["path"]).parent.mkdir(parents=True, exist_ok=True)
        return self.config_path

    def store(self) -> FeatureStore:
        """The store, loaded from the ``feature_store.yaml`` just written (as the Feast CLI loads it).

        Reads keep working while another run materializes (Feast 0.67 refuses by default): ``materialize``
        flips each feature view to ``MATERIALIZING`` in the shared registry, and Feast then refuses both
        online reads and ``get_historical_features`` for it, so a retrain started by a sensor failed whenever
        the daily ingestion was materializing. The option is set in the SQL registry's config; the file
        registry's config would log a warning that it has no effect there, so it is set on the registry
        object instead.
        """
        from feast import FeatureStore

        self.write_repo()
        store = FeatureStore(repo_path=self.repo_path)
        store.registry.serve_features_while_materializing = True
        return store
