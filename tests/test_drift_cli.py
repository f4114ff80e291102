import datetime as dt
import json

import pytest

from mlops_assets.cli import main
from mlops_assets.core.generator import generate_day


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    generate_day(dt.date(2026, 1, 2)).to_parquet(root / "reference.parquet")
    generate_day(dt.date(2026, 1, 3)).to_csv(root / "normal.csv", index=False)
    generate_day(dt.date(2026, 1, 3), scenario="covariate_shift").to_parquet(root / "shifted.parquet")
    return root


def _run(capsys, *args):
    code = main(["drift", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_output_has_a_verdict_and_every_column_field(files, capsys):
    code, out, _ = _run(
        capsys,
        "--reference",
        files / "reference.parquet",
        "--current",
        files / "shifted.parquet",
        "--columns",
        "monthly_charges,plan",
    )
    report = json.loads(out)
    assert code == 0 and report["dataset"]["drifted"] is True
    assert [c["column"] for c in report["columns"]] == ["monthly_charges", "plan"]
    assert {"kind", "test", "statistic", "p_value", "p_value_adjusted", "effect_size", "threshold", "drifted"} <= set(
        report["columns"][0]
    )


def test_fail_on_drift_exits_one_only_when_drift_is_found(files, capsys):
    shifted = _run(
        capsys,
        "--reference",
        files / "reference.parquet",
        "--current",
        files / "shifted.parquet",
        "--fail-on-drift",
        "--columns",
        "monthly_charges,sessions_30d",
    )
    normal = _run(
        capsys,
        "--reference",
        files / "reference.parquet",
        "--current",
        files / "normal.csv",
        "--fail-on-drift",
        "--columns",
        "monthly_charges,sessions_30d",
    )
    assert shifted[0] == 1 and normal[0] == 0


def test_markdown_output_is_a_table_for_people(files, capsys):
    code, out, _ = _run(
        capsys,
        "--reference",
        files / "reference.parquet",
        "--current",
        files / "normal.csv",
        "--format",
        "markdown",
        "--columns",
        "region",
    )
    assert code == 0 and "| column |" in out and "region" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--current", "{root}/normal.csv", "--reference", "{root}/nope.parquet"], "no such file"),
        (["--current", "{root}/normal.csv", "--reference", "{root}/normal.csv", "--columns", "ghost"], "ghost"),
        (["--current", "{root}/garbage.parquet", "--reference", "{root}/normal.csv"], "cannot read"),
    ],
    ids=["missing-file", "unknown-column", "unreadable-file"],
)
def test_bad_input_exits_two_and_names_the_problem(files, capsys, args, message):
    (files / "garbage.parquet").write_bytes(b"not parquet")
    code, _, err = _run(capsys, *[a.format(root=files) for a in args])
    assert code == 2 and message in err
