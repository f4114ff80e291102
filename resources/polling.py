"""``wait_until``: poll a condition until it holds or a deadline passes.

Servers, daemons and files written by other processes become ready in their own time: Triton loading a
model, the gateway starting to listen, the Dagster daemon's process group emptying. Each wait is one call
here, so every wait has a deadline and a timeout says what was awaited. It lives under ``resources`` (and
imports no Dagster) because the Triton resource waits too, and a resource may not import from
``mlops_assets``; the CLI, the serving stack, the benches and the tests use the same helper.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, interval: float, what: str) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy, and return that.

    Raises ``TimeoutError`` naming ``what`` once ``timeout`` seconds have passed. To stop early (a process
    that died while it was awaited), ``predicate`` raises; its exception propagates unchanged.
    """
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(min(interval, remaining))
    return value
