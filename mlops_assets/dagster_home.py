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
  max_concurrent_runs: 2
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
    if not config.exists():
        config.write_text((project_root() / "deploy" / "dagster.yaml").read_text() if production else DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
