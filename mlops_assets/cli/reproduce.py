"""``mlops reproduce <version>``: rebuild a registered model from its record and compare hashes.

The registry version records the dataset (version, content hash, as-of time, days, split spec in the
dataset manifest), the hyperparameters with the seed, and, on its MLflow run, the package versions. This
rebuilds the training dataset with the same point-in-time join the asset runs (``join_dataset``) from
the recorded validated days, checks its content hash, retrains with the recorded parameters and compares
the ONNX artifact's sha256 with the registered one. When something differs it says what: the data, the
parameters, or the packages installed now versus then.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mlops_assets.cli.errors import UserError
from mlops_assets.core.artifacts import WEIGHTS_SHA256_TAG


@dataclass
class Reproduction:
    """The recorded and rebuilt hashes, and every difference found."""

    version: str
    dataset_version: str
    dataset_sha256_recorded: str
    dataset_sha256_rebuilt: str
    model_sha256_recorded: str
    model_sha256_rebuilt: str
    params: dict[str, Any]
    package_differences: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def dataset_matches(self) -> bool:
        return self.dataset_sha256_recorded == self.dataset_sha256_rebuilt

    @property
    def model_matches(self) -> bool:
        return self.model_sha256_recorded == self.model_sha256_rebuilt

    def differences(self) -> list[str]:
        found = []
        if not self.dataset_matches:
            found.append(
                f"dataset: rebuilt sha256 {self.dataset_sha256_rebuilt[:16]} != recorded "
                f"{self.dataset_sha256_recorded[:16]} (validated days or the Feast source changed since)"
            )
        if not self.model_matches:
            found.append(
                f"model: rebuilt sha256 {self.model_sha256_rebuilt[:16]} "
                f"!= registered {self.model_sha256_recorded[:16]}"
            )
        found += [
            f"package {name}: recorded {v['recorded']}, installed {v['installed']}"
            for name, v in sorted(self.package_differences.items())
        ]
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "dataset_matches": self.dataset_matches,
            "model_matches": self.model_matches,
            "differences": self.differences(),
        }

    def render(self) -> str:
        verdict = "REPRODUCED" if self.model_matches else "NOT REPRODUCED"
        lines = [
            f"model version {self.version}: {verdict}",
            f"  dataset {self.dataset_version}: {'same' if self.dataset_matches else 'DIFFERENT'} content hash",
            f"  artifact sha256 registered {self.model_sha256_recorded[:16]}, rebuilt {self.model_sha256_rebuilt[:16]}",
            f"  params {json.dumps(self.params)}",
        ]
        lines += [f"  differs: {line}" for line in self.differences()]
        return "\n".join(lines)


def reproduce(version: str | int, resources: dict[str, Any]) -> Reproduction:
    """Rebuild ``version`` of the registered model from its record (resources resolved, as the CLI has)."""
    import pandas as pd

    from mlops_assets.core import domain as d
    from mlops_assets.datasets.assets import join_dataset
    from mlops_assets.datasets.dataset_split import SPLIT, content_hash
    from mlops_assets.datasets.manifest import read_manifest
    from mlops_assets.features.assets import read_validated
    from mlops_assets.training.environment import package_versions
    from mlops_assets.training.model_artifact import Hyperparameters, sha256_bytes, to_onnx_bytes, train

    lake, registry = resources["lake"], resources["registry"]
    record = _registered_version(registry, version)
    dataset_version = record.tags["data.dataset_version"]
    manifest = read_manifest(lake, dataset_version)
    events = read_validated(lake, manifest.days)
    rebuilt = join_dataset(events, pd.Timestamp(manifest.as_of), resources["feast"], manifest.split_spec)
    params = Hyperparameters(**json.loads(record.tags["train.params"]))
    rows = rebuilt[rebuilt[SPLIT] == "train"]
    model_sha = sha256_bytes(to_onnx_bytes(train(d.encode(rows), rows[d.LABEL].to_numpy(), params)))
    recorded_packages = {
        key.removeprefix("pkg."): value
        for key, value in registry.client().get_run(record.run_id).data.tags.items()
        if key.startswith("pkg.")
    }
    installed = package_versions()
    return Reproduction(
        version=str(record.version),
        dataset_version=dataset_version,
        dataset_sha256_recorded=record.tags["data.dataset_sha256"],
        dataset_sha256_rebuilt=content_hash(rebuilt),
        model_sha256_recorded=record.tags[WEIGHTS_SHA256_TAG],
        model_sha256_rebuilt=model_sha,
        params=asdict(params),
        package_differences={
            name: {"recorded": recorded, "installed": installed.get(name, "missing")}
            for name, recorded in recorded_packages.items()
            if installed.get(name) != recorded
        },
    )


def _registered_version(registry: Any, version: str | int) -> Any:
    """The registry's record of ``version``, or a ``UserError`` that lists the versions there are.

    A mistyped or not yet registered version is the user's to fix; MLflow's own error would end the
    command in a traceback that does not say which versions exist.
    """
    from mlflow.exceptions import MlflowException

    if not str(version).isdigit():
        raise UserError(f"model version must be a registry version number such as 3, got {version!r}")
    try:
        return registry.get_version(version)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        found = registry.client().search_model_versions(f"name='{registry.model_name}'")
        known = ", ".join(str(v) for v in sorted(int(v.version) for v in found))
        hint = f"registered versions: {known}" if known else "nothing is registered yet; run `mlops demo` first"
        raise UserError(f"model version {version} not found in registry {registry.model_name!r}; {hint}") from exc
