"""Fault containment for ROS callbacks and timers.

An exception that escapes an rclpy callback leaves ``spin_once`` and, unless
someone catches it, ends the executor's thread: every timer and subscription
of the process stops with it (the orchestrator's heartbeat, so every vehicle
stops). These wrappers keep the thread alive and say what happened; what the
fault means for the fleet is the caller's ``on_error``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

LOG_AGAIN_S = 60.0  # the same failure in the same place is logged in full once a minute


class _Logger(Protocol):
    def error(self, message: str, /) -> Any: ...


class Contained:
    """Counts and logs (rate-limited) the exceptions of the callbacks it wraps."""

    def __init__(self, logger: _Logger) -> None:
        self.logger = logger
        self.count = 0
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def wrap(
        self,
        where: str,
        fn: Callable[..., Any],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Callable[..., None]:
        def callback(*args: Any) -> None:
            try:
                fn(*args)
            except Exception as e:
                self.caught(where, e)
                if on_error is not None:
                    try:
                        on_error(e)
                    except Exception as again:  # the handler's own failure ends here
                        self.caught(f"{where} (handling the error)", again)

        return callback

    def caught(self, where: str, exc: BaseException) -> None:
        import traceback

        self.count += 1
        key = (where, type(exc).__name__)
        now = time.monotonic()
        last, repeats = self._last.get(key, (-LOG_AGAIN_S, 0))
        if now - last < LOG_AGAIN_S:
            self._last[key] = (last, repeats + 1)
            return
        self._last[key] = (now, 0)
        more = f" ({repeats} more like it since)" if repeats else ""
        self.logger.error(
            f"contained {type(exc).__name__} in {where}{more}: {exc}\n"
            + "".join(traceback.format_exception(exc))
        )
