"""A local Triton Inference Server process on loopback, supervised by ``mlops serve`` and the tests.

Start ``tritonserver`` from its own venv on free loopback ports with explicit model control, wait for
server *and* model readiness, stop it cleanly (or kill it, for fault tests). The Dagster resource that
talks to a running server is ``resources.triton_server.TritonResource``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

from mlops_assets.serving.triton_env import TritonInstall, ensure_triton_env
from resources.polling import wait_until


class TritonStartError(RuntimeError):
    """The server exited or never became ready; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TritonServerProcess:
    """One ``tritonserver`` on 127.0.0.1 serving ``model_repository`` (models loaded explicitly)."""

    def __init__(
        self, model_repository: str | Path, install: TritonInstall | None = None, log_path: Path | None = None
    ) -> None:
        self.model_repository = Path(model_repository).resolve()
        self.install = install or ensure_triton_env()
        self.log_path = log_path or self.model_repository.parent / "tritonserver.log"
        self.process: subprocess.Popen | None = None
        self.http_port = self.grpc_port = self.metrics_port = 0

    @property
    def http_url(self) -> str:
        return f"127.0.0.1:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def command(self) -> list[str]:
        return [
            str(self.install.server),
            f"--model-repository={self.model_repository}",
            f"--backend-directory={self.install.backend_dir}",
            "--model-control-mode=explicit",
            "--http-address=127.0.0.1",
            f"--http-port={self.http_port}",
            "--grpc-address=127.0.0.1",
            f"--grpc-port={self.grpc_port}",
            "--metrics-address=127.0.0.1",
            f"--metrics-port={self.metrics_port}",
            "--allow-metrics=true",
            "--exit-timeout-secs=5",
            "--log-verbose=0",
        ]

    def start(self, timeout: float = 60.0) -> TritonServerProcess:
        """Start on fresh free ports and wait until the server answers ready."""
        self.http_port, self.grpc_port, self.metrics_port = free_port(), free_port(), free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        return self._launch(timeout)

    def _launch(self, timeout: float, occasion: str = "") -> TritonServerProcess:
        """Run ``tritonserver`` on the ports set and wait until it answers ready; one that never does is killed."""
        log = self.log_path.open("ab")
        process = self.process = subprocess.Popen(
            self.command(), env=self.install.environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

        def ready() -> bool:
            if process.poll() is not None:
                raise TritonStartError(f"tritonserver exited{occasion} with {process.returncode}:\n{self.log_tail()}")
            return self.server_ready()

        try:
            wait_until(ready, timeout, 0.2, f"tritonserver{occasion} to answer ready")
        except TimeoutError:
            self.kill()
            raise TritonStartError(f"tritonserver not ready{occasion} after {timeout}s:\n{self.log_tail()}") from None
        return self

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def server_ready(self) -> bool:
        import tritonclient.http as httpclient

        try:
            return bool(httpclient.InferenceServerClient(self.http_url, connection_timeout=1).is_server_ready())
        except Exception:
            return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL, as a crash would; used by fault tests."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def restart(self, timeout: float = 60.0) -> TritonServerProcess:
        """Start again on the same ports (clients keep their URLs); models must be loaded again."""
        self.stop()
        ports = (self.http_port, self.grpc_port, self.metrics_port)
        return self._launch(timeout, f" on restart (ports {ports})")
