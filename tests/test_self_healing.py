"""The self-healing loop under the real ``dagster-daemon``: the test only lands data and sends traffic.

Everything else must be Dagster's doing: the landing sensor ingests, automation validates, builds features
and reports, the drift sensor trains the first model and retrains on drift, the canary sensor decides.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import dagster as dg
import pytest

from mlops_assets.cli.demo import DRIFT_DAYS, FIRST_DAY, Loop
from mlops_assets.cli.timeline import launched_by
from mlops_assets.ingestion.producer import land_days
from tests.webserver import PARTITIONS, RUNS, SENSORS, latest_metadata, query, webserver

pytestmark = [pytest.mark.slow, pytest.mark.reliability]
HISTORY_DAYS, ROWS = 12, 800


@pytest.fixture
def loop(tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "data" / "dagster_home"))
    platform = Loop(interval_s=2, tuning_trials=1)
    platform.daemon.start()
    try:
        yield platform
    finally:
        platform.stop()


def _runs(loop: Loop, job: str, trigger: str = "") -> list[dg.DagsterRun]:
    runs = loop.instance.get_runs(dg.RunsFilter(job_name=job))
    return [r for r in runs if r.tags.get("mlops/trigger", "").startswith(trigger)]


def _restart(loop: Loop) -> None:
    loop.settle()
    loop.daemon.stop()
    loop.daemon.start()


def test_a_drifted_day_yields_one_retrain_one_canary_and_one_decision_also_across_daemon_restarts(loop):
    landing = loop.resources["landing"]
    # given a history landed in the folder: Dagster alone trains and promotes the first champion
    land_days(landing, FIRST_DAY, HISTORY_DAYS, rows_per_day=ROWS)
    first = loop.wait("the first champion", loop.champion, 600)
    loop.serve()

    # when a normal day lands, its reports pass their checks and nothing is retrained
    normal = FIRST_DAY + dt.timedelta(days=HISTORY_DAYS)
    land_days(landing, normal, 1, rows_per_day=ROWS)
    assert loop.wait("the normal day's verdict", lambda: loop.verdict(normal.isoformat()), 300) == "passed"
    _restart(loop)
    assert len(_runs(loop, "retrain")) == 1, "only the first model was trained"

    # when a stretch of covariate shift lands
    shifted = normal + dt.timedelta(days=1)
    land_days(landing, shifted, DRIFT_DAYS, scenario="covariate_shift", rows_per_day=ROWS)
    assert loop.wait("the drifted day's verdict", lambda: loop.verdict(shifted.isoformat()), 300) == "failed"

    # then exactly one retrain for the drift event, its challenger on canary, and one production decision
    retrain = loop.wait("the retrain", lambda: loop.finished_run("retrain", "drift:"), 600)
    assert retrain.status == dg.DagsterRunStatus.SUCCESS
    assert retrain.tags["dagster/run_key"] == f"drift:champion-v{first}"
    decision = loop.wait("the production decision", lambda: loop.finished_run("deploy", "canary:"), 600)
    assert decision.status == dg.DagsterRunStatus.SUCCESS
    event = loop.instance.get_latest_materialization_event(dg.AssetKey("production_deployment"))
    outcome = str(event.asset_materialization.metadata["decision"].value)
    assert "promoted" in outcome or "rolled back" in outcome, outcome

    # and a daemon restart afterwards changes nothing: no second retrain, no second decision
    _restart(loop)
    time.sleep(12)  # several sensor and automation ticks at 2 s
    loop.settle()
    assert len(_runs(loop, "retrain", "drift:")) == 1
    assert len(_runs(loop, "deploy", "canary:")) == 1
    # every run was launched by a sensor or by automation, none in-process or by hand
    runs = loop.instance.get_runs()
    assert {launched_by(dict(r.tags)) for r in runs} <= {
        "automation",
        "sensor:landing_sensor",
        "sensor:drift_sensor",
        "sensor:canary_sensor",
    }
    assert not [r for r in runs if r.job_name == "__ephemeral_asset_job__"]
    assert loop.verdict((shifted + dt.timedelta(days=DRIFT_DAYS - 1)).isoformat()) is not None

    # and the UI, over the webserver's GraphQL, shows every sensor running, only named or automation runs,
    # and exactly the landed days as partitions, every one of them ingested and validated
    landed = HISTORY_DAYS + 1 + DRIFT_DAYS
    with webserver(loop.daemon.log_path.with_name("webserver.log")) as ui:
        sensors = query(ui, SENSORS)["sensorsOrError"]["results"]
        assert {s["name"]: s["sensorState"]["status"] for s in sensors} == dict.fromkeys(
            ("landing_sensor", "drift_sensor", "canary_sensor", "automation"), "RUNNING"
        )
        jobs = {r["jobName"] for r in query(ui, RUNS)["runsOrError"]["results"]}
        assert jobs <= {"ingest", "retrain", "deploy", "__ASSET_JOB"}, jobs
        stats = {"/".join(n["assetKey"]["path"]): n["partitionStats"] for n in query(ui, PARTITIONS)["assetNodes"]}
        for asset in ("raw_churn_events", "validated_events", "quarantined_events"):
            assert stats[asset] == {"numMaterialized": landed, "numPartitions": landed, "numFailed": 0}, asset
        assert stats["data_drift_report"]["numPartitions"] == landed
        # the latest materializations lead with the verdict, count each day's own rows and link to MLflow
        latest = latest_metadata(ui)
        _, report = latest["data_drift_report"]
        assert [e["label"] for e in report[:2]] == ["summary", "verdict"]
        assert report[0]["__typename"] == "TextMetadataEntry" and "drift" in report[0]["text"].lower()
        assert report[1]["__typename"] == "MarkdownMetadataEntry"
        day, raw = latest["raw_churn_events"]
        assert day in {(FIRST_DAY + dt.timedelta(days=i)).isoformat() for i in range(landed)}
        assert {e["label"]: e.get("intValue") for e in raw}["dagster/row_count"] == ROWS
        for asset in ("trained_model", "registered_model", "canary_deployment", "production_deployment"):
            urls = [e["url"] for e in latest[asset][1] if e["__typename"] == "UrlMetadataEntry"]
            assert any("/#/models/" in u or "/#/experiments/" in u for u in urls), asset


def _worker_pid(loop: Loop, run: dg.DagsterRun) -> int | None:
    """The process executing ``run`` once it has started its steps (the in-process executor's worker)."""
    for entry in loop.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START):
        if entry.dagster_event is not None and entry.dagster_event.pid:
            return entry.dagster_event.pid
    return None


def _running_retrain(loop: Loop) -> tuple[dg.DagsterRun, int] | None:
    for run in _runs(loop, "retrain"):
        if not run.is_finished and (pid := _worker_pid(loop, run)):
            return run, pid
    return None


def test_a_retrain_whose_worker_is_killed_is_retried_and_ends_in_one_decision(loop):
    # given the first model's training under way
    land_days(loop.resources["landing"], FIRST_DAY, HISTORY_DAYS, rows_per_day=ROWS)
    running = loop.wait("the retrain's worker", lambda: _running_retrain(loop), 600)
    # when its worker process dies mid-step
    run, pid = running
    os.kill(pid, signal.SIGKILL)
    # then the run is marked failed, retried once from the failure, and one decision follows
    champion = loop.wait("a champion after the retry", loop.champion, 600)
    retrains = _runs(loop, "retrain")
    statuses = {r.run_id: r.status for r in retrains}
    assert statuses[run.run_id] == dg.DagsterRunStatus.FAILURE
    retries = [r for r in retrains if r.tags.get("dagster/parent_run_id") == run.run_id]
    assert len(retries) == 1 and retries[0].status == dg.DagsterRunStatus.SUCCESS
    loop.settle()
    decisions = _runs(loop, "deploy")
    assert [r.tags["dagster/run_key"] for r in decisions] == [f"first:v{champion}"]
