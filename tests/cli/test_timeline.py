"""Who launched a run, as the demo's timeline and the end-to-end test read it from the run's tags."""

import pytest

from mlops_assets.cli.timeline import launched_by


@pytest.mark.parametrize(
    ("tags", "who"),
    [
        ({"dagster/sensor_name": "drift_sensor", "mlops/trigger": "drift:champion-v1"}, "sensor:drift_sensor"),
        ({"dagster/sensor_name": "automation", "dagster/from_automation_condition": "true"}, "automation"),
        ({"dagster/from_automation_condition": "true"}, "automation"),
        ({"dagster/sensor_name": "drift_sensor", "dagster/parent_run_id": "abc"}, "retry"),
        ({"dagster/schedule_name": "nightly"}, "schedule:nightly"),
        ({}, "manual"),
    ],
)
def test_the_launcher_is_read_from_the_run_tags(tags, who):
    assert launched_by(tags) == who


def test_consecutive_runs_doing_the_same_to_other_days_fold_into_one_row():
    import datetime as dt

    from mlops_assets.cli.timeline import TimelineRow, collapse

    def row(day: str, assets=("validated_events",), outcome="") -> TimelineRow:
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return TimelineRow(at, 2.0, "__ASSET_JOB", "automation", "", "SUCCESS", outcome, assets, (day,))

    rows = [row("2026-01-01"), row("2026-01-02"), row("2026-01-03"), row("2026-01-04", outcome="check x failed")]
    folded = collapse(rows)
    assert [r.runs for r in folded] == [3, 1]
    assert folded[0].outcome == "validated_events for 3 days 2026-01-01..2026-01-03"
    assert folded[0].seconds == 6.0
