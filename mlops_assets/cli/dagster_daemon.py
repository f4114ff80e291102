"""The real ``dagster-daemon`` as a child process: what runs sensors, automation, the run queue and retries.

``mlops demo`` and the end-to-end tests start it over the project's ``workspace.yaml`` and the data
folder's ``DAGSTER_HOME``, exactly as ``make dev`` would, and stop it (with everything it started) at the
end. The daemon's own log goes to a file beside the instance.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from resources.polling import wait_until


def _signal(group: int, signum: int) -> bool:
    """Send ``signum`` to the process group; False when no process of it is left."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    return True


class DaemonProcess:
    """``dagster-daemon run -w workspace.yaml`` in its own process group, with ``env`` added to ours."""

    def __init__(self, workspace: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.workspace = workspace
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self) -> DaemonProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        daemon = Path(sys.executable).parent / "dagster-daemon"
        self.process = subprocess.Popen(
            [str(daemon), "run", "-w", str(self.workspace)],
            env=self.env,
            cwd=self.workspace.parent,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the daemon's whole process group (code server, run workers); SIGKILL what outlives it."""
        if self.process is None:
            return
        group = self.process.pid
        _signal(group, signal.SIGTERM)
        process = self.process

        def group_gone() -> bool:
            process.poll()  # reap the daemon itself, so the group empties once its children are gone
            return not _signal(group, 0)

        with contextlib.suppress(TimeoutError):  # what outlives the deadline is killed below
            wait_until(group_gone, timeout, 0.2, f"the daemon's process group {group} to exit")
        _signal(group, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def __enter__(self) -> DaemonProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
