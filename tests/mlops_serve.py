"""``mlops serve`` as a separate process on a given data folder, for tests and the serving bench.

A gateway in its own process is how users run it (and how a pod runs it): signals, shutdown and the
prediction log's flushing only show there, and a client in the gateway's interpreter would share its GIL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from mlops_assets.serving.triton_process import free_port
from resources.polling import wait_until


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 within a second (False when nothing listens)."""
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def start_mlops_serve(data_dir: Path, *args: str, timeout_s: float = 120) -> tuple[subprocess.Popen, int]:
    """Start ``mlops serve --port <free port> *args`` on ``data_dir``; returns once ``/healthz`` answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MLOPS_PROFILE"} | {"MLOPS_DATA_DIR": str(data_dir)}
    mlops = str(Path(sys.executable).with_name("mlops"))
    process = subprocess.Popen([mlops, "serve", "--port", str(port), *args], env=env)

    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"mlops serve on {data_dir} exited with {process.returncode} before answering /healthz")
        return answers(f"http://127.0.0.1:{port}/healthz")

    try:
        wait_until(healthy, timeout_s, 0.25, f"mlops serve on {data_dir} to answer /healthz")
    except (RuntimeError, TimeoutError):
        process.kill()
        raise
    return process, port
