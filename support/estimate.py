"""An honest estimate of the wait in the operator queue.

From what happened lately, not from a hope: the median of the recent
waits (requested -> taken), times how many rounds of the available
operators it takes to reach this position. No operator available: no
number at all (None), rather than a made-up one.
"""

from __future__ import annotations

import math
from statistics import median

# Below this an estimate means nothing to a visitor ("about a minute").
MINIMUM_ESTIMATE_SECONDS = 30


def estimated_wait_seconds(
    *, position: int, available_operators: int, recent_waits: list[float], default: float
) -> int | None:
    if available_operators <= 0 or position <= 0:
        return None
    typical = median(recent_waits) if recent_waits else default
    rounds = math.ceil(position / available_operators)
    return max(MINIMUM_ESTIMATE_SECONDS, round(typical * rounds))
