"""The self-healing loop with the real dagster-daemon: drift in, exactly one retrain out, even across restarts."""

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from mlops_assets.dagster_home import ensure_dagster_home
from mlops_assets.lifecycle_runs import auto_approval, build_downstream, ingest_days, monitor_day
from resources.profiles import project_root
from tests.conftest import make_definitions

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
WORKSPACE = str(project_root() / "workspace.yaml")


def _env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MLOPS_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
        "MLOPS_SENSOR_INTERVAL_SECONDS": "3",
        "PYTHONPATH": str(project_root()),
    }


def _daemon(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", WORKSPACE],
        env=env,
        cwd=project_root(),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def _retrain_runs(instance: dg.DagsterInstance) -> list:
    return instance.get_runs(dg.RunsFilter(tags={"dagster/sensor_name": "drift_sensor"}))


def _sensor_ticks(instance: dg.DagsterInstance) -> int:
    from dagster._core.scheduler.instigation import InstigatorType

    states = [
        s
        for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        if s.instigator_name == "drift_sensor"
    ]
    return sum(len(instance.get_ticks(s.instigator_origin_id, s.selector_id, limit=1000)) for s in states)


def _failures(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    """The run's step and run failure messages, so a failed retrain says why in the assertion."""
    events = instance.all_logs(run.run_id)
    failed = [e for e in events if e.dagster_event and e.dagster_event.is_failure]
    return "\n".join(f"{e.step_key}: {e.message}\n{e.dagster_event.event_specific_data}" for e in failed)[-4000:]


def _wait(predicate, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; daemon log tail:\n{log.read_text()[-3000:]}")


@pytest.mark.reliability
def test_covariate_drift_triggers_exactly_one_retrain_also_across_daemon_restarts(tmp_path, monkeypatch):
    # given a healthy champion, monitored, on an instance the daemon shares
    env = _env(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    monkeypatch.setenv("MLOPS_DATA_DIR", env["MLOPS_DATA_DIR"])
    ensure_dagster_home(tmp_path)
    defs = make_definitions(tmp_path)
    instance = dg.DagsterInstance.get()
    ingest_days(defs, instance, "2026-01-01", "2026-01-12", {"rows_per_day": 800}, quiet=True)
    build_downstream(defs, instance, auto_approval(), quiet=True)
    monitor_day(defs, instance, "2026-01-12", quiet=True)
    registry = defs.resources["registry"]
    champion = str(registry.version_by_alias("champion").version)
    subprocess.run(
        [str(BIN / "dagster"), "sensor", "start", "drift_sensor", "-w", WORKSPACE],
        env=env,
        cwd=project_root(),
        check=True,
        capture_output=True,
    )
    log = tmp_path / "daemon.log"
    daemon = _daemon(env, log)
    try:
        # when covariate drift arrives in a new partition and is monitored
        ingest_days(
            defs, instance, "2026-01-13", "2026-01-14", {"rows_per_day": 800, "scenario": "covariate_shift"}, quiet=True
        )
        drift = monitor_day(defs, instance, "2026-01-13", quiet=True)
        assert drift.asset_materializations_for_node("data_drift_report")[0].metadata["drifted"].value is True

        # then the sensor requests one retrain, which registers a new challenger
        _wait(lambda: any(r.is_finished for r in _retrain_runs(instance)), 240, "the retrain run", log)
        runs = _retrain_runs(instance)
        assert len(runs) == 1
        assert runs[0].status == dg.DagsterRunStatus.SUCCESS, _failures(instance, runs[0])
        assert runs[0].tags["dagster/run_key"] == f"drift:champion-v{champion}"
        challenger = registry.version_by_alias("challenger")
        assert challenger is not None and str(challenger.version) != champion

        # and after a daemon restart, further evidence of the same drift does not retrain again
        _stop(daemon)
        ticks_before = _sensor_ticks(instance)
        daemon = _daemon(env, log)
        monitor_day(defs, instance, "2026-01-14", quiet=True)
        _wait(lambda: _sensor_ticks(instance) >= ticks_before + 3, 120, "three more sensor ticks", log)
        assert len(_retrain_runs(instance)) == 1
    finally:
        _stop(daemon)
