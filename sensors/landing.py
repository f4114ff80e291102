"""The landing sensor: a day's files land, its partition is added and the ``ingest`` job launched for it.

The cursor remembers each landed day's file signature, so a day is ingested once, and again only when its
files change. Days that land together are ingested in one run (the asset's backfill policy is one run per
range), so a user's history of 300 days is one run, not 300.
"""

from __future__ import annotations

import json

import dagster as dg

from mlops_assets.partitions import DAYS, RANGE_END, RANGE_START
from mlops_assets.run_tags import REASON_TAG, TRIGGER_TAG
from resources.landing import LandingResource
from sensors.jobs import INGEST_JOB
from sensors.settings import DEFAULT_STATUS, INTERVAL_SECONDS


@dg.sensor(
    job=INGEST_JOB,
    minimum_interval_seconds=max(1, INTERVAL_SECONDS // 3),
    default_status=DEFAULT_STATUS,
    description="Ingest each day that lands in the landing folder (one sub-folder per day).",
)
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingResource) -> dg.SensorResult:
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    landed = landing.landed()
    new = sorted(day for day in landed if day not in seen)
    changed = sorted(day for day in landed if day in seen and seen[day] != landed[day])
    if not new and not changed:
        return dg.SensorResult(skip_reason=dg.SkipReason(f"no new day in {landing.root}"))
    known = set(context.instance.get_dynamic_partitions(DAYS.name))
    requests = []
    if new:
        stamp = "-".join(landed[day] for day in new)[:64]
        requests.append(
            dg.RunRequest(
                run_key=f"landed:{new[0]}..{new[-1]}:{stamp}",
                tags={
                    RANGE_START: new[0],
                    RANGE_END: new[-1],
                    TRIGGER_TAG: f"landed:{new[0]}..{new[-1]}",
                    REASON_TAG: f"{len(new)} new day(s) landed",
                },
            )
        )
    requests += [
        dg.RunRequest(
            run_key=f"landed:{day}:{landed[day]}",
            partition_key=day,
            tags={TRIGGER_TAG: f"relanded:{day}", REASON_TAG: "the day's files changed"},
        )
        for day in changed
    ]
    to_add = [day for day in new if day not in known]
    context.log.info(f"ingesting {len(new)} new and {len(changed)} changed day(s)")
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[DAYS.build_add_request(to_add)] if to_add else [],
        cursor=json.dumps(landed, sort_keys=True),
    )
