"""Import MLflow once per process, under a lock.

The daemon evaluates sensors on several threads of one code server; two threads importing ``mlflow`` for
the first time at once leave it half-initialized ("cannot import name ... from partially initialized
module 'mlflow.tracking'") and every later tick fails. The resources that use MLflow import it here first.
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()


def import_mlflow() -> None:
    """Make sure ``mlflow.tracking`` (and the whole package) is fully imported in this process."""
    with _LOCK:
        import mlflow.tracking  # noqa: F401
