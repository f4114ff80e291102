"""The Feast feature store as a Dagster resource, configured in code (no ``feature_store.yaml``).

Embedded default: SQLite online store and a file registry under the data folder. Production: Redis online
store and a SQL registry on PostgreSQL. Feast is imported inside the methods only, because ``import feast``
costs about 3 s and the Dagster ``Definitions`` must load fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:
    from feast import FeatureStore, RepoConfig


class FeastResource(dg.ConfigurableResource):
    """Builds the ``FeatureStore`` for the churn project.

    ``registry`` is a file path (embedded) or a SQLAlchemy URL such as ``postgresql://...`` (production);
    ``online_store`` is ``sqlite`` or ``redis``; ``source_path`` is where the offline snapshots are written.
    """

    repo_path: str
    source_path: str
    registry: str
    online_store: str = "sqlite"
    sqlite_path: str = ""
    redis_connection_string: str = ""
    project: str = "churn"

    def repo_config(self) -> RepoConfig:
        from feast import RepoConfig
        from feast.infra.registry.sql import SqlRegistryConfig
        from feast.repo_config import RegistryConfig

        registry: RegistryConfig
        if self.registry.startswith(("postgresql", "sqlite:", "mysql")):
            # SqlRegistry refuses a plain RegistryConfig (it asserts isinstance SqlRegistryConfig).
            registry = SqlRegistryConfig(
                registry_type="sql", path=self.registry, cache_ttl_seconds=60, serve_features_while_materializing=True
            )
        else:
            Path(self.registry).parent.mkdir(parents=True, exist_ok=True)
            registry = RegistryConfig(path=self.registry, cache_ttl_seconds=60)
        online: dict[str, Any]
        if self.online_store == "redis":
            online = {"type": "redis", "connection_string": self.redis_connection_string}
        elif self.online_store == "sqlite":
            sqlite_path = self.sqlite_path or str(Path(self.repo_path) / "online_store.db")
            Path(sqlite_path).parent.mkdir(parents=True, exist_ok=True)
            online = {"type": "sqlite", "path": sqlite_path}
        else:
            raise ValueError(f"online_store must be 'sqlite' or 'redis', got {self.online_store!r}")
        Path(self.repo_path).mkdir(parents=True, exist_ok=True)
        return RepoConfig(
            project=self.project,
            provider="local",
            registry=registry,
            online_store=online,
            offline_store={"type": "file"},
            entity_key_serialization_version=3,
            repo_path=self.repo_path,
        )

    def store(self) -> FeatureStore:
        """The store; reads keep working while another run materializes (Feast 0.67 refuses by default).

        ``materialize`` flips each feature view to ``MATERIALIZING`` in the shared registry, and by default
        Feast then refuses both online reads and ``get_historical_features`` for it, so a retrain started
        by a sensor failed whenever the daily ingestion was materializing. The option is set on the SQL
        registry config; the file registry honours the same attribute, but its config would log a warning
        that it has no effect there, so it is set on the registry object instead.
        """
        from feast import FeatureStore

        store = FeatureStore(config=self.repo_config())
        store.registry.serve_features_while_materializing = True
        return store
