"""A real ``dagster-webserver`` over a test's instance, queried through its GraphQL API as the UI does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from mlops_assets.serving.triton_process import free_port
from resources.polling import wait_until
from resources.profiles import project_root

SENSORS = """query { sensorsOrError(repositorySelector: {repositoryLocationName: "mlops",
  repositoryName: "__repository__"}) { __typename ... on Sensors { results { name sensorState { status } } } } }"""
RUNS = """query { runsOrError(limit: 1000) { __typename ... on Runs { results { jobName } } } }"""
LATEST = """query { assetNodes { assetKey { path } assetMaterializations(limit: 1) { partition
  metadataEntries { label __typename ... on MarkdownMetadataEntry { mdStr } ... on TextMetadataEntry { text }
  ... on UrlMetadataEntry { url }
  ... on IntMetadataEntry { intValue } } } } }"""
PARTITIONS = """query { assetNodes { assetKey { path } isPartitioned
  partitionStats { numMaterialized numPartitions numFailed } } }"""


@contextmanager
def webserver(log_path: Path) -> Iterator[httpx.Client]:
    """Start the webserver on a free loopback port over ``workspace.yaml`` and ``DAGSTER_HOME``."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "dagster-webserver"), "-w", str(project_root() / "workspace.yaml")]
    process = subprocess.Popen(
        [*command, "-h", "127.0.0.1", "-p", str(port)],
        env=dict(os.environ),
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:

        def answers() -> bool:
            try:
                return client.get("/server_info").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, 120, 1, f"dagster-webserver to answer /server_info (log: {log_path})")
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(30)


def latest_metadata(client: httpx.Client) -> dict[str, tuple[str | None, list[dict]]]:
    """Each asset's latest materialization as the UI shows it: (partition, metadata entries in order)."""
    latest = {}
    for node in query(client, LATEST)["assetNodes"]:
        events = node["assetMaterializations"]
        if events:
            latest["/".join(node["assetKey"]["path"])] = (events[0]["partition"], events[0]["metadataEntries"])
    return latest


def query(client: httpx.Client, text: str) -> dict:
    body = client.post("/graphql", json={"query": text}).raise_for_status().json()
    assert "errors" not in body, body["errors"]
    return body["data"]
