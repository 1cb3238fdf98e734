"""A whole-command deadline (``--timeout``): every request and wait fits in what is left."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from .errors import TransportError

DEFAULT_COMMAND_TIMEOUT_SECONDS = 300.0


class DeadlineExceeded(TransportError):
    """The command ran out of its ``--timeout``."""


class Deadline:
    """An absolute point in time, measured on a monotonic clock."""

    def __init__(
        self, seconds: float, clock: Callable[[], float] = time.monotonic, label: str = ""
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends_at = clock() + seconds
        self.label = label or f"--timeout {seconds:g}s"

    def lift(self) -> None:
        """No deadline from now on, for every client sharing this object: a long-running
        command (a keepalive service) calls ``app.deadline.lift()`` and bounds its own
        cycles instead."""
        self._ends_at = math.inf

    def remaining(self) -> float:
        return max(0.0, self._ends_at - self._clock())

    def check(self, what: str) -> float:
        """The seconds left; raise :class:`DeadlineExceeded` naming ``what`` when none are."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceeded(
                f"{what}: the command's deadline ({self.label}) has passed; "
                "nothing more was sent. Try again, or allow more time with --timeout."
            )
        return left

    def cap(self, timeout: float | tuple[float, float]) -> float | tuple[float, float]:
        """A request timeout shortened to what is left of the deadline."""
        left = self.remaining()
        if isinstance(timeout, tuple):
            return (min(timeout[0], left), min(timeout[1], left))
        return min(timeout, left)
