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

from smartgate.services.faults import RepeatLimiter, more_like_it


class _Logger(Protocol):
    def error(self, message: str, /) -> Any: ...


class Contained:
    """Counts and logs (rate-limited) the exceptions of the callbacks it wraps."""

    def __init__(self, logger: _Logger) -> None:
        self.logger = logger
        self.count = 0
        self._limiter = RepeatLimiter()

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
        held = self._limiter.admit((where, type(exc).__name__), time.monotonic())
        if held is None:
            return
        self.logger.error(
            f"contained {type(exc).__name__} in {where}{more_like_it(held)}: {exc}\n"
            + "".join(traceback.format_exception(exc))
        )
