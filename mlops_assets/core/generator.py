"""A seeded generator of daily customer snapshots for a subscription business, with drift scenarios.

Each customer keeps stable traits (region, plan, age band, ...) drawn once from the seed; every day a sample
of customers emits a snapshot whose usage figures evolve. Churn is drawn from a logistic model of the
snapshot, and its label only becomes known ``label_delay_days`` later, as in real churn data.
The same (seed, day, scenario) always yields the same rows, so tests and the demo are reproducible.
"""

from __future__ import annotations

import datetime as dt
import zlib
from enum import StrEnum

import numpy as np
import pandas as pd

from mlops_assets.core import domain as d


class Scenario(StrEnum):
    """What the generator does to a day's data; ``none`` is the healthy baseline."""

    NONE = "none"
    COVARIATE_SHIFT = "covariate_shift"
    CONCEPT_SHIFT = "concept_shift"
    MISSING_SPIKE = "missing_spike"
    SCHEMA_BREAK = "schema_break"
    LABEL_DELAY = "label_delay"


POPULATION = 20_000
FIRST_ID = 100_000
EPOCH = dt.date(2026, 1, 1)


def _population(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = POPULATION
    cat = {c.name: c.categories for c in d.CATEGORICAL}
    return pd.DataFrame(
        {
            d.ENTITY: np.arange(FIRST_ID, FIRST_ID + n, dtype=np.int64),
            "base_tenure": rng.gamma(2.0, 14.0, n),
            "plan": rng.choice(cat["plan"], n, p=[0.5, 0.35, 0.15]),
            "region": rng.choice(cat["region"], n, p=[0.3, 0.25, 0.25, 0.2]),
            "payment_method": rng.choice(cat["payment_method"], n, p=[0.5, 0.2, 0.2, 0.1]),
            "device_type": rng.choice(cat["device_type"], n, p=[0.4, 0.4, 0.2]),
            d.SEGMENT: rng.choice(d.SEGMENT_CATEGORIES, n, p=[0.25, 0.35, 0.3, 0.1]),
            "engagement": rng.lognormal(0.0, 0.5, n),
            "surveyed": rng.random(n) < 0.7,
        }
    )


def _day_seed(seed: int, day: dt.date, scenario: Scenario) -> int:
    return zlib.crc32(f"{seed}:{day.isoformat()}:{scenario.value}".encode())


def generate_day(
    day: dt.date,
    *,
    seed: int = 7,
    rows: int = 1_500,
    scenario: Scenario | str = Scenario.NONE,
    label_delay_days: int = 3,
    intensity: float = 1.0,
) -> pd.DataFrame:
    """Return one day of raw snapshot events with columns ``domain.RAW_COLUMNS`` (or a broken schema).

    ``intensity`` scales the injected drift (0 = none, 1 = the documented scenario).
    """
    scenario = Scenario(scenario)
    rng = np.random.default_rng(_day_seed(seed, day, scenario))
    people = _population(seed).sample(n=rows, random_state=rng.integers(2**31)).reset_index(drop=True)
    n = len(people)
    age_days = (day - EPOCH).days
    start = pd.Timestamp(day, tz="UTC")
    ts = start + pd.to_timedelta(np.sort(rng.integers(0, 86_400, n)), unit="s")

    plan_price = people["plan"].map({"basic": 19.0, "standard": 39.0, "premium": 79.0}).to_numpy()
    shift = intensity if scenario is Scenario.COVARIATE_SHIFT else 0.0
    tenure = np.clip(people["base_tenure"].to_numpy() + age_days / 30.0, 0, 239)
    monthly = np.clip(plan_price * (1 + 0.35 * shift) + rng.normal(0, 6, n), 1, 499)
    discount = np.clip(rng.choice([0, 0, 0, 10, 20, 50], n) * (1 - 0.5 * shift), 0, 100)
    engagement = people["engagement"].to_numpy() * (1 - 0.45 * shift)
    sessions = rng.poisson(40 * engagement)
    minutes = np.where(sessions > 0, rng.gamma(2.0, 9.0 * engagement + 1, n), np.nan)
    frame = pd.DataFrame(
        {
            d.ENTITY: people[d.ENTITY].to_numpy(),
            d.TIMESTAMP: ts,
            "tenure_months": np.round(tenure, 1),
            "monthly_charges": np.round(monthly, 2),
            "total_charges": np.round(monthly * tenure * rng.uniform(0.9, 1.0, n), 2),
            "discount_pct": discount,
            "failed_payments_90d": rng.poisson(0.3 + 1.2 * shift + 0.4 * (people["payment_method"] == "invoice"), n),
            "support_tickets_30d": rng.poisson(0.8 + 1.5 * shift, n),
            "sessions_30d": sessions,
            "avg_session_minutes": np.round(minutes, 1),
            "days_since_last_login": np.minimum(rng.exponential(4.0 / engagement), 3_600).round(0),
            "data_usage_gb": np.round(rng.gamma(2.0, 8.0 * engagement), 2),
            "devices": 1 + rng.poisson(1.2, n),
            "satisfaction_score": np.where(
                people["surveyed"], np.clip(np.round(rng.normal(7.0 - 1.5 * shift, 1.8, n)), 1, 10), np.nan
            ),
            "plan": people["plan"].to_numpy(),
            "region": np.where(rng.random(n) < 0.6 * shift, "south", people["region"].to_numpy()),
            "payment_method": people["payment_method"].to_numpy(),
            "device_type": people["device_type"].to_numpy(),
            d.SEGMENT: people[d.SEGMENT].to_numpy(),
        }
    )
    frame[d.LABEL] = _churn(frame, rng, concept=intensity if scenario is Scenario.CONCEPT_SHIFT else 0.0)
    delay = label_delay_days * (5 if scenario is Scenario.LABEL_DELAY else 1)
    frame[d.LABEL_TIMESTAMP] = frame[d.TIMESTAMP] + pd.Timedelta(days=delay)
    if scenario is Scenario.MISSING_SPIKE:
        for column in ("monthly_charges", "sessions_30d", "days_since_last_login"):
            frame[column] = frame[column].astype("float64").mask(rng.random(n) < 0.3 * intensity)
    frame = frame[list(d.RAW_COLUMNS)]
    if scenario is Scenario.SCHEMA_BREAK:
        frame = frame.rename(columns={"monthly_charges": "monthly_charge_eur"}).drop(columns=["plan"])
        frame["tenure_months"] = frame["tenure_months"].map(lambda v: f"{v:.1f} months")
    return frame


def _churn(frame: pd.DataFrame, rng: np.random.Generator, concept: float) -> np.ndarray:
    """Draw churn from a logistic model; a concept shift rewires which behaviours predict churn."""
    sat = frame["satisfaction_score"].fillna(6.5).to_numpy()
    logit = (
        -1.6
        + 0.45 * frame["support_tickets_30d"].to_numpy()
        + 0.7 * frame["failed_payments_90d"].to_numpy()
        - 0.035 * frame["tenure_months"].to_numpy()
        + 0.12 * np.log1p(frame["days_since_last_login"].to_numpy())
        - 0.25 * (sat - 6.5)
        + 0.015 * (frame["monthly_charges"].to_numpy() - 35)
        - 0.015 * frame["discount_pct"].to_numpy()
        + 0.4 * (frame["payment_method"] == "invoice").to_numpy()
    )
    if concept:
        flipped = (
            -1.2
            + 0.05 * frame["tenure_months"].to_numpy()
            - 0.5 * frame["support_tickets_30d"].to_numpy()
            + 0.03 * frame["discount_pct"].to_numpy()
            + 0.8 * (frame["plan"] == "premium").to_numpy()
        )
        logit = (1 - concept) * logit + concept * flipped
    return (rng.random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(np.int64)
