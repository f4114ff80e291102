"""Two retrains registering at once (two processes, as two run pods would) leave the registry consistent."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest

from resources.model_registry import ModelRegistryResource
from resources.profiles import project_root

pytestmark = [pytest.mark.production, pytest.mark.reliability, pytest.mark.slow]

RETRAIN = """
import sys
from resources.mlflow_tracking import MlflowResource
from resources.model_registry import ModelRegistryResource

tracking, history, worker = sys.argv[1], sys.argv[2], sys.argv[3]
mlflow = MlflowResource(tracking_uri=tracking)
registry = ModelRegistryResource(tracking_uri=tracking, history_url=history)
for i in range(5):
    run_id = mlflow.run_for(f"{worker}-{i}", run_name=f"{worker}-{i}")
    uri = mlflow.log_bytes(run_id, f"{worker}-{i}".encode(), "model", "model.onnx")
    version = registry.register(uri, run_id, {"worker": worker})
    registry.move_alias("challenger", version.version, actor=worker, reason=f"retrain {i}")
"""


def test_two_concurrent_retrains_lose_no_version_and_keep_a_complete_alias_history(mlflow_server, new_database):
    history = new_database("registry")
    env = {**os.environ, "PYTHONPATH": str(project_root())}
    workers = [
        subprocess.Popen([sys.executable, "-c", RETRAIN, mlflow_server, history, name], env=env, cwd=project_root())
        for name in ("retrain-a", "retrain-b")
    ]
    assert [w.wait(300) for w in workers] == [0, 0]

    registry = ModelRegistryResource(tracking_uri=mlflow_server, history_url=history)
    versions = registry.client().search_model_versions(f"name='{registry.model_name}'")
    assert len(versions) == 10 and len({v.version for v in versions}) == 10
    challenger = registry.version_by_alias("challenger")
    assert challenger is not None and challenger.version in {v.version for v in versions}
    events = registry.alias_history("challenger")
    assert len(events) == 10
    # moves were serialised: each one's "previous" is the version the move before it set
    assert events[0].previous_version is None
    assert all(b.previous_version == a.version for a, b in itertools.pairwise(events))
    assert events[-1].version == challenger.version


FIRST_USE = """
import sys
from resources.model_registry import ModelRegistryResource

ModelRegistryResource(tracking_uri="unused", history_url=sys.argv[1]).alias_history("champion")
"""


def test_run_pods_starting_at_once_on_an_empty_database_all_get_the_history_table(new_database):
    history = new_database("first_use")
    env = {**os.environ, "PYTHONPATH": str(project_root())}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", FIRST_USE, history], env=env, cwd=project_root(), stderr=subprocess.PIPE
        )
        for _ in range(6)
    ]
    outcomes = [(w.wait(120), w.stderr.read().decode()[-500:]) for w in workers]
    assert all(code == 0 for code, _ in outcomes), [err for code, err in outcomes if code]
