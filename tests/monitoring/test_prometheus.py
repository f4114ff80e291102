"""Alerting on the drift engine's own statistics: promtool unit tests and a real Prometheus scrape.

Both need Debian's ``prometheus`` package (``promtool`` and ``prometheus`` on PATH); ``.ci/run`` installs
it. The scrape test runs the chain a user runs: the monitoring assets' helper writes the metrics file from
a real drift report, the gateway's ``/metrics`` serves it, Prometheus scrapes it on loopback and evaluates
``deploy/prometheus/alerts.yml``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from mlops_assets.core import domain as d
from mlops_assets.ingestion.generator import Scenario, generate_day
from mlops_assets.monitoring.assets import export_monitoring_metrics
from mlops_assets.monitoring.drift_profile import ReferenceProfile
from mlops_assets.serving.app import create_app
from mlops_assets.serving.gateway import Gateway
from mlops_assets.serving.metrics import GatewayMetrics
from mlops_assets.serving.prediction_log import PredictionLog
from mlops_assets.serving.routing import RoutingWatcher
from resources.polling import wait_until
from resources.profiles import project_root
from resources.serving import ServingResource
from resources.storage import LakeResource

RULES = project_root() / "deploy" / "prometheus"
needs_prometheus = pytest.mark.skipif(
    shutil.which("promtool") is None or shutil.which("prometheus") is None,
    reason="Debian's prometheus package is not installed (.ci/run installs it)",
)


def _dashboard_queries() -> list[tuple[str, str]]:
    import json

    dashboard = json.loads((project_root() / "deploy" / "grafana" / "mlops-dashboard.json").read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_prometheus
def test_the_alert_rules_and_config_are_valid_and_pass_their_promtool_unit_tests():
    for args in (["check", "config", "prometheus.yml"], ["test", "rules", "alerts_test.yml"]):
        done = subprocess.run(["promtool", *args], cwd=RULES, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def _drift_payload(scenario: Scenario) -> dict:
    columns = [*d.NUMERIC_NAMES, *d.CATEGORICAL_NAMES]
    profile = ReferenceProfile.from_frame(generate_day(dt.date(2026, 1, 1), rows=3_000), columns=columns)
    report = profile.compare(generate_day(dt.date(2026, 1, 2), rows=3_000, scenario=scenario), columns=columns)
    return {**report.to_dict(), "day": "2026-01-02"}


@pytest.fixture
def gateway_with_drift(tmp_path: Path):
    """The gateway's /metrics on loopback, after the monitoring helper exported a covariate-shift report."""
    import uvicorn

    lake, serving = LakeResource(root=str(tmp_path / "lake")), ServingResource(state_dir=str(tmp_path / "serving"))
    payload = _drift_payload(Scenario.COVARIATE_SHIFT)
    assert payload["dataset"]["drifted"], "the generator's covariate shift must be detected for this test"
    lake.write_json(payload, "monitoring", "data_drift", "2026-01-02.json")
    export_monitoring_metrics(lake, serving)
    gateway = Gateway(
        features=None,
        scorer=None,
        routing=RoutingWatcher(serving.routing_path),
        log=PredictionLog(tmp_path / "predictions"),
        metrics=GatewayMetrics(),
        monitoring_metrics=serving.monitoring_metrics_path,
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(gateway), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    with contextlib.suppress(TimeoutError):  # a gateway that never started fails the scrape, with its message
        wait_until(lambda: server.started, 20, 0.05, "the gateway to listen")
    try:
        yield port, payload
    finally:
        server.should_exit = True
        thread.join(10)


@needs_prometheus
def test_a_real_prometheus_scrapes_the_drift_report_and_fires_the_drift_alerts(tmp_path, gateway_with_drift):
    target, payload = gateway_with_drift
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{RULES / 'alerts.yml'}']\n"
        f"scrape_configs: [{{job_name: gateway, static_configs: [{{targets: ['127.0.0.1:{target}']}}]}}]\n"
    )
    port = _free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    server = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        firing: dict[str, list[dict]] = {}

        def both_alerts_fire() -> bool:
            try:
                alerts = httpx.get(f"{api}/alerts", timeout=2).json()["data"]["alerts"]
            except (httpx.HTTPError, KeyError):
                return False
            firing.clear()
            for alert in alerts:
                if alert["state"] == "firing":
                    firing.setdefault(alert["labels"]["alertname"], []).append(alert["labels"])
            return {"MlopsDatasetDrift", "MlopsColumnDrift"} <= firing.keys()

        with contextlib.suppress(TimeoutError):  # the assertions below say which alert is missing
            wait_until(both_alerts_fire, 60, 1, "Prometheus to fire both drift alerts")
        tail = (tmp_path / "prometheus.log").read_text()[-2000:]
        assert "MlopsDatasetDrift" in firing, f"no drift alert after 60 s; prometheus log:\n{tail}"
        expected = {"alertname": "MlopsDatasetDrift", "report": "data", "severity": "warning"}
        assert firing["MlopsDatasetDrift"] == [expected]
        # the column alert fires for exactly the columns the drift engine called drifted
        assert {a["column"] for a in firing["MlopsColumnDrift"]} == set(payload["dataset"]["drifted_columns"])
        query = httpx.get(f"{api}/query", params={"query": 'mlops_drift_share_of_columns{report="data"}'}).json()
        assert float(query["data"]["result"][0]["value"][1]) == pytest.approx(payload["dataset"]["share_drifted"])
        # every query of the Grafana dashboard parses, and the drift panels show the scraped report
        for title, expr in _dashboard_queries():
            answer = httpx.get(f"{api}/query", params={"query": expr}).json()
            assert answer["status"] == "success", f"{title!r}: {answer}"
            if "drift" in expr:
                assert answer["data"]["result"], f"{title!r} shows nothing for {expr}"
    finally:
        server.terminate()
        server.wait(20)
        log.close()
