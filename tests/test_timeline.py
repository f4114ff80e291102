"""Who launched a run, as the demo's timeline and the end-to-end test read it from the run's tags."""

import pytest

from mlops_assets.timeline import launched_by


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
