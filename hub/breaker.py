"""A circuit breaker per source: after repeated failures the source is skipped at once, then probed again."""

from __future__ import annotations

import time
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"  # requests go to the source
    OPEN = "open"  # the source failed repeatedly: requests fail fast with SOURCE_UNAVAILABLE
    HALF_OPEN = "half_open"  # the pause is over: one probe may go through


class CircuitBreaker:
    """Per process: each hub process learns a source's health on its own (nothing shared is needed)."""

    def __init__(self, name: str, *, failure_threshold: int = 3, reset_after: float = 10.0, clock=time.monotonic) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self.on_change = None  # called with the new state (metrics)

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        changed = self._opened_at is not None
        self._failures = 0
        self._opened_at = None
        self._probing = False
        if changed and self.on_change:
            self.on_change(self.name, BreakerState.CLOSED)

    def failure(self) -> None:
        self._failures += 1
        self._probing = False
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            # Open, or re-open after a failed probe: the pause starts again.
            self._opened_at = self._clock()
            if self.on_change:
                self.on_change(self.name, BreakerState.OPEN)
