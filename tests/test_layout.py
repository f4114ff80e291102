"""The README's Layout section is true: every stage's assets live in that stage's package."""

import re
from pathlib import Path

import dagster as dg

from mlops_assets.definitions import build_definitions

ROOT = Path(__file__).resolve().parents[1]
STAGES = (
    "ingestion",
    "validation",
    "features",
    "datasets",
    "training",
    "evaluation",
    "registry",
    "deployment",
    "monitoring",
)


def _module(definition: dg.AssetsDefinition | dg.AssetChecksDefinition) -> str:
    compute = definition.op.compute_fn
    return getattr(compute, "decorated_fn", compute).__module__


def test_each_assets_group_is_defined_in_the_stage_package_of_that_name():
    defs = build_definitions("embedded")
    for asset in defs.assets:
        for group in set(asset.group_names_by_key.values()):
            assert group in STAGES, group
            assert _module(asset) == f"mlops_assets.{group}.assets", (asset.keys, group)
    assert {g for a in defs.assets for g in a.group_names_by_key.values()} == set(STAGES)


def test_every_path_in_the_readme_layout_exists():
    readme = (ROOT / "README.md").read_text()
    tree = readme.split("## Layout", 1)[1].split("```")[1]
    folders = re.findall(r"^\s*([\w]+)/", tree, flags=re.MULTILINE)
    assert set(STAGES) <= set(folders)
    for line in tree.splitlines():
        match = re.match(r"^(\s*)(\w+)/", line)
        if not match:
            continue
        base = ROOT if not match.group(1) else ROOT / "mlops_assets"
        assert (base / match.group(2)).is_dir(), line
    for stage in STAGES:
        assert (ROOT / "mlops_assets" / stage / "assets.py").is_file(), stage


def test_resources_are_dagster_resources():
    import importlib
    import inspect

    helpers = {"__init__", "profiles", "atomic", "mlflow_import", "k8s", "polling"}
    for path in sorted((ROOT / "resources").glob("*.py")):
        if path.stem in helpers:
            continue
        module = importlib.import_module(f"resources.{path.stem}")
        own = [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__]
        assert any(issubclass(c, (dg.ConfigurableResource, dg.ConfigurableIOManager)) for c in own), path.name


def test_product_code_imports_no_private_dagster_module():
    for package in ("mlops_assets", "resources", "sensors"):
        for path in (ROOT / package).rglob("*.py"):
            assert not re.search(r"^\s*(from|import) dagster\._", path.read_text(), flags=re.MULTILINE), path
