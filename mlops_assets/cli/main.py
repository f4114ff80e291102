"""The ``mlops`` console script: what people run from a shell or CI."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

from mlops_assets.cli.errors import EXIT_USAGE, UserError
from mlops_assets.ingestion.scenarios import Scenario


def _demo(args: argparse.Namespace) -> int:
    from mlops_assets.cli.demo import run_demo

    _check_size(args)
    summary = run_demo(
        days=args.days,
        rows_per_day=args.rows_per_day,
        population=args.population,
        fresh=args.fresh,
        interval_s=args.interval,
        tuning_trials=args.tuning_trials,
        live_every_s=args.live,
    )
    print(summary.render())
    return 0 if summary.champion_version != "none" else 1


def _land(args: argparse.Namespace) -> int:
    import datetime as dt

    from mlops_assets.ingestion.producer import land_days

    try:
        start = dt.date.fromisoformat(args.start)
    except ValueError:
        raise UserError(f"--start must be a date such as 2026-01-22, got {args.start!r}") from None
    if args.scenario not in {s.value for s in Scenario}:
        raise UserError(f"--scenario must be one of {', '.join(s.value for s in Scenario)}, got {args.scenario!r}")
    if args.days < 1:
        raise UserError(f"--days must be at least 1, got {args.days}")
    _check_size(args)
    landing = _resources()["landing"]
    days = land_days(
        landing, start, args.days, scenario=args.scenario, rows_per_day=args.rows_per_day, population=args.population
    )
    print(f"landed {len(days)} day(s) {days[0]}..{days[-1]} in {landing.root}; the landing sensor ingests them")
    return 0


def _check_size(args: argparse.Namespace) -> None:
    """A day samples distinct customers, so it cannot hold more rows than the population has customers."""
    if args.rows_per_day < 0:
        raise UserError(f"--rows-per-day must be at least 0, got {args.rows_per_day}")
    if args.population < args.rows_per_day:
        raise UserError(
            f"--population ({args.population}) must be at least --rows-per-day ({args.rows_per_day}): "
            "each day samples distinct customers"
        )


def _approve(args: argparse.Namespace) -> int:
    from mlops_assets.cli.approval import approve

    print(approve(_resources()["registry"], args.version, args.by))
    return 0


def _status(_: argparse.Namespace) -> int:
    from mlops_assets.cli.status import render_status

    print(render_status())
    return 0


def _resources() -> dict:
    from resources.profiles import build_resources, resolved

    return resolved(build_resources())


def _reproduce(args: argparse.Namespace) -> int:
    import json

    from mlops_assets.cli.reproduce import reproduce

    result = reproduce(args.version, _resources())
    print(json.dumps(result.to_dict(), indent=2) if args.format == "json" else result.render())
    return 0 if result.model_matches else 1


def _features(args: argparse.Namespace) -> int:
    import json

    from mlops_assets.cli.feature_catalog import feature_catalog, render

    resources = _resources()
    catalog = feature_catalog(resources)
    if not catalog:
        raise UserError(
            f"no feature view is registered in the Feast registry {resources['feast'].registry} yet; "
            "run `mlops demo` first"
        )
    print(json.dumps(catalog, indent=2) if args.format == "json" else render(catalog))
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
    from mlops_assets.cli.drift import main as drift_main

    return drift_main(argv)


POPULATION_HELP = "customers each day's rows are sampled from, at least --rows-per-day (default 20000)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlops", description="Self-healing ML lifecycle on Dagster.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole lifecycle once on embedded defaults and summarise it")
    demo.add_argument("--days", type=int, default=21, help="days of history to ingest (default 21)")
    demo.add_argument("--rows-per-day", type=int, default=1_500)
    demo.add_argument("--population", type=int, default=20_000, help=POPULATION_HELP)
    demo.add_argument("--fresh", action="store_true", help="delete the data folder first")
    demo.add_argument("--interval", type=int, default=2, help="sensor and automation tick interval, seconds")
    demo.add_argument("--tuning-trials", type=int, default=2, help="Optuna trials per retrain (default 2)")
    demo.add_argument("--live", type=float, default=0.0, metavar="SECONDS", help="then land a day every SECONDS")
    demo.set_defaults(func=_demo)
    land = sub.add_parser("land", help="land generated days in the landing folder (the landing sensor ingests them)")
    land.add_argument("--start", required=True, help="first day, e.g. 2026-01-22")
    land.add_argument("--days", type=int, default=1)
    land.add_argument("--scenario", default=Scenario.NONE.value, help=", ".join(s.value for s in Scenario))
    land.add_argument("--rows-per-day", type=int, default=1_500)
    land.add_argument("--population", type=int, default=20_000, help=POPULATION_HELP)
    land.set_defaults(func=_land)
    approve = sub.add_parser("approve", help="approve the promotion of a challenger awaiting approval")
    approve.add_argument("version", help="registry version number, e.g. 3")
    approve.add_argument("--by", required=True, help="who approves (recorded in the registry)")
    approve.set_defaults(func=_approve)
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
