"""Real PostgreSQL, Redis and an MLflow tracking server for the production profile's tests.

Each test gets its own PostgreSQL database (created here, dropped afterwards) and its own Redis key
prefix (a Feast project name), so runs never see each other's state. The services are the ones running
on every machine of this project (127.0.0.1:5432 with trust auth, 127.0.0.1:6379).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mlops_assets.serving.triton_process import free_port
from resources.polling import wait_until

PG_ADMIN_URL = os.environ.get("MLOPS_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("MLOPS_TEST_REDIS", "127.0.0.1:6379")
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.production


def _admin(sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(PG_ADMIN_URL)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


@pytest.fixture
def new_database() -> Iterator[Callable[[str], str]]:
    """A factory of fresh databases: ``new_database("dagster")`` -> ``postgresql://.../mlops_dagster_ab12cd34``."""
    created: list[str] = []

    def make(purpose: str) -> str:
        name = f"mlops_{purpose}_{uuid.uuid4().hex[:8]}"
        _admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    yield make
    for name in created:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def mlflow_server(new_database, tmp_path: Path) -> Iterator[str]:
    """``mlflow server`` with a PostgreSQL backend store and a local artifact root, as `make mlflow-server`."""
    port = free_port()
    log = (tmp_path / "mlflow-server.log").open("wb")
    server = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "server",
            "--backend-store-uri",
            new_database("mlflow"),
            "--artifacts-destination",
            str(tmp_path / "mlflow-artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {server.returncode}")
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        try:
            wait_until(healthy, 180, 0.5, "the mlflow server to answer /health")
        except (RuntimeError, TimeoutError) as error:
            tail = (tmp_path / "mlflow-server.log").read_text()[-3000:]
            pytest.fail(f"mlflow server did not start ({error}):\n{tail}")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
