"""The MLflow model registry plus the alias history MLflow does not keep.

MLflow aliases (``champion``, ``challenger``) are pointers that are simply overwritten, so "who moved the
champion to version 7, when, and why" is lost. Every alias move here goes through ``move_alias``, which
writes an event row in the same transaction-guarded step, to a SQL table (SQLite by default, PostgreSQL
in production). The history is what an auditor, a rollback or the approval gate reads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dagster as dg

from mlops_assets.core.artifacts import WEIGHTS_SHA256_TAG, ArtifactIntegrityError, verify_sha256
from resources.mlflow_import import import_mlflow
from resources.mlflow_models import ONNX_MODEL_FILE

if TYPE_CHECKING:
    import sqlalchemy as sa
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.tracking import MlflowClient

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no progress bars in run logs
_GLOBAL_URI_LOCK = threading.Lock()


@functools.cache
def alias_events_table() -> sa.Table:
    """The alias history table; built on first use, so loading the Definitions does not import SQLAlchemy."""
    import sqlalchemy as sa

    return sa.Table(
        "alias_events",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(256), nullable=False, index=True),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("version", sa.String(32), nullable=True),
        sa.Column("previous_version", sa.String(32), nullable=True),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("dagster_run_id", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


@dataclass(frozen=True)
class AliasEvent:
    """One recorded move of an alias (``version`` None means the alias was removed)."""

    model_name: str
    alias: str
    version: str | None
    previous_version: str | None
    actor: str
    reason: str
    dagster_run_id: str | None
    at: dt.datetime


class ModelRegistryResource(dg.ConfigurableResource):
    """Registered model versions, aliases and their history for one model name."""

    tracking_uri: str
    history_url: str
    model_name: str = "churn-classifier"

    def client(self) -> MlflowClient:
        import_mlflow()
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def _engine(self) -> sa.Engine:
        import sqlalchemy as sa

        engine = sa.create_engine(self.history_url, future=True)
        with engine.begin() as conn:
            # create_all checks, then creates: two run pods starting at once would both try to CREATE TABLE
            # and one would fail on PostgreSQL's catalog. The lock makes the check-and-create one step.
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('mlops.alias_events.ddl'))"))
            alias_events_table().metadata.create_all(conn)
        return engine

    def ensure_model(self) -> None:
        client = self.client()
        from mlflow.exceptions import MlflowException

        try:
            client.get_registered_model(self.model_name)
        except MlflowException:
            try:
                client.create_registered_model(
                    self.model_name, description="Churn classifier (ONNX); champion serves production traffic."
                )
            except MlflowException:  # created concurrently by another run
                client.get_registered_model(self.model_name)

    def register(
        self,
        source: str,
        run_id: str,
        tags: dict[str, str],
        *,
        model_id: str | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        """Create a model version whose tags already hold the full registry record.

        With ``model_id`` (an MLflow 3 logged model, ``source`` then ``models:/<model_id>``) the version and
        the logged model link to each other in the UI: the version names its source model, and the logged
        model's ``mlflow.modelVersions`` tag lists the version.
        """
        self.ensure_model()
        client = self.client()
        with self._resolvable(source):
            version = client.create_model_version(
                self.model_name,
                source=source,
                run_id=run_id,
                tags={k: str(v) for k, v in tags.items()},
                description=description,
                model_id=model_id,
            )
        if model_id:
            from mlflow.utils.mlflow_tags import MLFLOW_MODEL_VERSIONS

            listed = json.loads(client.get_logged_model(model_id).tags.get(MLFLOW_MODEL_VERSIONS, "[]"))
            if not any(e["name"] == self.model_name and str(e["version"]) == str(version.version) for e in listed):
                listed.append({"name": self.model_name, "version": version.version})  # a tracking server did not
                client.set_logged_model_tags(model_id, {MLFLOW_MODEL_VERSIONS: json.dumps(listed)})
        return version

    @contextlib.contextmanager
    def _resolvable(self, source: str) -> Iterator[None]:
        """Let MLflow's SQL registry resolve a ``models:/<id>`` source in this store.

        ``SqlAlchemyStore.create_model_version`` looks the logged model up through a default
        ``MlflowClient()``, i.e. the process-global tracking URI (MLflow's own TODO there), not this
        resource's store: without it, registration fails and a stray ``./mlflow.db`` appears. For that one
        call the global URI is pointed at this store, under a lock, and restored. A tracking server
        resolves the source itself, so nothing global is touched there.
        """
        if not source.startswith("models:/") or self.tracking_uri.startswith(("http://", "https://", "databricks")):
            yield
            return
        import mlflow

        with _GLOBAL_URI_LOCK:
            previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
            environment = os.environ.get("MLFLOW_TRACKING_URI")
            mlflow.set_tracking_uri(self.tracking_uri)
            try:
                yield
            finally:
                mlflow.set_tracking_uri(previous)
                if environment is not None:
                    os.environ["MLFLOW_TRACKING_URI"] = environment

    def version_by_alias(self, alias: str) -> ModelVersion | None:
        client = self.client()
        from mlflow.exceptions import MlflowException

        try:
            return client.get_model_version_by_alias(self.model_name, alias)
        except MlflowException:
            return None

    def get_version(self, version: str | int) -> ModelVersion:
        return self.client().get_model_version(self.model_name, str(version))

    def set_tags(self, version: str | int, tags: dict[str, Any]) -> None:
        client = self.client()
        for key, value in tags.items():
            client.set_model_version_tag(self.model_name, str(version), key, str(value))

    def delete_tags(self, version: str | int, keys: list[str] | tuple[str, ...]) -> None:
        """Remove ``keys`` from the version's tags (those it does not carry are skipped)."""
        client = self.client()
        present = client.get_model_version(self.model_name, str(version)).tags
        for key in keys:
            if key in present:
                client.delete_model_version_tag(self.model_name, str(version), key)

    def download(self, version: ModelVersion, filename: str = ONNX_MODEL_FILE) -> bytes:
        """The version's ``model.onnx`` bytes, refused unless they match the sha256 recorded at registration.

        The file is read from the version's storage location: the logged model's folder (MLmodel,
        ``model.onnx``, input example) for versions registered from a logged model, the run's ``model/``
        folder for versions registered from a bare artifact.
        """
        import tempfile
        from pathlib import Path

        from mlflow.artifacts import download_artifacts

        what = f"{self.model_name} version {version.version}"
        expected = version.tags.get(WEIGHTS_SHA256_TAG)
        if not expected:  # refused before any download
            raise ArtifactIntegrityError(f"{what} has no {WEIGHTS_SHA256_TAG} tag: refusing to load it")
        location = self.client().get_model_version_download_uri(version.name, str(version.version))
        with tempfile.TemporaryDirectory() as tmp:
            local = download_artifacts(
                artifact_uri=f"{location.rstrip('/')}/{filename}",
                dst_path=tmp,
                tracking_uri=self.tracking_uri,
                registry_uri=self.tracking_uri,
            )
            data = Path(local).read_bytes()
        verify_sha256(data, expected, what)
        return data

    def move_alias(
        self, alias: str, version: str | int | None, *, actor: str, reason: str, dagster_run_id: str | None = None
    ) -> AliasEvent:
        """Point ``alias`` at ``version`` (or remove it) and record who did it and why."""
        import sqlalchemy as sa

        engine = self._engine()
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": self.model_name})
            previous = self.version_by_alias(alias)
            client = self.client()
            if version is None:
                client.delete_registered_model_alias(self.model_name, alias)
            else:
                client.set_registered_model_alias(self.model_name, alias, str(version))
            event = AliasEvent(
                model_name=self.model_name,
                alias=alias,
                version=None if version is None else str(version),
                previous_version=previous.version if previous else None,
                actor=actor,
                reason=reason,
                dagster_run_id=dagster_run_id,
                at=dt.datetime.now(dt.UTC),
            )
            conn.execute(alias_events_table().insert().values(**event.__dict__))
        engine.dispose()
        return event

    def alias_history(self, alias: str | None = None) -> list[AliasEvent]:
        """Every recorded alias move for this model, oldest first."""
        engine = self._engine()
        import sqlalchemy as sa

        events = alias_events_table()
        query = sa.select(events).where(events.c.model_name == self.model_name)
        if alias:
            query = query.where(events.c.alias == alias)
        with engine.connect() as conn:
            rows = conn.execute(query.order_by(events.c.id)).mappings().all()
        engine.dispose()
        return [AliasEvent(**{k: v for k, v in row.items() if k != "id"}) for row in rows]
