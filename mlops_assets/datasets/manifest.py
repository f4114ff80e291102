"""The dataset manifest: what a training dataset is, where it came from and how it was split.

``training_dataset`` returns it (Dagster stores it as ``records/training_dataset.json``) and also writes it
beside the table it describes, ``datasets/<version>/manifest.json``, where ``mlops reproduce`` and the
registry read it back by version. Either way it is read through ``DatasetManifest``: a renamed or missing
field fails here, naming the field, not as a ``KeyError`` in a later stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_assets.core.record import Record
from mlops_assets.datasets.split_spec import SplitSpec

if TYPE_CHECKING:
    import pandas as pd

    from resources.storage import LakeResource

DATASETS = "datasets"
MANIFEST_FILE = "manifest.json"
DATASET_FILE = "dataset.parquet"


class DatasetManifest(Record):
    """One training dataset, named by its content hash (``version`` is the hash's first 16 hex digits)."""

    version: str
    sha256: str
    feature_service: str
    as_of: str
    days: list[str]
    rows: int
    split_counts: dict[str, int]
    split_ratios: dict[str, float]
    split_spec: SplitSpec
    filters: list[str]
    transformations: list[str]
    label_rate: float

    def mlflow_name(self, split: str) -> str:
        """One split's MLflow dataset name: the feature service it was joined from, and the split."""
        return f"{self.feature_service}.{split}"

    def mlflow_source(self) -> dict[str, str]:
        """Where the dataset came from, as MLflow records it: the Feast feature service, point in time."""
        return {
            "feature_service": self.feature_service,
            "as_of": self.as_of,
            "dataset_version": self.version,
            "dataset_sha256": self.sha256,
        }


def build_manifest(joined: pd.DataFrame, days: list[str], as_of: object, spec: SplitSpec) -> DatasetManifest:
    """The manifest of ``joined``, the split table built from the validated ``days`` as of ``as_of``."""
    from mlops_assets.core import domain as d
    from mlops_assets.datasets.dataset_split import SPLIT, content_hash
    from mlops_assets.features.feature_definitions import FEATURE_SERVICE

    digest = content_hash(joined)
    split_counts = {str(k): int(v) for k, v in joined[SPLIT].value_counts().items()}
    return DatasetManifest(
        version=digest[:16],
        sha256=digest,
        feature_service=FEATURE_SERVICE,
        as_of=str(as_of),
        days=days,
        rows=len(joined),
        split_counts=split_counts,
        split_ratios={k: round(v / len(joined), 4) for k, v in split_counts.items()},
        split_spec=spec,
        filters=["days accepted by validation only", f"labels known at as_of ({d.LABEL_TIMESTAMP} <= {as_of})"],
        transformations=[
            "Feast point-in-time join of feature service " + FEATURE_SERVICE,
            "on-demand ratios: " + ", ".join(d.DERIVED),
            "categoricals encoded as ordinal codes of the domain vocabulary (unseen -> NaN) at training time",
        ],
        label_rate=round(float(joined[d.LABEL].mean()), 4),
    )


def write_dataset(lake: LakeResource, joined: pd.DataFrame, manifest: DatasetManifest) -> None:
    """The table and its manifest under ``datasets/<version>/`` (content-addressed: never overwritten)."""
    lake.write_parquet(joined, DATASETS, manifest.version, DATASET_FILE)
    lake.write_json(manifest.model_dump(), DATASETS, manifest.version, MANIFEST_FILE)


def read_manifest(lake: LakeResource, version: str) -> DatasetManifest:
    """The manifest of dataset ``version``, validated."""
    return DatasetManifest.model_validate(lake.read_json(DATASETS, version, MANIFEST_FILE))


def read_dataset(lake: LakeResource, manifest: DatasetManifest) -> pd.DataFrame:
    """The table ``manifest`` describes."""
    return lake.read_parquet(DATASETS, manifest.version, DATASET_FILE)
