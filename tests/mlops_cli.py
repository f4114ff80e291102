"""``mlops`` run as users run it, a separate process on a data folder of its own, for the CLI tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from mlops_assets.serving.triton_process import free_port

MLOPS = str(Path(sys.executable).with_name("mlops"))
RUN_THE_DEMO = "run `mlops demo` first"


def environment(data_dir: Path, dagster_home: Path | None = None) -> dict[str, str]:
    """The embedded profile on ``data_dir``, with its own ``DAGSTER_HOME``."""
    home = dagster_home or data_dir / "dagster_home"
    return {k: v for k, v in os.environ.items() if k != "MLOPS_PROFILE"} | {
        "MLOPS_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(home),
    }


def mlops(data_dir: Path, *args: str, dagster_home: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MLOPS, *args], env=environment(data_dir, dagster_home), capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(stderr: str, command: str, *says: str) -> None:
    """``stderr`` is exactly ``mlops <command>: ...`` on one line, containing every phrase in ``says``."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"mlops {command}: "), lines[0]
    for phrase in says:
        assert phrase in lines[0]


def processes_using(data_dir: Path) -> list[str]:
    """Command lines of live processes that mention ``data_dir`` (a Triton server serving its repository)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(data_dir) in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(cmdline)
    return found


def serve_until_it_exits(data_dir: Path, timeout_s: float = 90) -> tuple[int, int, str]:
    """Run ``mlops serve`` in its own session; its pid, exit code and stderr once it has exited by itself."""
    server = subprocess.Popen(
        [MLOPS, "serve", "--port", str(free_port())],
        env=environment(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = server.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.communicate()
        pytest.fail(f"mlops serve on {data_dir} was still running after {timeout_s} s")
    return server.pid, server.returncode, stderr


def assert_nothing_left_running(session_leader: int, data_dir: Path) -> None:
    """No process of the command's session, and no process (a Triton server) working on ``data_dir``."""
    with pytest.raises(ProcessLookupError):
        os.killpg(session_leader, 0)
    assert processes_using(data_dir) == []
