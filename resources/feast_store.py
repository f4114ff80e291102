"""The Feast feature store as a Dagster resource, written as a ``feature_store.yaml`` that Feast's CLI reads too.

Building the store writes ``feature_store.yaml`` into ``repo_path`` and loads the store from that file, so the
assets, the gateway and ``feast feature-views list`` / ``feast ui`` run in that folder read one and the same
configuration. Embedded default: SQLite online store and a file registry under the data folder. Production:
Redis online store and a SQL registry on PostgreSQL, whose URLs appear in the file only as
``${MLOPS_FEAST_REGISTRY_URL}`` / ``${MLOPS_REDIS_URL}`` (Feast substitutes environment variables when it
reads the file), so no password is ever written to disk. Beside it, a generated module re-exports the
code's Feast objects, so ``feast plan`` / ``feast apply`` in the folder find them. Feast is imported inside
the methods only, because ``import feast`` costs about 3 s and the Dagster ``Definitions`` must load fast.
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
online tables); the definitions themselves stay in ``mlops_assets/core/feature_definitions.py``.
"""
DEFINITIONS_TEMPLATE = """\
\"\"\"Written by resources/feast_store.py: the Feast objects of mlops_assets/core/feature_definitions.py.

Here so that `feast plan` and `feast apply` in this folder see the code's definitions (without them,
`feast apply` would delete every registered object). Edits are overwritten.
\"\"\"

from mlops_assets.core.feature_definitions import build_repo

globals().update(build_repo({source}))
"""
SQL_SCHEMES = ("postgresql", "sqlite:", "mysql")


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


def _write_if_changed(path: Path, text: str) -> None:
    from resources import atomic

    if not path.exists() or path.read_text() != text:
        atomic.write_bytes(path, text.encode())


class FeastResource(dg.ConfigurableResource):
    """Builds the ``FeatureStore`` for the churn project from the ``feature_store.yaml`` it writes.

    ``registry`` is a file path (embedded) or a SQLAlchemy URL such as ``postgresql://...`` (production);
    ``online_store`` is ``sqlite`` or ``redis``; ``source_path`` is where the offline snapshots are written
    (the file source of the feature views; the offline store is Feast's ``file`` store).
    """

    repo_path: str
    source_path: str
    registry: str
    online_store: str = "sqlite"
    sqlite_path: str = ""
    redis_connection_string: str = ""
    project: str = "churn"

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
            "offline_store": {"type": "file"},
            "entity_key_serialization_version": 3,
        }

    def write_repo(self) -> Path:
        """Write ``feature_store.yaml`` (and the definitions module) atomically, only when changed (no churn)."""
        import yaml

        config = self.feature_store_config()
        header = "# Written by resources/feast_store.py from the active profile; edits are overwritten.\n"
        _write_if_changed(self.config_path, header + yaml.safe_dump(config, sort_keys=False))
        source = str(Path(self.source_path).resolve())
        definitions = DEFINITIONS_TEMPLATE.format(source=repr(source))
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
