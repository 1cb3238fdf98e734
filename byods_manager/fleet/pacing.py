"""One pacing for every worker of a run.

A 429 pauses every worker for its ``Retry-After`` (not only the one that received it), and
from then on request starts are spaced at the rate the server accepted: the number of
requests started in the window before the 429 minus those refused in it, less a safety
margin. The spacing only
grows during a run, so workers stop bumping into the limit instead of each learning it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

DEFAULT_WINDOW_SECONDS = 1.0
DEFAULT_MARGIN = 0.95


class SharedPacer:
    """Implements :class:`byods_manager.http.Pacer` for any number of threads."""

    def __init__(
        self,
        *,
        window: float = DEFAULT_WINDOW_SECONDS,
        margin: float = DEFAULT_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.window = window
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._next_start = 0.0
        self._interval = 0.0
        self._starts: deque[float] = deque()
        self._refusals: deque[float] = deque()
        self.rate_limited_count = 0
        self.requests_started = 0

    @property
    def interval(self) -> float:
        """Seconds between request starts (0 while the server has not limited us)."""
        return self._interval

    def wait_turn(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                start = max(now, self._paused_until, self._next_start)
                self._next_start = start + self._interval
            if start > now:
                self._sleep(start - now)
            with self._lock:
                if self._clock() >= self._paused_until:  # no 429 arrived while we slept
                    self._note_start(self._clock())
                    return

    def rate_limited(self, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            self.rate_limited_count += 1
            self._paused_until = max(self._paused_until, now + max(0.0, seconds))
            self._refusals.append(now)
            self._forget_before(now - self.window)
            accepted = (len(self._starts) - len(self._refusals)) / self.window * self.margin
            if accepted > 0:
                self._interval = max(self._interval, 1.0 / accepted)
            self._next_start = max(self._next_start, self._paused_until)

    def _note_start(self, when: float) -> None:
        self.requests_started += 1
        self._starts.append(when)
        self._forget_before(when - self.window)

    def _forget_before(self, cutoff: float) -> None:
        for times in (self._starts, self._refusals):
            while times and times[0] < cutoff:
                times.popleft()
