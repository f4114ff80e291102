"""The Dagster instance of the production profile (``deploy/dagster.yaml``) on a real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from resources.polling import wait_until
from resources.profiles import project_root
from tests.lifecycle_runs import ingest_days
from tests.lifecycle_state import make_definitions

pytestmark = [pytest.mark.production, pytest.mark.slow]
BIN = Path(sys.executable).parent
WORKSPACE = str(project_root() / "workspace.yaml")


def _sensor_ticks(instance: dg.DagsterInstance, name: str) -> list:
    from dagster._core.scheduler.instigation import InstigatorType

    states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    states = [s for s in states if s.instigator_name == name]
    return [t for s in states for t in instance.get_ticks(s.instigator_origin_id, s.selector_id, limit=100)]


def test_a_materialization_and_a_sensor_tick_persist_in_postgres_and_a_second_instance_sees_them(
    new_database, tmp_path, monkeypatch
):
    # dagster-postgres speaks psycopg2; SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3
    url = new_database("dagster").replace("postgresql://", "postgresql+psycopg2://")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(project_root() / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MLOPS_DAGSTER_PG_URL": url,
        "MLOPS_DATA_DIR": str(tmp_path / "data"),
        "MLOPS_SENSOR_INTERVAL_SECONDS": "2",
        "PYTHONPATH": str(project_root()),
    }
    monkeypatch.setenv("MLOPS_DAGSTER_PG_URL", url)
    defs = make_definitions(tmp_path / "data")

    # a materialization through the first instance
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        ingest_days(defs, instance, "2026-01-01", "2026-01-01", {"rows_per_day": 300}, quiet=True)

    # a sensor tick written by the real daemon process
    subprocess.run(
        [str(BIN / "dagster"), "sensor", "start", "drift_sensor", "-w", WORKSPACE],
        env=env,
        cwd=project_root(),
        check=True,
        capture_output=True,
    )
    log = tmp_path / "daemon.log"
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", WORKSPACE],
        env=env,
        cwd=project_root(),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        with dg.DagsterInstance.from_config(str(home)) as second:

            def ticked() -> bool:
                if daemon.poll() is not None:
                    pytest.fail(f"the daemon exited before a sensor tick; daemon log:\n{log.read_text()[-3000:]}")
                return bool(_sensor_ticks(second, "drift_sensor"))

            try:
                wait_until(ticked, 120, 1, "a drift_sensor tick")
            except TimeoutError as error:
                pytest.fail(f"{error}; daemon log:\n{log.read_text()[-3000:]}")
            # the second instance reads both from PostgreSQL
            event = second.get_latest_materialization_event(dg.AssetKey("raw_churn_events"))
            assert event is not None and event.asset_materialization.partition == "2026-01-01"
    finally:
        daemon.terminate()
        daemon.wait(30)

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        events = conn.execute(sa.text("SELECT count(*) FROM event_logs WHERE asset_key IS NOT NULL")).scalar()
        ticks = conn.execute(sa.text("SELECT count(*) FROM job_ticks")).scalar()
    engine.dispose()
    assert events > 0 and ticks > 0
