"""Traffic splitting between champion and challenger, sticky per entity.

A customer always lands on the same arm for a given split (so a canary does not flip a user's experience
request by request): the arm is chosen by hashing the entity id with a per-rollout salt into [0, 1) and
comparing it with the challenger's share. Different salts give independent splits for successive canaries.
"""

from __future__ import annotations

import hashlib

CHAMPION = "champion"
CHALLENGER = "challenger"


def bucket(entity_id: int | str, salt: str) -> float:
    """A stable, uniform number in [0, 1) for ``entity_id`` under ``salt``."""
    digest = hashlib.blake2b(f"{salt}:{entity_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def route(entity_id: int | str, challenger_share: float, salt: str) -> str:
    """``challenger`` for a ``challenger_share`` fraction of entities, ``champion`` for the rest."""
    if not 0.0 <= challenger_share <= 1.0:
        raise ValueError(f"challenger_share must be within [0, 1], got {challenger_share}")
    return CHALLENGER if bucket(entity_id, salt) < challenger_share else CHAMPION
