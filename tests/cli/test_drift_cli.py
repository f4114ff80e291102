import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from mlops_assets.cli.main import main
from mlops_assets.ingestion.generator import generate_day
from mlops_assets.monitoring.drift_profile import ReferenceProfile


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


def _compare(capsys, reference, current, *args):
    """``mlops drift --reference REFERENCE --current CURRENT *args``: (exit code, stdout, stderr)."""
    return _run(capsys, "--reference", reference, "--current", current, *args)


def test_json_output_has_a_verdict_and_every_column_field(files, capsys):
    code, out, _ = _compare(
        capsys, files / "reference.parquet", files / "shifted.parquet", "--columns", "monthly_charges,plan"
    )
    report = json.loads(out)
    assert code == 0 and report["dataset"]["drifted"] is True
    assert [c["column"] for c in report["columns"]] == ["monthly_charges", "plan"]
    assert {"kind", "test", "statistic", "p_value", "p_value_adjusted", "effect_size", "threshold", "drifted"} <= set(
        report["columns"][0]
    )


def test_fail_on_drift_exits_one_only_when_drift_is_found(files, capsys):
    reference, compared = files / "reference.parquet", ("--fail-on-drift", "--columns", "monthly_charges,sessions_30d")
    shifted = _compare(capsys, reference, files / "shifted.parquet", *compared)
    normal = _compare(capsys, reference, files / "normal.csv", *compared)
    assert shifted[0] == 1 and normal[0] == 0


def test_markdown_output_is_a_table_for_people(files, capsys):
    code, out, _ = _compare(
        capsys, files / "reference.parquet", files / "normal.csv", "--format", "markdown", "--columns", "region"
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


def _strict_json(text: str) -> dict:
    """Parse as any JSON reader would: NaN and Infinity are not JSON."""
    return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    """A reference whose ``x`` holds +-inf, a column of identifiers, and a window that moved or lost every number."""
    root = tmp_path_factory.mktemp("cli-bad")
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 5_000)
    x[:10] = [np.inf, -np.inf] * 5
    ids = np.arange(5_000).astype(str)
    pd.DataFrame({"x": x, "id": np.char.add("a", ids), "y": rng.normal(0, 1, 5_000)}).to_parquet(root / "ref.parquet")
    current = {"x": rng.normal(2, 1, 2_000), "id": np.char.add("b", ids[:2_000]), "y": [np.inf] * 2_000}
    pd.DataFrame(current).to_parquet(root / "current.parquet")
    return root


def test_infinities_in_the_reference_still_flag_a_shifted_column_and_are_counted(bad_files, capsys):
    code, out, _ = _compare(capsys, bad_files / "ref.parquet", bad_files / "current.parquet", "--columns", "x")
    column = _strict_json(out)["columns"][0]
    assert code == 0 and column["drifted"] is True
    assert (column["nonfinite_reference"], column["nonfinite_current"], column["rows_reference"]) == (10, 0, 4_990)


@pytest.mark.parametrize("column", ["y", "id"], ids=["no-finite-value", "identifiers"])
def test_an_untestable_column_is_named_and_fails_the_gate_rather_than_passing_as_no_drift(bad_files, capsys, column):
    code, out, err = _compare(
        capsys, bad_files / "ref.parquet", bad_files / "current.parquet", "--columns", column, "--fail-on-drift"
    )
    report = _strict_json(out)
    assert code == 1 and report["dataset"]["untestable_columns"] == [column] and report["columns"] == []
    assert report["untestable"][0]["reason"] and f"{column!r} not tested" in err


@pytest.mark.parametrize("output", ["json", "markdown"])
def test_every_output_of_a_bad_input_is_well_formed(bad_files, capsys, output):
    code, out, _ = _compare(capsys, bad_files / "ref.parquet", bad_files / "current.parquet", "--format", output)
    assert code == 0
    if output == "json":
        assert _strict_json(out)["dataset"] == {
            "drifted": True,
            "share_drifted": 1.0,
            "drifted_columns": ["x"],
            "untestable_columns": ["id", "y"],
            "alpha": 0.01,
            "correction": "benjamini-hochberg",
            "columns_tested": 1,
        }
    else:
        assert "nan" not in out.lower() and "| id | categorical |" in out and "| y | numeric |" in out


COMPARED = ("--columns", "monthly_charges,sessions_30d,plan,region")


def test_a_saved_profile_gives_the_same_report_as_a_fresh_one(files, tmp_path, capsys):
    # Given: a profile saved while comparing a window against the reference
    profile = tmp_path / "reference.profile"
    reference, shifted = files / "reference.parquet", files / "shifted.parquet"
    code, saved_run, err = _compare(capsys, reference, shifted, "--save-profile", profile, *COMPARED)
    # When: the window is compared against the saved profile, and against a fresh profile of the same rows
    reused = _run(capsys, "--profile", profile, "--current", shifted, *COMPARED)
    fresh = _compare(capsys, reference, shifted, *COMPARED)
    # Then: the three reports are the same, and the file is the one the reference_profile asset writes
    assert code == 0 and f"saved to {profile}" in err
    assert json.loads(saved_run) == json.loads(reused[1]) == json.loads(fresh[1])
    assert sorted(ReferenceProfile.load(profile).columns) == sorted(COMPARED[1].split(","))


@pytest.fixture(scope="module")
def saved_profile(files, tmp_path_factory):
    path = tmp_path_factory.mktemp("profile") / "reference.profile"
    assert main(["drift", "--reference", str(files / "reference.parquet"), "--save-profile", str(path), *COMPARED]) == 0
    return path


def test_several_windows_get_one_report_each_in_the_order_given(files, saved_profile, capsys):
    windows = [files / "normal.csv", files / "shifted.parquet"]
    code, out, _ = _run(capsys, "--profile", saved_profile, *[a for w in windows for a in ("--current", w)], *COMPARED)
    reports = json.loads(out)
    assert code == 0 and [r["current"] for r in reports] == [str(w) for w in windows]
    assert [r["dataset"]["drifted"] for r in reports] == [False, True]
    for window, report in zip(windows, reports, strict=True):
        alone = json.loads(_run(capsys, "--profile", saved_profile, "--current", window, *COMPARED)[1])
        assert {k: v for k, v in report.items() if k != "current"} == alone


def test_several_windows_fail_the_gate_when_any_drifted_and_print_a_section_each(files, saved_profile, capsys):
    windows = ("--current", files / "normal.csv", "--current", files / "shifted.parquet")
    code, out, _ = _run(
        capsys, "--profile", saved_profile, *windows, *COMPARED, "--format", "markdown", "--fail-on-drift"
    )
    assert code == 1 and out.count("## ") == 2 and "**DRIFT**" in out and "**no drift**" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "{root}/nope.profile", "--current", "{root}/normal.csv"], "nope.profile: no such file"),
        (["--profile", "{root}/garbage.parquet", "--current", "{root}/normal.csv"], "cannot read as a drift profile"),
        (
            ["--profile", "{root}/saved.profile", "--current", "{root}/normal.csv", "--save-profile", "x"],
            "needs --reference",
        ),
        (["--reference", "{root}/reference.parquet"], "nothing to do"),
        (["--profile", "{root}/saved.profile", "--current", "{root}/normal.csv", "--columns", "ghost"], "ghost"),
    ],
    ids=["missing-profile", "unreadable-profile", "save-without-reference", "no-window", "unknown-column"],
)
def test_bad_profile_usage_exits_two_and_names_the_problem(files, saved_profile, capsys, args, message):
    (files / "garbage.parquet").write_bytes(b"not parquet")
    (files / "saved.profile").write_bytes(saved_profile.read_bytes())
    code, out, err = _run(capsys, *[a.format(root=files) for a in args])
    assert code == 2 and message in err and out == ""
