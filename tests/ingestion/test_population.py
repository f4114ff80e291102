"""The population size, from the shell and from run config: days sample that many customers, no more."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from mlops_assets.cli.errors import EXIT_USAGE
from mlops_assets.core import domain as d
from mlops_assets.ingestion.generator import FIRST_ID
from tests.lifecycle_runs import ingest_days
from tests.mlops_cli import assert_one_line_error, mlops


def test_land_samples_each_day_from_the_population_it_is_given(tmp_path: Path) -> None:
    result = mlops(tmp_path, "land", "--start", "2026-01-22", "--rows-per-day", "300", "--population", "400")

    assert result.returncode == 0, result.stderr
    day = pd.read_parquet(tmp_path / "landing" / "2026-01-22" / "events.parquet")
    assert len(day) == 300 and day[d.ENTITY].is_unique
    assert day[d.ENTITY].between(FIRST_ID, FIRST_ID + 399).all()


def test_land_with_fewer_customers_than_rows_names_both_options(tmp_path: Path) -> None:
    result = mlops(tmp_path, "land", "--start", "2026-01-22", "--rows-per-day", "500", "--population", "100")

    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result.stderr, "land", "--population (100) must be at least --rows-per-day (500)")


def test_ingestion_config_passes_the_population_to_the_generator(defs, instance) -> None:
    ingest_days(defs, instance, "2026-01-03", "2026-01-03", {"rows_per_day": 300, "population": 300}, quiet=True)

    raw = defs.resources["lake"].read_parquet("raw", "2026-01-03.parquet")
    assert sorted(raw[d.ENTITY]) == list(range(FIRST_ID, FIRST_ID + 300))


def test_ingestion_config_refuses_a_population_below_one(defs, instance) -> None:
    with pytest.raises(ValidationError, match=r"population\n.*greater than or equal to 1"):
        ingest_days(defs, instance, "2026-01-03", "2026-01-03", {"population": 0}, quiet=True)
