"""The model artifact's shared facts: the served model names, the registry's hash tag and the hash check.

Training, the registry, the Triton repository and the gateway all name the same models and check the same
hash; defining them here once means a renamed tag or model cannot leave one of them reading the old name.
"""

from __future__ import annotations

import hashlib

CHURN_MODEL = "churn"
"""The trained model's name on Triton (each registry version is a Triton version of it)."""
BASELINE_MODEL = "churn_baseline"
"""The always-loaded fallback model on Triton."""
WEIGHTS_SHA256_TAG = "weights.sha256"
"""The registry version tag holding the sha256 of the version's ``model.onnx``."""


class ArtifactIntegrityError(RuntimeError):
    """An artifact's bytes do not hash to what the registry recorded: it must not be loaded or served."""


def verify_sha256(data: bytes, expected: str | None, what: str) -> str:
    """``data``'s sha256 when it equals ``expected``; otherwise an ``ArtifactIntegrityError`` naming ``what``."""
    if not expected:
        raise ArtifactIntegrityError(f"{what} has no {WEIGHTS_SHA256_TAG} recorded: refusing to load it")
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ArtifactIntegrityError(f"{what}: artifact sha256 {actual} does not match the registry's {expected}")
    return actual
