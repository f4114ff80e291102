"""Refresh the README's pictures: the Dagster UI and the MLflow UI over a demo's instance, in headless Chromium.

Run after `make demo` (it reads `data/`, or `MLOPS_DATA_DIR`): `make screenshots`. It starts
`dagster-webserver` and `mlflow ui` on free loopback ports, drives Debian's Chromium (`apt install
chromium`) through Playwright (the `docs` extra) so it can wait for each page to render and dismiss the UI's
first-visit dialog, writes `docs/img/*.png` and stops both servers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
BIN = Path(sys.executable).parent


def _serve(stack: ExitStack, command: list[str], url: str, log: Path) -> None:
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    stack.callback(process.terminate)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"{command[0]} did not answer at {url} within 120 s; see {log}")


def _dismiss_first_visit_dialog(page: object, ui: str) -> None:
    """The Dagster UI greets a new browser with a community dialog a few seconds in; skip it once."""
    page.goto(ui)  # type: ignore[attr-defined]
    skip = page.get_by_role("button", name="Skip")  # type: ignore[attr-defined]
    try:
        skip.first.wait_for(timeout=20_000)
        skip.first.click()
    except Exception:  # no dialog in this version or profile: nothing to dismiss
        return


def _mlflow_tidy(page: object) -> None:
    """Show the model-training side of the MLflow UI, without its assistant panel."""
    for control in (page.get_by_text("Model training", exact=True), page.get_by_label("Close")):  # type: ignore[attr-defined]
        try:
            control.first.click(timeout=3_000)
        except Exception:  # not in this MLflow version: leave the page as it is
            continue


def _shoot(page: object, url: str, name: str, wait_for: str, settle_ms: int = 2_500, tidy: object = None) -> None:
    """Open ``url``, wait for ``wait_for`` text, tidy the page, then capture the viewport."""
    target = OUT / f"{name}.png"
    page.goto(url)  # type: ignore[attr-defined]
    page.get_by_text(wait_for).first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    if callable(tidy):
        tidy(page)
    page.wait_for_timeout(settle_ms)  # type: ignore[attr-defined]
    page.screenshot(path=str(target))  # type: ignore[attr-defined]
    print(f"wrote {target.relative_to(ROOT)}  <- {url}")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from mlops_assets.serving.triton_process import free_port

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("screenshots need Debian's chromium: sudo apt install chromium", file=sys.stderr)
        return 2
    try:
        import playwright
    except ImportError:
        print("screenshots need Playwright, the docs extra (`make screenshots` installs it)", file=sys.stderr)
        return 2
    data = Path(os.environ.get("MLOPS_DATA_DIR", ROOT / "data")).resolve()
    home = Path(os.environ.get("DAGSTER_HOME", data / "dagster_home"))
    if not (home / "dagster.yaml").exists():
        print(f"no demo instance in {data}: run `make demo` first", file=sys.stderr)
        return 2
    os.environ.update({"MLOPS_DATA_DIR": str(data), "DAGSTER_HOME": str(home)})
    OUT.mkdir(parents=True, exist_ok=True)
    dagster, mlflow = free_port(), free_port()
    with ExitStack() as stack:
        logs = data / "logs"
        logs.mkdir(exist_ok=True)
        workspace = str(ROOT / "workspace.yaml")
        _serve(
            stack,
            [str(BIN / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", str(dagster)],
            f"http://127.0.0.1:{dagster}/server_info",
            logs / "screenshots-webserver.log",
        )
        store = f"sqlite:///{data / 'mlflow' / 'mlflow.db'}"
        _serve(
            stack,
            [str(BIN / "mlflow"), "ui", "--backend-store-uri", store, "--host", "127.0.0.1", "--port", str(mlflow)],
            f"http://127.0.0.1:{mlflow}/health",
            logs / "screenshots-mlflow.log",
        )
        from playwright.sync_api import sync_playwright

        ui, tracking = f"http://127.0.0.1:{dagster}", f"http://127.0.0.1:{mlflow}"
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=browser, args=["--no-sandbox"])
            page = chromium.new_page(viewport={"width": 1600, "height": 1000})
            _dismiss_first_visit_dialog(page, ui)
            lineage = f"{ui}/assets/production_deployment?view=lineage&lineageScope=upstream&lineageDepth=12"
            _shoot(page, lineage, "dagster-lineage", "production_deployment", settle_ms=5_000)
            _shoot(page, f"{ui}/runs", "dagster-runs", "Runs")
            _shoot(page, f"{ui}/assets/data_drift_report", "dagster-drift-report", "Latest materialization")
            _shoot(page, f"{ui}/assets/data_drift_report?view=checks", "dagster-drift-checks", "no_data_drift")
            _shoot(page, f"{tracking}/#/models/churn-classifier", "mlflow-model", "churn-classifier", tidy=_mlflow_tidy)
            chromium.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
