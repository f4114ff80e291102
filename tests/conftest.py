"""Shared fixtures: real Dagster, Feast and MLflow in temporary folders, never the project's ``data/``.

* ``data_dir`` / ``defs`` / ``instance``: a fresh, empty platform per test, for tests that change state.
* ``lifecycle``: 14 days ingested and the whole downstream graph materialized once per session, for tests
  that only read what one healthy run produced (registry record, dataset manifest, Feast snapshots).

``MLOPS_DATA_DIR`` is only set while ``Definitions`` are built (resources resolve their paths then), and is
restored afterwards, so no test sees another test's data folder through the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from tests.lifecycle_runs import auto_approval, build_downstream, ingest_days
from tests.lifecycle_state import (
    DOWNSTREAM,
    FIRST_DAY,
    LAST_DAY,
    ROWS_PER_DAY,
    Lifecycle,
    make_definitions,
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def defs(data_dir: Path) -> dg.Definitions:
    return make_definitions(data_dir)


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as test_instance:
        yield test_instance


@pytest.fixture(scope="session")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lifecycle]:
    data_dir = tmp_path_factory.mktemp("lifecycle")
    defs = make_definitions(data_dir)
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("dagster_home"))) as instance:
        ingestion = ingest_days(defs, instance, FIRST_DAY, LAST_DAY, {"rows_per_day": ROWS_PER_DAY}, quiet=True)
        downstream = build_downstream(defs, instance, auto_approval(), selection=DOWNSTREAM, quiet=True)
        yield Lifecycle(defs, instance, data_dir, ingestion, downstream)
