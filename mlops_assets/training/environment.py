"""What a training run ran on: interpreter, framework and package versions, and hardware.

Recorded with every model so ``mlops reproduce`` can tell whether a hash mismatch comes from different data,
different parameters or a different library.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata

PACKAGES = (
    "scikit-learn",
    "skl2onnx",
    "onnx",
    "onnxruntime",
    "numpy",
    "pandas",
    "pyarrow",
    "feast",
    "dagster",
    "mlflow",
)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def hardware() -> dict[str, str]:
    memory = ""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages * size / 2**30:.1f} GiB"
    except (ValueError, OSError):
        pass
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": str(os.cpu_count()),
        "memory": memory,
        "system": f"{platform.system()} {platform.release()}",
        "accelerator": "none (CPU)",
    }
