"""The Triton server's own virtual environment, created by the project (``python -m mlops_assets.serving.triton_env``).

The server is the ``tritonserver`` binary that ``nvidia-pytriton==0.7.0`` ships (Triton 2.51, Python
backend, CPU). It needs numpy<2 while the project needs numpy>=2, so it lives in ``.venv-triton`` with the
same onnxruntime as the project. Facts measured on these machines (see DESIGN.md): the backend stub finds
packages through ``python3`` on PATH (not PYTHONPATH), needs LD_LIBRARY_PATH set to that interpreter's
LIBDIR, and the backend directory must hold ``libtriton_python.so``, ``triton_python_backend_utils.py`` and
the stub for the running Python. Unpinned nvidia-pytriton resolves to 0.5.7 in a numpy-2 world and then
fails at inference, hence the pins.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REQUIREMENTS = ("nvidia-pytriton==0.7.0", "numpy==1.26.4", "onnxruntime==1.32.0")
PYTHON_VERSION = "3.11"


@dataclass(frozen=True)
class TritonInstall:
    """Paths the server process needs."""

    venv: Path
    python: Path
    server: Path
    backend_dir: Path
    ld_library_path: str

    def environment(self) -> dict[str, str]:
        """Process environment for ``tritonserver``: the venv's python first on PATH, its LIBDIR loadable."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["PATH"] = f"{self.python.parent}{os.pathsep}{env.get('PATH', '')}"
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (self.ld_library_path, env.get("LD_LIBRARY_PATH")) if p)
        return env


def default_venv() -> Path:
    return Path(os.environ.get("MLOPS_TRITON_VENV") or Path(__file__).resolve().parents[2] / ".venv-triton")


def _marker(venv: Path) -> Path:
    return venv / ".mlops-requirements"


def _requirements_hash() -> str:
    return hashlib.sha256("\n".join(REQUIREMENTS).encode()).hexdigest()


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr[-2000:]}")


def ensure_triton_env(venv: Path | None = None) -> TritonInstall:
    """Create (or reuse) the server's venv with the pinned requirements; idempotent via a marker file.

    Installed with compiled bytecode: with PYTHONDONTWRITEBYTECODE=1 nothing is cached on import, so each
    backend stub the server starts would otherwise recompile numpy and onnxruntime before serving a request.
    """
    venv = (venv or default_venv()).resolve()
    python = venv / "bin" / "python"
    if not (_marker(venv).exists() and _marker(venv).read_text() == _requirements_hash() and python.exists()):
        uv = shutil.which("uv")
        if uv:
            _run([uv, "venv", str(venv), "-p", sys.executable, "-q", "--allow-existing"])
            _run([uv, "pip", "install", "-q", "--compile-bytecode", "-p", str(python), *REQUIREMENTS])
        else:
            _run([sys.executable, "-m", "venv", str(venv)])
            _run([str(python), "-m", "pip", "install", "-q", "--compile", *REQUIREMENTS])
        _marker(venv).write_text(_requirements_hash())
    return _locate(venv, python)


def _locate(venv: Path, python: Path) -> TritonInstall:
    site = subprocess.run(
        [
            str(python),
            "-c",
            "import pytriton, sysconfig, os; print(os.path.dirname(pytriton.__file__)); "
            "print(sysconfig.get_config_var('LIBDIR'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    package, libdir = Path(site[0]), site[1]
    server_root = package / "tritonserver"
    backend = venv / "triton_backends"
    python_backend = backend / "python"
    python_backend.mkdir(parents=True, exist_ok=True)
    for name in ("libtriton_python.so", "triton_python_backend_utils.py"):
        target = python_backend / name
        if not target.exists():
            target.symlink_to(server_root / "backends" / "python" / name)
    stub = python_backend / "triton_python_backend_stub"
    if not stub.exists():
        stub.symlink_to(server_root / "python_backend_stubs" / PYTHON_VERSION / "triton_python_backend_stub")
    return TritonInstall(venv, python, server_root / "bin" / "tritonserver", backend, libdir)


if __name__ == "__main__":
    install = ensure_triton_env()
    print(f"triton server: {install.server}\nbackends: {install.backend_dir}")
