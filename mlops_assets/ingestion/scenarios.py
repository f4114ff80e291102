"""The generator's drift scenarios, in a module of their own so that config classes can name them.

The ingestion asset's config validates against this enum; importing it must not pull in numpy and pandas
(the generator's), because the Dagster ``Definitions`` load every config class.
"""

from __future__ import annotations

from enum import StrEnum


class Scenario(StrEnum):
    """What the generator does to a day's data; ``none`` is the healthy baseline."""

    NONE = "none"
    COVARIATE_SHIFT = "covariate_shift"
    CONCEPT_SHIFT = "concept_shift"
    MISSING_SPIKE = "missing_spike"
    SCHEMA_BREAK = "schema_break"
    LABEL_DELAY = "label_delay"
