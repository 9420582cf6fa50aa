"""How often a contained fault is logged in full: one home for the rule every process uses.

The first failure of a kind in one place is logged with its traceback, later ones only
counted until a minute has passed, so one vehicle whose every report fails (it is isolated,
but its reports keep arriving) cannot fill the disk. Time is passed in, so the rule is
tested without waiting.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

LOG_AGAIN_S = 60.0  # the same failure in the same place is logged in full once a minute


class RepeatLimiter:
    """Admits the first failure of each key, then one per ``every_s`` with a count."""

    def __init__(self, every_s: float = LOG_AGAIN_S) -> None:
        self.every_s = every_s
        self._last: dict[Hashable, tuple[float, int]] = {}

    def admit(self, key: Hashable, now: float) -> int | None:
        """None: hold this one back (counted). Otherwise log it, saying how many like it
        were held back since the last one logged."""
        last, held = self._last.get(key, (-math.inf, 0))
        if now - last < self.every_s:
            self._last[key] = (last, held + 1)
            return None
        self._last[key] = (now, 0)
        return held


def more_like_it(held: int) -> str:
    return f" ({held} more like it since)" if held else ""
