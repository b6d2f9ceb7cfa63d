"""Simulated time for the scheduler benchmarks: jobs sleep on a virtual clock, which moves to
the next job's end only when every running job sleeps on it and the scheduler waits.

So a campaign of thousands of 1-30 s runs takes seconds, events come in the order the
durations fix, and the scheduler's own work between two waits is all that costs real time.
`wait` stands in for `concurrent.futures.wait` in `scientist.graph.scheduler`; it also
notes when each wait begins and ends, and can end the campaign like a kill after N events.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import wait as futures_wait
from typing import Any


class SimulatedKill(Exception):
    """The campaign was cut off here, as a kill would cut it off."""


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 0.0
        self._cond = threading.Condition()
        self._sleepers: list[tuple[float, int, threading.Event]] = []
        self._order = itertools.count()
        self._killed = False
        self.kill_after: int | None = None
        """End the campaign at this event (a count of waits that saw a job end)."""
        self.events = 0
        self.overheads_s: list[float] = []
        """Real seconds between one wait's end and the next wait's start: the scheduler's
        own work for one event (fold, dispatch, checkpoint, submit)."""
        self.first_wait_at: float | None = None
        self._last_return: float | None = None

    def sleep(self, seconds: float) -> None:
        """Block a job until the clock passes `seconds` from now."""
        wake = threading.Event()
        with self._cond:
            if self._killed:
                raise SimulatedKill
            heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), wake))
            self._cond.notify_all()
        wake.wait()
        if self._killed:
            raise SimulatedKill

    def new_segment(self) -> None:
        """A resume begins: the next wait is the first of a new scheduler, and no kill comes."""
        self._killed = False
        self.kill_after = None
        self.first_wait_at = None
        self._last_return = None

    def wait(
        self, futures: Iterable[Future[Any]], timeout: float | None = None, return_when: str = ""
    ) -> tuple[set[Future[Any]], set[Future[Any]]]:
        pending = list(futures)
        entered = time.perf_counter()
        if self.first_wait_at is None:
            self.first_wait_at = entered
        if self._last_return is not None:
            self.overheads_s.append(entered - self._last_return)
        if self.kill_after is not None and self.events >= self.kill_after:
            self._kill()
        with self._cond:
            while not any(future.done() for future in pending):
                started = sum(1 for future in pending if future.running())
                if self._sleepers and len(self._sleepers) >= started:
                    self.now, _, wake = heapq.heappop(self._sleepers)
                    wake.set()
                self._cond.wait(0.0005)
        self.events += 1
        done = futures_wait(pending, timeout=0)
        self._last_return = time.perf_counter()
        return done

    def _kill(self) -> None:
        with self._cond:
            self._killed = True
            for _, _, wake in self._sleepers:
                wake.set()
            self._sleepers.clear()
        raise SimulatedKill
