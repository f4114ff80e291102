"""``mlops status``: what was last materialized, the champion, and the recent alias moves."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from mlops_assets.dagster_home import ensure_dagster_home
from resources.profiles import data_dir, resolved


def render_status() -> str:
    from mlops_assets.definitions import build_definitions

    ensure_dagster_home(data_dir())
    defs = build_definitions()
    instance = dg.DagsterInstance.get()
    lines = ["asset                      last materialized (UTC)"]
    for key in sorted(defs.resolve_asset_graph().get_all_asset_keys()):
        event = instance.get_latest_materialization_event(key)
        when = dt.datetime.fromtimestamp(event.timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if event else "never"
        lines.append(f"{key.to_user_string():<26} {when}")
    registry = resolved(defs.resources)["registry"]
    try:
        champion = registry.version_by_alias("champion")
        challenger = registry.version_by_alias("challenger")
        history = registry.alias_history()[-5:]
    except Exception as exc:  # an empty data folder has no registry yet
        return "\n".join([*lines, f"registry: not available yet ({type(exc).__name__}); run `mlops demo` first"])
    lines.append(
        f"champion: {'v' + str(champion.version) if champion else 'none'}"
        f"   challenger: {'v' + str(challenger.version) if challenger else 'none'}"
    )
    if challenger is not None and challenger.tags.get("approval.status") == "awaiting_approval":
        lines.append(
            f"awaiting approval: v{challenger.version} passed its canary and the gate; "
            f"approve with `mlops approve {challenger.version} --by NAME`"
        )
    decision = instance.get_latest_materialization_event(dg.AssetKey("production_deployment"))
    if decision is not None and "decision" in decision.asset_materialization.metadata:
        lines.append(f"last production decision: {decision.asset_materialization.metadata['decision'].value}")
    lines.append("recent alias moves:")
    lines += [
        f"  {e.at:%Y-%m-%d %H:%M:%S} {e.alias} -> v{e.version} (was {e.previous_version}) by {e.actor}: {e.reason}"
        for e in history
    ] or ["  none"]
    return "\n".join(lines)
