"""The run tags that say why a run exists, defined once for the sensors that set them and everyone who reads them.

Sensors put the event that launched a run in ``mlops/trigger`` (``drift:champion-v3``, ``landed:2026-01-22``)
and a short human reason in ``mlops/reason``; the registry copies them into a version's description, and
the demo's timeline and ``mlops status`` show them.
"""

from __future__ import annotations

TRIGGER_TAG = "mlops/trigger"
REASON_TAG = "mlops/reason"
