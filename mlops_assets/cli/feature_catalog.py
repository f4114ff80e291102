"""``mlops features``: what features exist, who owns them, and which model versions use them.

Read from the two registries that already know: Feast's (views, features, owners, descriptions, tags) and
MLflow's (each registered version's training run records the feature list it was trained on). A team
looking for "monthly charges" finds the view that serves it and the models that depend on it, instead of
defining it a second time.
"""

from __future__ import annotations

from typing import Any


def feature_catalog(resources: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per feature view (batch and on-demand), with its features and the versions using them."""
    from mlops_assets.core.domain import DERIVED_DESCRIPTIONS

    store = resources["feast"].store()
    usage = _model_usage(resources["registry"])
    catalog = []
    views = [(v, "batch") for v in store.list_feature_views()]
    views += [(v, "on-demand") for v in store.list_on_demand_feature_views()]
    for view, kind in sorted(views, key=lambda item: item[0].name):
        features = [
            {
                "name": f.name,
                "dtype": str(f.dtype),
                # Feast cannot store descriptions on on-demand fields (see feature_definitions)
                "description": f.description or DERIVED_DESCRIPTIONS.get(f.name, ""),
                "used_by": sorted(v for v, names in usage.items() if f.name in names),
            }
            for f in view.features
        ]
        catalog.append(
            {
                "feature_view": view.name,
                "kind": kind,
                "owner": view.owner,
                "description": view.description,
                "tags": dict(view.tags),
                "entities": list(getattr(view, "entities", []) or []),
                "ttl": str(getattr(view, "ttl", "") or ""),
                "features": features,
                "used_by": sorted({v for f in features for v in f["used_by"]}),
            }
        )
    return catalog


def _model_usage(registry: Any) -> dict[str, set[str]]:
    """``{"churn-classifier v3": {feature names}}`` from each registered version's training run."""
    client = registry.client()
    usage: dict[str, set[str]] = {}
    for version in client.search_model_versions(f"name='{registry.model_name}'"):
        params = client.get_run(version.run_id).data.params
        if "features" in params:
            usage[f"{registry.model_name} v{version.version}"] = set(params["features"].split(","))
    return usage


def render(catalog: list[dict[str, Any]]) -> str:
    lines = []
    for view in catalog:
        lines.append(
            f"{view['feature_view']} ({view['kind']}, owner {view['owner'] or '-'}, ttl {view['ttl'] or '-'}): "
            f"{view['description']}"
        )
        for feature in view["features"]:
            used = ", ".join(feature["used_by"]) or "no registered model"
            lines.append(f"  {feature['name']:<28} {feature['dtype']:<10} {feature['description']}  [{used}]")
    return "\n".join(lines)
