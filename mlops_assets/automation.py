"""The declarative automation conditions of the lifecycle, named for what each asset waits for.

Dagster's automation-condition sensor evaluates them every tick; nothing here launches anything itself.
``eager()`` is the starting point, customized where its defaults would stall or flood the loop:

* ``eager()`` waits while *any* upstream partition is missing; an asset that reads every landed day would
  then stall forever behind one day whose ingestion failed, so ``ALL_DAYS`` drops that clause.
* ``eager()`` re-runs every partition of a daily report when its unpartitioned parent (the champion's
  reference profile) changes; a new champion must not re-judge past days, so ``NEW_DAY`` follows only
  the day's own data and requires the reference to exist when the day arrives.
* The reference profile follows the *champion*, which changes only when a promotion moves the alias, so
  ``NEW_CHAMPION`` watches the data versions (the champion version) of the assets that promote.
"""

from __future__ import annotations

import dagster as dg

DAY_DATA = dg.AssetSelection.assets("raw_churn_events", "validated_events")
REFERENCE = dg.AssetSelection.assets("reference_profile")

ALL_DAYS = (
    dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing()).with_label("eager_all_days")
)
"""Recompute from every landed day whenever a day changes, even if some day never made it through."""

FEATURE_CODE = (dg.AutomationCondition.eager() | dg.AutomationCondition.code_version_changed()).with_label(
    "eager_or_new_feature_code"
)
"""Re-apply the Feast repo when the features change or when their definitions do (a new code version is a
hash of the modules defining them), so an edited feature reaches the registry and the online store."""

NEW_DAY = (
    dg.AutomationCondition.any_deps_match(dg.AutomationCondition.newly_updated()).allow(DAY_DATA)
    & ~dg.AutomationCondition.any_deps_match(dg.AutomationCondition.missing()).allow(REFERENCE)
    & ~dg.AutomationCondition.any_deps_missing().allow(DAY_DATA)
    & ~dg.AutomationCondition.in_progress()
).with_label("new_day_with_champion")
"""Report on a day when its data is written, if a champion (its reference profile) is being monitored."""

NEW_LABELS = (
    dg.AutomationCondition.any_deps_match(dg.AutomationCondition.newly_updated())
    .allow(DAY_DATA | REFERENCE)
    .since_last_handled()
    & ~dg.AutomationCondition.any_deps_match(dg.AutomationCondition.missing()).allow(REFERENCE)
    & ~dg.AutomationCondition.in_progress()
).with_label("new_labels_with_champion")
"""Re-test the champion on every label that has arrived whenever a day lands or the champion changes."""

NEW_CHAMPION = (
    dg.AutomationCondition.any_deps_match(dg.AutomationCondition.data_version_changed()).since_last_handled()
    & ~dg.AutomationCondition.in_progress()
).with_label("new_champion")
"""Profile the champion's training rows once per promotion (not on every deployment decision)."""
