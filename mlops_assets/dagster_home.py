"""The local ``DAGSTER_HOME`` under the data folder, with freshness policies switched on."""

from __future__ import annotations

import os
from pathlib import Path

DAGSTER_YAML = """\
# Written by `mlops`; local, embedded instance (SQLite storage in this folder).
freshness:
  enabled: true
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 3
  # a queued run starts within a second, not the default five: each step of the loop is its own run
  dequeue_interval_seconds: 1
  dequeue_use_threads: true
  tag_concurrency_limits:
    # one retrain or deployment decision at a time: two drift events queue instead of racing
    - key: mlops/model
      limit: 1
# a run whose worker dies is marked failed (the code server notices the dead process; monitoring covers
# runs stuck while starting or cancelling) and retried once from the failure, without a second decision
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 60
  poll_interval_seconds: 5
run_retries:
  enabled: true
  max_retries: 1
  retry_on_asset_or_op_failure: false
sensors:
  use_threads: true
  num_workers: 4
auto_materialize:
  use_sensors: true
"""


def ensure_dagster_home(data_dir: Path) -> Path:
    """Create ``<data>/dagster_home/dagster.yaml`` if missing, export ``DAGSTER_HOME`` and return it.

    The embedded profile gets the local SQLite instance above; the production profile gets
    ``deploy/dagster.yaml`` (PostgreSQL storage, its URL read from ``MLOPS_DAGSTER_PG_URL``).
    """
    from resources.profiles import active_profile, project_root

    production = active_profile() == "production"
    default = data_dir / ("dagster_home_production" if production else "dagster_home")
    home = Path(os.environ.get("DAGSTER_HOME") or default).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    wanted = (project_root() / "deploy" / "dagster.yaml").read_text() if production else DAGSTER_YAML
    if not config.exists() or (config.read_text() != wanted and config.read_text().startswith("# Written by")):
        config.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
