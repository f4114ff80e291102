"""The bundled generator as a data producer: it writes days into the landing folder, nothing more.

A real source (an export job, a copy from object storage) does the same; from there the landing sensor
and Dagster's automation take over. ``mlops land`` runs it from a shell.
"""

from __future__ import annotations

import datetime as dt

from mlops_assets.ingestion.generator import POPULATION
from resources.landing import LandingResource


def land_days(
    landing: LandingResource,
    first: dt.date,
    count: int,
    *,
    scenario: str = "none",
    rows_per_day: int = 1_500,
    seed: int = 7,
    intensity: float = 1.0,
    population: int = POPULATION,
) -> list[str]:
    """Generate ``count`` days from ``first`` under ``scenario`` and land each; returns the day keys.

    Each day holds ``rows_per_day`` distinct customers out of ``population``.
    """
    from mlops_assets.ingestion.generator import Scenario, generate_day

    days = []
    for offset in range(count):
        day = first + dt.timedelta(days=offset)
        frame = generate_day(
            day, seed=seed, rows=rows_per_day, scenario=Scenario(scenario), intensity=intensity, population=population
        )
        landing.land(day.isoformat(), frame)
        days.append(day.isoformat())
    return days
