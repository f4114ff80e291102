"""The daily reports' one asset shape: a report per landed day against the champion's reference profile.

Data drift, prediction drift and feature quality are the same Dagster asset around different statistics:
partitioned by day, made as each day lands, reading the same resources and the champion's reference
profile, with one verdict check. ``daily_report`` writes that asset once; each report is a plain function
of a ``ReportDay``.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from mlops_assets.automation import NEW_DAY
from mlops_assets.core.artifacts import WEIGHTS_SHA256_TAG
from mlops_assets.monitoring.checks import check_spec
from mlops_assets.partitions import DAYS
from resources.model_registry import ModelRegistryResource
from resources.serving import ServingResource
from resources.storage import LakeResource

REFERENCE_PROFILE = "reference_profile"


class MonitoringConfig(dg.Config):
    """``alpha``: family-wise false-alarm rate of the dataset verdict (Benjamini-Hochberg across columns)."""

    alpha: float = 0.01


def champion_reference(lake: LakeResource, registry: ModelRegistryResource) -> tuple[str, str]:
    """(champion version, path of its stored reference profile); fails clearly when there is none."""
    champion = registry.version_by_alias("champion")
    if champion is None:
        raise dg.Failure("no champion model yet: materialize champion_model first")
    sha = champion.tags[WEIGHTS_SHA256_TAG]
    return champion.version, str(lake.path("monitoring", "reference", f"{sha}.profile"))


@dataclass(frozen=True)
class ReportDay:
    """One day's report run: the day, the champion it is held against, the run's alpha and the resources."""

    day: str
    version: str
    reference_path: str
    alpha: float
    lake: LakeResource
    registry: ModelRegistryResource
    serving: ServingResource


Report = Callable[[ReportDay], dg.MaterializeResult]


def daily_report(
    check: str, asset: str, kinds: set[str], source: str = "validated_events"
) -> Callable[[Report], dg.AssetsDefinition]:
    """The asset ``asset``: ``report`` of each day of ``source``, with the verdict check ``check``."""

    def decorate(report: Report) -> dg.AssetsDefinition:
        def run(
            context: dg.AssetExecutionContext,
            config: MonitoringConfig,
            lake: LakeResource,
            registry: ModelRegistryResource,
            serving: ServingResource,
        ) -> dg.MaterializeResult:
            version, path = champion_reference(lake, registry)
            return report(ReportDay(context.partition_key, version, path, config.alpha, lake, registry, serving))

        # the asset belongs to the module that declares the report (the UI's code references, the layout test)
        run.__module__, run.__qualname__ = report.__module__, report.__qualname__
        return dg.asset(
            run,
            name=asset,
            description=inspect.getdoc(report),
            kinds=kinds,
            partitions_def=DAYS,
            deps=[source, REFERENCE_PROFILE],
            code_version="1",
            automation_condition=NEW_DAY,
            check_specs=[check_spec(check, asset)],
        )

    return decorate
