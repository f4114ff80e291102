"""A seeded generator of daily customer snapshots for a subscription business, with drift scenarios.

Each customer keeps stable traits (region, plan, age band, ...); every day a sample of customers emits a
snapshot whose usage figures evolve. Churn is drawn from a logistic model of the snapshot, and its label
only becomes known ``label_delay_days`` later, as in real churn data.

A customer's traits are a pure function of (seed, customer id): counter-based hashes turned into the
traits' distributions, so a day of a million rows out of a population of ten million never builds the
population table, and a customer is the same person whatever the population size. A day is drawn in
chunks of ``CHUNK_ROWS`` rows, each from its own seeded stream, so memory is bounded by the chunk, not the
day. The same (seed, day, scenario, population, rows) always yields the same rows, so tests and the demo
are reproducible.
"""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np
import pandas as pd

from mlops_assets.core import domain as d
from mlops_assets.ingestion.scenarios import Scenario

__all__ = ["Scenario", "generate_day"]


POPULATION = 20_000
"""Default number of customers; a day samples its rows from them without replacement."""
FIRST_ID = 100_000
EPOCH = dt.date(2026, 1, 1)
CHUNK_ROWS = 262_144
"""Rows drawn per chunk (each chunk from its own seeded stream), so a day's arrays stay bounded."""

PLAN_PRICE = {"basic": 19.0, "standard": 39.0, "premium": 79.0}
TRAIT_SHARES: dict[str, tuple[float, ...]] = {
    "plan": (0.5, 0.35, 0.15),
    "region": (0.3, 0.25, 0.25, 0.2),
    "payment_method": (0.5, 0.2, 0.2, 0.1),
    "device_type": (0.4, 0.4, 0.2),
    d.SEGMENT: (0.25, 0.35, 0.3, 0.1),
}
"""How common each category of a stable trait is, in the vocabulary's order (``domain``)."""
_VOCABULARY = {c.name: c.categories for c in d.CATEGORICAL} | {d.SEGMENT: d.SEGMENT_CATEGORIES}
_STREAMS = (*TRAIT_SHARES, "tenure_a", "tenure_b", "engagement_a", "engagement_b", "surveyed")
"""One hash stream per uniform a customer's traits are drawn from."""

_GOLDEN, _M1, _M2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 whose every output bit depends on every input bit."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _uniform(seed: int, stream: int, ids: np.ndarray) -> np.ndarray:
    """A uniform in (0, 1) per customer id, fixed by (seed, stream, id)."""
    key = _mix(np.array([seed * 1_000 + stream], dtype=np.uint64))
    with np.errstate(over="ignore"):
        bits = _mix(ids.astype(np.uint64) * _GOLDEN ^ key)
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def customer_traits(ids: np.ndarray, seed: int = 7) -> pd.DataFrame:
    """The stable traits of customers ``ids``: the same id and seed give the same person, in any sample.

    base_tenure ~ Gamma(2, 14) (a sum of two exponentials), engagement ~ LogNormal(0, 0.5) (Box-Muller),
    categories by ``TRAIT_SHARES``, surveyed with probability 0.7.
    """
    u = {name: _uniform(seed, k, ids) for k, name in enumerate(_STREAMS)}
    traits: dict[str, np.ndarray] = {
        d.ENTITY: ids.astype(np.int64),
        "base_tenure": -14.0 * (np.log(u["tenure_a"]) + np.log(u["tenure_b"])),
    }
    for name, shares in TRAIT_SHARES.items():
        codes = np.searchsorted(np.cumsum(shares)[:-1], u[name], side="right")
        traits[name] = np.array(_VOCABULARY[name], dtype=object)[codes]
    normal = np.sqrt(-2.0 * np.log(u["engagement_a"])) * np.cos(2.0 * np.pi * u["engagement_b"])
    traits["engagement"] = np.exp(0.5 * normal)
    traits["surveyed"] = u["surveyed"] < 0.7
    return pd.DataFrame(traits)


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
    population: int = POPULATION,
) -> pd.DataFrame:
    """Return one day of raw snapshot events with columns ``domain.RAW_COLUMNS`` (or a broken schema).

    ``rows`` distinct customers out of ``population`` each emit one snapshot. ``intensity`` scales the
    injected drift (0 = none, 1 = the documented scenario).
    """
    scenario = Scenario(scenario)
    if not 0 <= rows <= population:
        raise ValueError(
            f"rows must be between 0 and population ({population:,}), got {rows:,}: a day samples distinct "
            f"customers, so raise population to at least {rows:,}"
        )
    day_seed = _day_seed(seed, day, scenario)
    rng = np.random.default_rng(day_seed)
    ids = FIRST_ID + rng.choice(population, rows, replace=False)
    seconds = np.sort(rng.integers(0, 86_400, rows))
    starts = range(0, max(rows, 1), CHUNK_ROWS)
    streams = np.random.SeedSequence(day_seed).spawn(len(starts))
    chunks = [
        _chunk(
            day,
            ids[at : at + CHUNK_ROWS],
            seconds[at : at + CHUNK_ROWS],
            seed,
            scenario,
            intensity,
            label_delay_days,
            np.random.default_rng(stream),
        )
        for at, stream in zip(starts, streams, strict=True)
    ]
    frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    if scenario is Scenario.SCHEMA_BREAK:
        frame = frame.rename(columns={"monthly_charges": "monthly_charge_eur"}).drop(columns=["plan"])
        frame["tenure_months"] = frame["tenure_months"].map(lambda v: f"{v:.1f} months")
    return frame


def _chunk(
    day: dt.date,
    ids: np.ndarray,
    seconds: np.ndarray,
    seed: int,
    scenario: Scenario,
    intensity: float,
    label_delay_days: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The snapshots of customers ``ids`` at ``seconds`` into ``day``, drawn from ``rng``."""
    people = customer_traits(ids, seed)
    n = len(people)
    age_days = (day - EPOCH).days
    ts = pd.Timestamp(day, tz="UTC") + pd.to_timedelta(seconds, unit="s")
    plan_price = people["plan"].map(PLAN_PRICE).to_numpy(dtype=np.float64)
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
    return frame[list(d.RAW_COLUMNS)]


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
