"""The routing table the deployment assets write and the gateway follows.

One small JSON file: which registry versions are champion and challenger, the challenger's traffic share
and the split's salt. It is written atomically; the gateway re-reads it when its mtime changes, so a
canary starts, is promoted or rolled back without restarting the gateway.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from resources import atomic


@dataclass(frozen=True)
class Routing:
    """Champion and challenger versions, the challenger's share, and the split's salt."""

    champion_version: str | None = None
    challenger_version: str | None = None
    challenger_share: float = 0.0
    salt: str = "initial"
    started_at: str | None = None
    """When the challenger went on canary (ISO, UTC): the canary sensor's time limit counts from it."""

    def save(self, path: str | Path) -> None:
        atomic.write_json(path, asdict(self))

    @classmethod
    def load(cls, path: str | Path) -> Routing:
        data = json.loads(Path(path).read_text())
        return cls(
            **{k: data.get(k) for k in ("champion_version", "challenger_version")},
            challenger_share=float(data.get("challenger_share", 0.0)),
            salt=str(data.get("salt", "initial")),
            started_at=data.get("started_at"),
        )


class RoutingWatcher:
    """The current routing, re-read at most every ``interval`` seconds when the file changed."""

    def __init__(self, path: str | Path, interval: float = 0.5) -> None:
        self.path = Path(path)
        self.interval = interval
        self._routing = Routing()
        self._mtime = 0.0
        self._checked = 0.0
        self._lock = threading.Lock()

    def current(self, refresh: bool = False) -> Routing:
        """The cached routing; ``refresh`` re-reads the file now (after a model error, say)."""
        now = time.monotonic()
        if refresh or now - self._checked >= self.interval:
            with self._lock:
                self._checked = now
                try:
                    mtime = os.stat(self.path).st_mtime
                except FileNotFoundError:
                    return self._routing
                if mtime != self._mtime:
                    self._routing, self._mtime = Routing.load(self.path), mtime
        return self._routing
