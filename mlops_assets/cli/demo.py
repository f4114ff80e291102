"""``mlops demo``: the self-healing loop under Dagster's own daemon, on embedded defaults.

The demo only does what the world outside Dagster does: it lands data (a history, a normal day, a drifted
stretch) and sends live traffic through the gateway. Everything else is launched by Dagster: the landing
sensor ingests, automation validates, builds features and reports, the drift sensor trains the first model
and retrains on drift, the canary sensor decides. It ends with a summary and a timeline read from the
instance, stops what it started, and leaves the instance for ``make dev``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from mlops_assets.cli.timeline import TimelineRow, collapse, run_timeline
from mlops_assets.core.artifacts import WEIGHTS_SHA256_TAG
from mlops_assets.dagster_home import ensure_dagster_home
from mlops_assets.ingestion.producer import land_days
from mlops_assets.monitoring.check_history import completed_evaluations
from mlops_assets.run_tags import TRIGGER_TAG
from resources.polling import wait_until
from resources.profiles import data_dir, project_root, resolved

FIRST_DAY = dt.date(2026, 1, 1)
DRIFT_DAYS = 4
"""Drifted days landed together: labels arrive three days late, so a retrain learns the shift only from a
few days of it."""
AUTO_APPROVER = "mlops demo (automatic approval)"
DATA_DRIFT = dg.AssetCheckKey(dg.AssetKey("data_drift_report"), "no_data_drift")


class DemoError(RuntimeError):
    """The loop did not reach a milestone in time; the message says which and where the logs are."""


@dataclass
class DemoSummary:
    """What the demo saw, for the closing summary."""

    champion_version: str = "none"
    champion_sha256: str = ""
    oot_roc_auc: float = float("nan")
    lines: list[str] = field(default_factory=list)
    timeline: list[TimelineRow] = field(default_factory=list)
    seconds: float = 0.0

    def render(self) -> str:
        runs = [row.render() for row in collapse(self.timeline)]
        launchers = sorted({row.launched_by for row in self.timeline})
        return "\n".join(
            [
                "",
                "=== mlops demo: summary ===",
                *self.lines,
                f"champion model version   v{self.champion_version} (sha256 {self.champion_sha256[:16]})",
                f"champion OOT ROC AUC     {self.oot_roc_auc:.4f}",
                f"runs                     {len(self.timeline)}, launched by {', '.join(launchers)}",
                f"took                     {self.seconds:.1f} s",
                "",
                "timeline (UTC start, duration, job, launched by, trigger, status, outcome):",
                *runs,
                "",
                "where to look:",
                "  Dagster UI   make dev        -> http://127.0.0.1:3000 (runs, sensors, checks, asset graph)",
                "  MLflow UI    make mlflow-ui  -> http://127.0.0.1:5000 (runs, registry, aliases)",
                "  status       .venv/bin/mlops status",
            ]
        )


class Loop:
    """The running platform: daemon, serving stack and traffic, and the instance to watch them through."""

    def __init__(self, interval_s: int, tuning_trials: int) -> None:
        from mlops_assets.cli.dagster_daemon import DaemonProcess
        from mlops_assets.definitions import build_definitions

        root = data_dir()
        self.home = ensure_dagster_home(root)
        self.resources = resolved(build_definitions().resources)
        self.resources["registry"].ensure_model()  # the tracking store exists before sensors read it at once
        self.instance = dg.DagsterInstance.get()
        env = {
            "MLOPS_DATA_DIR": str(root),
            "DAGSTER_HOME": str(self.home),
            "MLOPS_SENSOR_INTERVAL_SECONDS": str(interval_s),
            "MLOPS_AUTO_APPROVE": AUTO_APPROVER,
            "MLOPS_RETRAIN_TUNING_TRIALS": str(tuning_trials),
            "MLOPS_CANARY_SHARE": "0.3",
        }
        self.daemon = DaemonProcess(project_root() / "workspace.yaml", root / "logs" / "dagster-daemon.log", env)
        self.stack = None
        self.traffic = None

    def wait(self, what: str, predicate: Callable[[], object], timeout_s: float) -> object:
        """Poll ``predicate`` until it returns something truthy; a dead daemon or the deadline is an error."""

        def answered() -> object:
            if value := predicate():
                return value
            if not self.daemon.alive():
                raise DemoError(f"the Dagster daemon exited while waiting for {what}; see {self.daemon.log_path}")
            return None

        try:
            return wait_until(answered, timeout_s, 1.0, what)
        except TimeoutError as error:
            raise DemoError(f"{error}; see {self.daemon.log_path}") from None

    def serve(self) -> None:
        """Start Triton, the gateway and a traffic generator on the champion the loop promoted."""
        import pandas as pd

        from mlops_assets.serving.stack import ServingStack
        from mlops_assets.serving.traffic_generator import TrafficGenerator

        feast = self.resources["feast"]
        self.stack = ServingStack(self.resources["serving"], feast).start()
        ids = pd.read_parquet(feast.source_path, columns=["customer_id"])["customer_id"].unique().tolist()
        self.traffic = TrafficGenerator(self.stack.url, ids, batch=20, pause_s=0.1).start()

    def stop(self) -> None:
        if self.traffic is not None:
            self.traffic.stop()
        if self.stack is not None:
            self.stack.stop()
        self.daemon.stop()

    def champion(self) -> str | None:
        """The champion's version once its reference profile and the online store are ready."""
        champion = self.resources["registry"].version_by_alias("champion")
        if champion is None:
            return None
        latest = self.instance.get_latest_materialization_events(
            [dg.AssetKey("reference_profile"), dg.AssetKey("online_features")]
        )
        reference = latest.get(dg.AssetKey("reference_profile"))
        if reference is None or latest.get(dg.AssetKey("online_features")) is None:
            return None
        profiled = reference.asset_materialization.metadata.get("champion_version")
        return str(champion.version) if profiled and str(profiled.value) == str(champion.version) else None

    def verdict(self, day: str) -> str | None:
        """``passed`` or ``failed`` once the data-drift check of ``day`` has been evaluated."""
        for verdict in completed_evaluations(self.instance, DATA_DRIFT, limit=50):
            if verdict.metadata.get("day") == day:
                return "passed" if verdict.passed else "failed"
        return None

    def settle(self, quiet_s: float = 10.0, timeout_s: float = 300) -> None:
        """Wait until no run has been queued or in progress for ``quiet_s``, so stopping interrupts nothing.

        A quiet moment, not just an idle one: a finished run often makes automation request the next one a
        tick later (a promotion, then the new champion's reference profile).
        """
        busy = [
            dg.DagsterRunStatus.QUEUED,
            dg.DagsterRunStatus.NOT_STARTED,
            dg.DagsterRunStatus.STARTING,
            dg.DagsterRunStatus.STARTED,
        ]
        idle_since = [time.monotonic()]

        def quiet() -> bool:
            if self.instance.get_runs(dg.RunsFilter(statuses=busy), limit=1):
                idle_since[0] = time.monotonic()
            return time.monotonic() - idle_since[0] >= quiet_s

        self.wait("a quiet moment with no run in flight", quiet, timeout_s)

    def finished_run(self, job: str, trigger_prefix: str) -> dg.DagsterRun | None:
        """The newest finished run of ``job`` whose trigger tag starts with ``trigger_prefix``."""
        for run in self.instance.get_runs(dg.RunsFilter(job_name=job), limit=20):
            ours = run.tags.get(TRIGGER_TAG, "").startswith(trigger_prefix) and run.is_finished
            if ours and (run.status == dg.DagsterRunStatus.SUCCESS or run.tags.get("dagster/will_retry") != "true"):
                return run
        return None


def _decision(loop: Loop) -> str:
    event = loop.instance.get_latest_materialization_event(dg.AssetKey("production_deployment"))
    return str(event.asset_materialization.metadata["decision"].value) if event else "no decision"


def run_demo(
    days: int = 21,
    rows_per_day: int = 1_500,
    population: int = 20_000,
    fresh: bool = False,
    interval_s: int = 2,
    tuning_trials: int = 2,
    live_every_s: float = 0.0,
) -> DemoSummary:
    """Land data, let the daemon heal the model, summarise; with ``live_every_s`` keep landing days."""
    started, since = time.perf_counter(), dt.datetime.now(dt.UTC)
    if fresh and data_dir().exists():
        shutil.rmtree(data_dir())
    loop = Loop(interval_s, tuning_trials)
    landing, summary = loop.resources["landing"], DemoSummary()
    last = FIRST_DAY + dt.timedelta(days=days - 1)
    try:
        loop.daemon.start()
        land_days(landing, FIRST_DAY, days, rows_per_day=rows_per_day, population=population)
        first = loop.wait("the first champion (ingest, validate, features, train, decide)", loop.champion, 900)
        summary.lines.append(f"first champion           v{first} ({time.perf_counter() - started:.0f} s after landing)")
        loop.serve()
        normal = (last + dt.timedelta(days=1)).isoformat()
        land_days(landing, last + dt.timedelta(days=1), 1, rows_per_day=rows_per_day, population=population)
        verdict = loop.wait(f"the drift check of {normal}", lambda: loop.verdict(normal), 300)
        summary.lines.append(f"normal day {normal}     data-drift check {verdict}")
        drift_start = last + dt.timedelta(days=2)
        landed_at = time.perf_counter()
        land_days(
            landing,
            drift_start,
            DRIFT_DAYS,
            scenario="covariate_shift",
            rows_per_day=rows_per_day,
            population=population,
        )
        verdict = loop.wait("the drifted day's check", lambda: loop.verdict(drift_start.isoformat()), 300)
        summary.lines.append(f"drifted {drift_start}+{DRIFT_DAYS - 1}d   data-drift check {verdict}")
        retrain = loop.wait("the retrain run", lambda: loop.finished_run("retrain", "drift:"), 900)
        summary.lines.append(f"retrain                  run {retrain.run_id[:8]} {retrain.status.value}")
        decided = loop.wait("the production decision", lambda: loop.finished_run("deploy", "canary:"), 900)
        summary.lines.append(f"production decision      {_decision(loop)} (run {decided.run_id[:8]})")
        summary.lines.append(f"drift landed -> decision {time.perf_counter() - landed_at:.1f} s")
        if live_every_s > 0:
            _live(loop, landing, drift_start + dt.timedelta(days=DRIFT_DAYS), rows_per_day, population, live_every_s)
        loop.settle(quiet_s=3 * interval_s + 4)
    finally:
        stats = loop.traffic.stats if loop.traffic is not None else None
        loop.stop()
    if stats is not None:
        summary.lines.append(
            f"live traffic             {stats.predictions} predictions in {stats.requests} requests, "
            f"{stats.fallbacks} fallbacks, {stats.failures} failed requests"
            + (
                f" ({', '.join(f'{n} x {kind}' for kind, n in stats.failure_kinds.most_common())})"
                if stats.failures
                else ""
            )
        )
    champion = loop.resources["registry"].version_by_alias("champion")
    if champion is not None:
        summary.champion_version = str(champion.version)
        summary.champion_sha256 = champion.tags.get(WEIGHTS_SHA256_TAG, "")
        summary.oot_roc_auc = float(champion.tags.get("eval.oot_roc_auc", "nan"))
    summary.timeline = run_timeline(loop.instance, since)
    summary.seconds = time.perf_counter() - started
    return summary


def _live(loop: Loop, landing: object, first: dt.date, rows_per_day: int, population: int, every_s: float) -> None:
    """Land one more day every ``every_s`` seconds (every fifth one drifted) until Ctrl-C."""
    day = first
    print(f"live mode: landing a day every {every_s:.0f} s; watch http://127.0.0.1:3000 (make dev); Ctrl-C stops")
    try:
        while True:
            scenario = "covariate_shift" if (day - FIRST_DAY).days % 5 == 0 else "none"
            land_days(landing, day, 1, scenario=scenario, rows_per_day=rows_per_day, population=population)  # type: ignore[arg-type]
            print(f"landed {day} ({scenario}); latest decision: {_decision(loop)}", flush=True)
            day += dt.timedelta(days=1)
            time.sleep(every_s)
    except KeyboardInterrupt:
        print("live mode stopped")
