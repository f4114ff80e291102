"""``mlops serve``: a supervised local Triton server plus the gateway, as one process tree.

The stack writes ``serving/endpoint.json`` so the deployment assets can load models into the server it
runs, restarts Triton if it dies (the gateway serves the fallback meanwhile), flushes the prediction log
every second, and binds everything to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
import time
from pathlib import Path

from mlops_assets.cli.errors import UserError
from mlops_assets.core.artifacts import BASELINE_MODEL, CHURN_MODEL
from mlops_assets.deployment.triton_repository import write_baseline_model
from mlops_assets.serving.app import create_app
from mlops_assets.serving.backends import FeastFeatures, TritonScorer
from mlops_assets.serving.coalescing import CoalescingScorer
from mlops_assets.serving.gateway import Gateway
from mlops_assets.serving.metrics import GatewayMetrics
from mlops_assets.serving.routing import Routing, RoutingWatcher
from mlops_assets.serving.triton_process import TritonServerProcess, TritonStartError, free_port
from resources.feast_store import FeastResource
from resources.polling import wait_until
from resources.serving import ServingResource
from resources.triton_server import TritonResource


def feature_reader(feast: FeastResource) -> FeastFeatures:
    """The gateway's feature reader; a ``UserError`` when Feast has no feature service to serve yet.

    On a data folder where the lifecycle never ran, the registry is empty: that is "run the demo first",
    not a Feast traceback.
    """
    from feast.errors import FeatureServiceNotFoundException

    from mlops_assets.features.feature_definitions import FEATURE_SERVICE

    try:
        return FeastFeatures(feast.store())
    except FeatureServiceNotFoundException as exc:
        raise UserError(
            f"nothing to serve yet: no feature service {FEATURE_SERVICE!r} in the Feast registry {feast.registry} "
            "and no champion model; run `mlops demo` first"
        ) from exc


class ServingStack:
    """Triton + gateway; ``start()`` returns once both answer, ``stop()`` tears both down."""

    def __init__(self, serving: ServingResource, feast: FeastResource, port: int = 0, timeout_s: float = 0.5) -> None:
        self.serving = serving
        self.feast = feast
        self.port = port or free_port()
        self.timeout_s = timeout_s
        self.triton = TritonServerProcess(serving.repository, log_path=Path(serving.state_dir) / "tritonserver.log")
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.gateway: Gateway | None = None
        self._server = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _load_models(self) -> None:
        client = TritonResource(url=self.triton.http_url, model_repository=str(self.serving.repository))
        client.load(BASELINE_MODEL)
        routing = Routing.load(self.serving.routing_path) if self.serving.routing_path.exists() else Routing()
        versions = [int(v) for v in (routing.champion_version, routing.challenger_version) if v]
        missing = [v for v in versions if not (self.serving.repository / CHURN_MODEL / str(v)).is_dir()]
        if missing:
            raise UserError(
                f"{self.serving.routing_path} routes to {CHURN_MODEL} version {missing} that the model repository "
                f"{self.serving.repository} lacks; materialize triton_model_repository again or delete the routing file"
            )
        if versions:
            client.load(CHURN_MODEL, versions)

    def start(self) -> ServingStack:
        """Start Triton, load the routed models, then the gateway; return once the gateway listens.

        What would make the stack useless (no feature service to serve, the gateway's port taken) is
        checked before anything starts. Once Triton runs, any failure stops it again before re-raising: a
        failed start must not leave a ``tritonserver`` orphaned, holding its ports and shared memory.
        """
        features = feature_reader(self.feast)
        self._check_port()
        write_baseline_model(self.serving.repository)
        try:
            self._start_triton()
            self._start_gateway(features)
        except BaseException:
            self.stop()
            raise
        return self

    def _check_port(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError as exc:
                raise UserError(
                    f"cannot listen on 127.0.0.1:{self.port} ({exc.strerror}); stop what uses it or pick another "
                    "port (`mlops serve --port`)"
                ) from exc

    def _start_triton(self) -> None:
        try:
            self.triton.start()
            self._load_models()
        except TritonStartError as exc:
            first_line = str(exc).splitlines()[0]
            raise UserError(f"Triton did not start ({first_line}); its log is {self.triton.log_path}") from exc

    def _start_gateway(self, features: FeastFeatures) -> None:
        import uvicorn

        self.gateway = Gateway(
            features=features,
            scorer=CoalescingScorer(TritonScorer(self.triton.grpc_url, timeout_s=self.timeout_s)),
            routing=RoutingWatcher(self.serving.routing_path),
            log=self.serving.prediction_log(),
            metrics=GatewayMetrics(),
            monitoring_metrics=self.serving.monitoring_metrics_path,
        )
        config = uvicorn.Config(
            create_app(self.gateway), host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        for target in (self._server.run, self._supervise, self._flush):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        server, runner = self._server, self._threads[0]
        with contextlib.suppress(TimeoutError):  # reported below, as a server that never started
            wait_until(lambda: server.started or not runner.is_alive(), 30, 0.05, f"the gateway on {self.url}")
        if not self._server.started:
            raise UserError(f"the gateway did not start listening on {self.url}; see the messages above")
        self.serving.endpoint_path.parent.mkdir(parents=True, exist_ok=True)
        self.serving.endpoint_path.write_text(
            json.dumps(
                {
                    "triton_http": self.triton.http_url,
                    "triton_grpc": self.triton.grpc_url,
                    "gateway": self.url,
                }
            )
        )

    def _supervise(self) -> None:
        """Restart Triton when it dies and load the routed models again."""
        while not self._stop.wait(0.5):
            if not self.triton.alive():
                try:
                    self.triton.restart()
                    self._load_models()
                    self.restarts += 1
                except Exception:  # keep trying; the gateway serves the fallback meanwhile
                    time.sleep(1)

    def _flush(self) -> None:
        while not self._stop.wait(1.0):
            if self.gateway is not None:
                self.gateway.log.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.should_exit = True
        for thread in self._threads:
            thread.join(10)
        if self.gateway is not None:
            self.gateway.log.flush()
        self.triton.stop()
        self.serving.endpoint_path.unlink(missing_ok=True)


def serve_gateway(triton_grpc_url: str, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Only the gateway, in front of a Triton server someone else runs (a Kubernetes Service, say).

    The deployment assets load models into that server through ``ServingResource.triton_url``; the gateway
    follows the routing file and writes the prediction log on the shared serving volume.
    """
    import uvicorn

    from resources.profiles import build_resources, resolved

    resources = resolved(build_resources())
    serving = resources["serving"]
    gateway = Gateway(
        features=feature_reader(resources["feast"]),
        scorer=CoalescingScorer(TritonScorer(triton_grpc_url)),
        routing=RoutingWatcher(serving.routing_path),
        log=serving.prediction_log(),
        metrics=GatewayMetrics(),
        monitoring_metrics=serving.monitoring_metrics_path,
    )
    stop = threading.Event()

    def flush() -> None:
        while not stop.wait(1.0):
            gateway.log.flush()

    threading.Thread(target=flush, daemon=True).start()
    try:
        uvicorn.run(create_app(gateway), host=host, port=port, log_level="warning", access_log=False)
    finally:
        stop.set()
        gateway.log.flush()


def serve_forever(port: int = 8080) -> None:
    """Run the stack (a supervised local Triton and the gateway) on the active profile until stopped.

    SIGTERM (how a container runtime, systemd or a test harness stops a process) stops it like Ctrl-C: the
    prediction log is flushed and the Triton server it started goes with it, instead of being orphaned.
    """
    from resources.profiles import build_resources, resolved

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    resources = resolved(build_resources())
    stack = ServingStack(resources["serving"], resources["feast"], port=port).start()
    print(f"gateway on {stack.url}  (triton http {stack.triton.http_url}, grpc {stack.triton.grpc_url})", flush=True)
    try:
        stop.wait()
    finally:
        stack.stop()
