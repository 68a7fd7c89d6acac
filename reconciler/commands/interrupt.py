"""Ctrl-C during an apply.

The first SIGINT stops starting new changes: the calls in flight finish and their outcomes are
recorded, then the command prints what was and was not done and exits 130. A second SIGINT abandons
the calls in flight: their intents stay in state as uncertain, so the next plan or apply asks the
vendor before anything else, and the command exits 130 at once. Before execution begins (planning,
the confirmation prompt) Ctrl-C interrupts as usual: nothing has been written to any vendor.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from reconciler.plan.types import Plan


class ApplyInterrupts:
    """Installs the SIGINT handler for one apply command (use as a context manager)."""

    def __init__(self, on_first: Callable[[], None]) -> None:
        self.stop_requested = False
        self.abandoned = False
        self._on_first = on_first
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._previous: Any = None

    def __enter__(self) -> ApplyInterrupts:
        if threading.current_thread() is threading.main_thread():  # only the main thread receives signals
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def executing(self, _plan: Plan) -> None:
        """Execution begins (called inside the running event loop): from now on SIGINT steers it."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()

    def should_stop(self) -> bool:
        return self.stop_requested

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        loop, task = self._loop, self._task
        if loop is None or task is None or loop.is_closed():
            raise KeyboardInterrupt
        if not self.stop_requested:
            self.stop_requested = True  # a plain flag: read by the loop thread, which is this thread
            loop.call_soon_threadsafe(self._on_first)
        else:
            self.abandoned = True
            loop.call_soon_threadsafe(task.cancel)
