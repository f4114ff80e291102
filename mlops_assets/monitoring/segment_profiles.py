"""Reference profiles per segment (age band), so a shift confined to one segment is not diluted.

The champion's reference profile is saved for the whole population and, beside it, one per segment
calibrated on that segment's own rows; a day's segments are then each compared with their own reference.
"""

from __future__ import annotations

MIN_SEGMENT_ROWS = 200
"""Segments with fewer reference or current rows are not tested on their own (too little evidence)."""


def save_profiles(rows, columns: list[str], path: str):  # noqa: ANN001, ANN201 - DataFrame in, (profile, dict) out
    """The whole population's profile at ``path`` and one per segment beside it; returns (profile, rows per segment).

    Each segment's profile is calibrated on its own rows, so a shift confined to one segment is tested
    against that segment's variability instead of being diluted in the whole population.
    """
    from mlops_assets.core import domain as d
    from mlops_assets.monitoring.drift_profile import ReferenceProfile

    profile = ReferenceProfile.from_frame(rows[columns])
    profile.save(path)
    segments = {}
    for segment, part in rows.groupby(d.SEGMENT, observed=True):
        if len(part) >= MIN_SEGMENT_ROWS:
            ReferenceProfile.from_frame(part[columns]).save(_segment_path(path, str(segment)))
            segments[str(segment)] = len(part)
    return profile, segments


def _segment_path(path: str, segment: str) -> str:
    safe = "".join(c if c.isalnum() else "_" for c in segment)
    return path.removesuffix(".profile") + f".segment-{safe}.profile"


def segment_drift(path: str, current, columns: list[str], alpha: float) -> dict[str, dict]:  # noqa: ANN001
    """Each segment's drift verdict against its own reference profile (segments without one are skipped)."""
    from pathlib import Path

    from mlops_assets.core import domain as d
    from mlops_assets.monitoring.drift_profile import ReferenceProfile

    verdicts = {}
    for segment, rows in current.groupby(d.SEGMENT, observed=True):
        reference = _segment_path(path, str(segment))
        if len(rows) < MIN_SEGMENT_ROWS or not Path(reference).exists():
            continue
        report = ReferenceProfile.load(reference).compare(rows, columns=columns, alpha=alpha).to_dict()["dataset"]
        verdicts[str(segment)] = {k: report[k] for k in ("drifted", "share_drifted", "drifted_columns")}
        verdicts[str(segment)]["rows"] = len(rows)
    return verdicts
