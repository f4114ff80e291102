"""Prometheus metrics (prometheus_client), one registry per process component.

The gateway exports request latency by model version, the prediction distribution, fallbacks and errors;
the monitoring assets write drift scores, p-values, thresholds and feature-quality figures to a Prometheus
text file that the gateway's ``/metrics`` appends (so one scrape target carries both).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, write_to_textfile

LATENCY_BUCKETS_S = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
SCORE_BUCKETS = tuple(round(i / 10, 1) for i in range(1, 11))


@dataclass
class GatewayMetrics:
    """Request, latency, score, fallback and error series of the gateway."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("mlops_gateway_requests", "Prediction requests", ["arm", "outcome"], registry=r)
        self.latency = Histogram(
            "mlops_gateway_latency_seconds",
            "End-to-end request latency",
            ["model_version"],
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.scores = Histogram(
            "mlops_prediction_score",
            "Predicted churn probability",
            ["model_version"],
            buckets=SCORE_BUCKETS,
            registry=r,
        )
        self.fallbacks = Counter(
            "mlops_gateway_fallbacks", "Requests served by the fallback model", ["reason"], registry=r
        )
        self.errors = Counter("mlops_gateway_errors", "Requests answered with an error", ["kind"], registry=r)
        self.challenger_share = Gauge(
            "mlops_gateway_challenger_share", "Configured challenger traffic share", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


@dataclass
class MonitoringMetrics:
    """Drift and feature-quality series, built from the monitoring assets' newest reports.

    The monitoring assets run in Dagster runs that end, so they cannot be scraped; they write these series
    to a Prometheus text file (``write``, atomic via ``prometheus_client.write_to_textfile``) that the
    gateway's ``/metrics`` appends and node_exporter's textfile collector can also read. Thresholds and
    the false-alarm rate are exported next to the statistics, so alert rules compare against the same
    calibrated numbers the drift engine used.
    """

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        col = ["report", "column"]
        self.effect = Gauge("mlops_drift_effect_size", "Drift effect size per column", [*col, "test"], registry=r)
        self.threshold = Gauge("mlops_drift_threshold", "Calibrated effect-size threshold", col, registry=r)
        self.p_value = Gauge("mlops_drift_p_value_adjusted", "BH-adjusted p-value per column", col, registry=r)
        self.drifted = Gauge("mlops_drift_column_drifted", "1 when the column drifted", col, registry=r)
        self.dataset = Gauge("mlops_drift_dataset_drifted", "1 on a dataset drift verdict", ["report"], registry=r)
        self.share = Gauge("mlops_drift_share_of_columns", "Share of drifted columns", ["report"], registry=r)
        self.alpha = Gauge("mlops_drift_alpha", "False-alarm rate after BH correction", ["report"], registry=r)
        self.day = Gauge("mlops_drift_report_day_timestamp_seconds", "Day the report covers", ["report"], registry=r)
        self.missing = Gauge("mlops_feature_missing_rate", "Missing-value rate", ["column", "window"], registry=r)
        self.out_of_range = Gauge(
            "mlops_feature_out_of_range_share", "Share of values outside the reference range", ["column"], registry=r
        )
        self.degraded = Gauge("mlops_feature_quality_degraded", "1 when the raw window is degraded", registry=r)
        self.issues = Gauge("mlops_feature_quality_issues", "Feature-quality issues found", registry=r)

    def observe_drift(self, report: str, payload: dict) -> None:
        """One drift report (``DriftReport.to_dict()`` plus ``day``) under ``report`` (data, prediction)."""
        dataset = payload["dataset"]
        self.dataset.labels(report).set(float(dataset["drifted"]))
        self.share.labels(report).set(float(dataset.get("share_drifted", 0.0)))
        self.alpha.labels(report).set(float(dataset["alpha"]))
        if "day" in payload:
            self.day.labels(report).set(_day_seconds(payload["day"]))
        for c in payload.get("columns", []):
            self.effect.labels(report, c["column"], c["test"]).set(float(c["effect_size"]))
            self.threshold.labels(report, c["column"]).set(float(c["threshold"]))
            self.p_value.labels(report, c["column"]).set(float(c["p_value_adjusted"]))
            self.drifted.labels(report, c["column"]).set(float(c["drifted"]))

    def observe_quality(self, payload: dict) -> None:
        """One feature-quality report (``QualityReport.to_dict()``)."""
        for column, rates in payload.get("missing_rate", {}).items():
            self.missing.labels(column, "current").set(float(rates["current"]))
            self.missing.labels(column, "reference").set(float(rates["reference"]))
        for column, share in payload.get("out_of_range_share", {}).items():
            self.out_of_range.labels(column).set(float(share))
        self.degraded.set(float(bool(payload.get("degraded", False))))
        self.issues.set(float(len(payload.get("issues", []))))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), self.registry)
        return path


def _day_seconds(day: str) -> float:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp()
