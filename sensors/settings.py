"""How often the sensors tick and whether they run from the start: one place, read from the environment.

The embedded profile runs every sensor and the automation-condition sensor from the moment the daemon
starts (a user who lands a day sees the platform react); ``MLOPS_SENSOR_INTERVAL_SECONDS`` shortens the
ticks for a demo or a test. The production profile keeps the same defaults; ``deploy/helm/values.yaml``
documents where to change them.
"""

from __future__ import annotations

import os

import dagster as dg

INTERVAL_SECONDS = int(os.environ.get("MLOPS_SENSOR_INTERVAL_SECONDS", "30"))
DEFAULT_STATUS = dg.DefaultSensorStatus.RUNNING
AUTO_APPROVER = os.environ.get("MLOPS_AUTO_APPROVE", "")
"""Set (to a name) only where promotions need no person, such as the demo: the decision run records the
approval as automatic, by that name. Empty: a promotion waits for ``mlops approve``."""
RETRAIN_TUNING_TRIALS = int(os.environ.get("MLOPS_RETRAIN_TUNING_TRIALS", "6"))
CANARY_MAX_SECONDS = float(os.environ.get("MLOPS_CANARY_MAX_SECONDS", "3600"))
CANARY_SHARE = float(os.environ.get("MLOPS_CANARY_SHARE", "0.1"))
"""The challenger's share of live traffic while on canary (the retrain job's default config)."""
