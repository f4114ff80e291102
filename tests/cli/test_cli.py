"""Every ``mlops`` subcommand, run as users run it (a separate process): it works, or it exits non-zero with
one line on stderr that says what is wrong and what to do, never a traceback, and leaves no process behind.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_assets.cli.errors import EXIT_USAGE
from mlops_assets.serving.routing import Routing
from resources.profiles import embedded_resources
from tests.mlops_cli import (
    MLOPS,
    RUN_THE_DEMO,
    assert_nothing_left_running,
    assert_one_line_error,
    environment,
    mlops,
    serve_until_it_exits,
)


@pytest.fixture
def empty(data_dir: Path) -> Path:
    """A data folder in which nothing has run yet, as after a fresh clone (conftest's ``data_dir``)."""
    return data_dir


# --- before anything has run ------------------------------------------------------------------------------


def test_status_on_an_empty_folder_says_there_is_no_champion_yet(empty: Path) -> None:
    result = mlops(empty, "status")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "champion: none" in result.stdout


def test_features_on_an_empty_folder_says_to_run_the_demo(empty: Path) -> None:
    result = mlops(empty, "features")

    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result.stderr, "features", "no feature view", RUN_THE_DEMO)


def test_reproduce_on_an_empty_folder_says_the_version_is_not_registered(empty: Path) -> None:
    result = mlops(empty, "reproduce", "1")

    assert result.returncode == EXIT_USAGE
    assert_one_line_error(
        result.stderr, "reproduce", "model version 1 not found in registry 'churn-classifier'", RUN_THE_DEMO
    )


@pytest.mark.slow
def test_serve_on_an_empty_folder_refuses_before_starting_triton_and_leaves_nothing_running(empty: Path) -> None:
    pid, code, stderr = serve_until_it_exits(empty, timeout_s=60)

    assert code == EXIT_USAGE
    assert_one_line_error(stderr, "serve", "nothing to serve yet", RUN_THE_DEMO)
    assert_nothing_left_running(pid, empty)


def test_drift_with_missing_files_names_the_file(empty: Path) -> None:
    result = mlops(empty, "drift", "--reference", "missing.parquet", "--current", "missing.parquet")

    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result.stderr, "drift", "missing.parquet: no such file")


def test_drift_piped_into_head_stops_quietly_when_head_has_its_line(empty: Path) -> None:
    # Given: a report far bigger than a pipe holds, so head exits while mlops is still writing
    rng = np.random.default_rng(0)
    columns = [f"x{i}" for i in range(400)]
    for name in ("reference", "current"):
        pd.DataFrame(rng.normal(size=(200, len(columns))), columns=columns).to_parquet(empty / f"{name}.parquet")
    # When: `mlops drift ... | head -1`
    drift = subprocess.Popen(
        [MLOPS, "drift", "--reference", str(empty / "reference.parquet"), "--current", str(empty / "current.parquet")],
        env=environment(empty),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    head = subprocess.run(["head", "-1"], stdin=drift.stdout, capture_output=True, text=True, timeout=120)
    drift.stdout.close()
    stderr = drift.stderr.read()
    drift.wait(120)
    # Then: head got its line; mlops ended as a Unix tool whose reader left (SIGPIPE's status), silently
    assert head.stdout == "{\n"
    assert drift.returncode == 128 + signal.SIGPIPE
    assert stderr == ""


# --- after a healthy lifecycle run ------------------------------------------------------------------------


def test_approve_on_an_empty_folder_says_the_version_is_not_the_challenger(empty: Path) -> None:
    result = mlops(empty, "approve", "3", "--by", "alice")

    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result.stderr, "approve", "v3 is not the challenger", "mlops status")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--start", "22/01/2026"), "--start must be a date"),
        (("--start", "2026-01-22", "--scenario", "meteor"), "--scenario must be one of"),
        (("--start", "2026-01-22", "--days", "0"), "--days must be at least 1"),
    ],
)
def test_land_with_bad_arguments_names_the_argument(empty: Path, args: tuple[str, ...], says: str) -> None:
    result = mlops(empty, "land", *args)

    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result.stderr, "land", says)


def test_land_writes_the_days_into_the_landing_folder_for_the_sensor(empty: Path) -> None:
    result = mlops(empty, "land", "--start", "2026-01-22", "--days", "2", "--rows-per-day", "50")

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (empty / "landing").iterdir()) == ["2026-01-22", "2026-01-23"]
    assert len(pd.read_parquet(empty / "landing" / "2026-01-23" / "events.parquet")) == 50


@pytest.mark.slow
def test_status_after_a_lifecycle_run_names_the_champion_version(lifecycle, tmp_path: Path) -> None:
    champion = lifecycle.resources["registry"].version_by_alias("champion")

    result = mlops(lifecycle.data_dir, "status", dagster_home=tmp_path / "dagster_home")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"champion: v{champion.version}" in result.stdout


@pytest.mark.slow
def test_reproduce_of_an_unknown_version_lists_the_registered_ones(lifecycle, tmp_path: Path) -> None:
    registered = lifecycle.resources["registry"].version_by_alias("champion").version

    result = mlops(lifecycle.data_dir, "reproduce", "999", dagster_home=tmp_path / "dagster_home")

    assert result.returncode == EXIT_USAGE
    assert_one_line_error(
        result.stderr,
        "reproduce",
        "model version 999 not found in registry 'churn-classifier'",
        f"registered versions: {registered}",
    )


@pytest.mark.slow
def test_serve_that_fails_after_triton_started_takes_triton_down_with_it(lifecycle, tmp_path: Path) -> None:
    # Given: a copy of a healthy platform whose routing names a champion the model repository does not hold
    data_dir = tmp_path / "data"
    shutil.copytree(lifecycle.data_dir, data_dir)
    serving = embedded_resources(data_dir)["serving"]
    Routing(champion_version="999").save(serving.routing_path)
    # When: Triton has started and loading the champion into it fails
    pid, code, stderr = serve_until_it_exits(data_dir)
    # Then: one line naming what is missing, and neither mlops nor the Triton server it started is left
    assert (Path(serving.state_dir) / "tritonserver.log").stat().st_size > 0, "Triton never started"
    assert code == EXIT_USAGE
    assert_one_line_error(stderr, "serve", "routes to churn version [999]", "materialize triton_model_repository")
    assert_nothing_left_running(pid, data_dir)
