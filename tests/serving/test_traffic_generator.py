"""The demo's traffic generator says why requests failed, not only how many."""

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from mlops_assets.serving.traffic_generator import TrafficGenerator
from resources.polling import wait_until


class _Gateway(BaseHTTPRequestHandler):
    """Answers every third request 503 (degraded), the others with one prediction per entity."""

    calls = 0

    def do_POST(self):
        ids = json.loads(self.rfile.read(int(self.headers["content-length"])))["entity_ids"]
        type(self).calls += 1
        if type(self).calls % 3 == 0:
            self.send_response(503)
            self.end_headers()
            return
        body = json.dumps({"predictions": [{"entity_id": i, "fallback": False} for i in ids]}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_failed_requests_are_counted_by_status_and_unreachable_gateways_by_error():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    traffic = TrafficGenerator(f"http://127.0.0.1:{server.server_port}", [1, 2, 3], batch=2, pause_s=0.01).start()
    with contextlib.suppress(TimeoutError):  # the assertions below say what was missing
        wait_until(lambda: traffic.stats.requests + traffic.stats.failures >= 12, 20, 0.05, "12 requests")
    server.shutdown()
    server.server_close()
    time.sleep(0.2)  # a few requests against the closed port
    stats = traffic.stop()
    assert stats.predictions == 2 * stats.requests > 0
    assert stats.failure_kinds["503"] >= 3
    assert stats.failures == sum(stats.failure_kinds.values())
    assert set(stats.failure_kinds) - {"503"} <= {"ConnectError", "ReadError", "RemoteProtocolError"}
