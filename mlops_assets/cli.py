"""The ``mlops`` console script: what people run from a shell or CI."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

from mlops_assets.cli_errors import EXIT_USAGE, UserError


def _demo(args: argparse.Namespace) -> int:
    from mlops_assets.demo import run_demo

    summary = run_demo(days=args.days, rows_per_day=args.rows_per_day, fresh=args.fresh)
    print(summary.render())
    return 0 if summary.champion_version != "none" else 1


def _status(_: argparse.Namespace) -> int:
    from mlops_assets.status import render_status

    print(render_status())
    return 0


def _resources() -> dict:
    from resources.profiles import build_resources, resolved

    return resolved(build_resources())


def _reproduce(args: argparse.Namespace) -> int:
    import json

    from mlops_assets.reproduce import reproduce

    result = reproduce(args.version, _resources())
    print(json.dumps(result.to_dict(), indent=2) if args.format == "json" else result.render())
    return 0 if result.model_matches else 1


def _features(args: argparse.Namespace) -> int:
    import json

    from mlops_assets.feature_catalog import feature_catalog, render

    resources = _resources()
    catalog = feature_catalog(resources)
    if not catalog:
        raise UserError(
            f"no feature view is registered in the Feast registry {resources['feast'].registry} yet; "
            "run `mlops demo` first"
        )
    print(json.dumps(catalog, indent=2) if args.format == "json" else render(catalog))
    return 0


def _refresh(_: argparse.Namespace) -> int:
    import dagster as dg

    from mlops_assets.dagster_home import ensure_dagster_home
    from mlops_assets.definitions import build_definitions
    from mlops_assets.staleness import REFRESHABLE, refresh
    from resources.profiles import data_dir

    ensure_dagster_home(data_dir())
    defs, instance = build_definitions(), dg.DagsterInstance.get()
    graph = defs.resolve_asset_graph()
    selected = REFRESHABLE.resolve(graph)
    inputs = {parent for key in selected for parent in graph.get(key).parent_keys} - selected
    never = sorted(key.to_user_string() for key in inputs if instance.get_latest_materialization_event(key) is None)
    if never:
        raise UserError(f"nothing to refresh from: {', '.join(never)} never materialized; run `mlops demo` first")
    try:
        report = refresh(defs, instance, REFRESHABLE)
    except dg.Failure as exc:  # an asset refused its inputs and said why
        raise UserError(f"{exc.description}; the run is in the Dagster UI (`mlops dev`)") from exc
    for number, keys in enumerate(report.rounds, 1):
        print(f"round {number}: materialized {', '.join(keys)}")
    print(f"up to date, not recomputed: {', '.join(report.fresh) or 'nothing'}")
    return 0


def _dev(args: argparse.Namespace) -> int:
    from mlops_assets.dagster_home import ensure_dagster_home
    from resources.profiles import data_dir, project_root

    ensure_dagster_home(data_dir())
    workspace = str(project_root() / "workspace.yaml")
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    os.execv(dagster, [dagster, "dev", "-w", workspace, "-h", "127.0.0.1", "-p", str(args.port)])
    return 0  # pragma: no cover - execv does not return


def _serve(args: argparse.Namespace) -> int:
    from mlops_assets.serving.stack import serve_forever, serve_gateway

    if args.triton_grpc:
        serve_gateway(args.triton_grpc, host=args.host, port=args.port)
    else:
        serve_forever(port=args.port)
    return 0


def _drift(argv: list[str]) -> int:
    from mlops_assets.drift_cli import main as drift_main

    return drift_main(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlops", description="Self-healing ML lifecycle on Dagster.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole lifecycle once on embedded defaults and summarise it")
    demo.add_argument("--days", type=int, default=21, help="days of history to ingest (default 21)")
    demo.add_argument("--rows-per-day", type=int, default=1_500)
    demo.add_argument("--fresh", action="store_true", help="delete the data folder first")
    demo.set_defaults(func=_demo)
    status = sub.add_parser("status", help="latest materializations, champion and alias history")
    status.set_defaults(func=_status)
    dev = sub.add_parser("dev", help="open the Dagster UI on the local instance (dagster dev -w workspace.yaml)")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=_dev)
    serve = sub.add_parser("serve", help="run Triton and the prediction gateway on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--triton-grpc",
        default="",
        help="use this external Triton (host:8001) instead of starting one; gateway only (Kubernetes)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="gateway bind address with --triton-grpc (pods: 0.0.0.0)")
    serve.set_defaults(func=_serve)
    again = sub.add_parser("reproduce", help="rebuild a registered model version from its record; compare hashes")
    again.add_argument("version", help="registry version number, e.g. 3")
    again.add_argument("--format", choices=("text", "json"), default="text")
    again.set_defaults(func=_reproduce)
    sub.add_parser(
        "refresh", help="materialize only the stale assets (changed code or inputs), as the UI's 'unsynced'"
    ).set_defaults(func=_refresh)
    features = sub.add_parser("features", help="feature views, features, owners and the model versions using them")
    features.add_argument("--format", choices=("text", "json"), default="text")
    features.set_defaults(func=_features)
    sub.add_parser("drift", help="compare two parquet/CSV files for drift (see `mlops drift --help`)", add_help=False)
    return parser


_LIBRARY_LOGS_KEPT = frozenset({"demo", "dev"})
"""Commands whose library logging stays as it was (the demo narrates a run; ``dev`` execs Dagster)."""


def _quiet_libraries() -> None:
    """Keep MLflow's INFO lines and library deprecation warnings off a command's stderr.

    They are for this project's developers (pytest shows them), not for someone reading a one-line error.
    Feast turns deprecation warnings back on globally when imported, so they are dropped where they are
    shown rather than by a filter Feast would override.
    """
    import warnings

    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    show = warnings.showwarning

    def show_all_but_deprecations(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if not issubclass(category, DeprecationWarning):
            show(message, category, *args, **kwargs)

    warnings.showwarning = show_all_but_deprecations


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; what the user must fix ends it with one line on stderr, not a traceback.

    A ``UserError`` (or a file that is not there) prints ``mlops <command>: <message>`` and exits 2; any
    other exception is a bug and keeps its traceback. A reader that stops early (``| head -1``) ends the
    command quietly, as it ends ``cat``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else ""
    try:
        if command == "drift":
            code = _drift(argv[1:])
        else:
            args = build_parser().parse_args(argv)
            if command not in _LIBRARY_LOGS_KEPT:
                _quiet_libraries()
            code = args.func(args)
        sys.stdout.flush()
    except UserError as exc:
        print(f"mlops {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FileNotFoundError as exc:
        print(f"mlops {command}: {exc.filename or exc}: no such file or directory", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to fail at exit's flush
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    return code


if __name__ == "__main__":
    raise SystemExit(main())
