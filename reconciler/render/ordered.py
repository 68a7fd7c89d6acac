"""What an apply prints, printed in order by one background thread while the vendor calls go out.

The event loop runs every vendor call of an apply; rendering on it (the plan, each finished change)
would hold the first write back and stall the calls in flight. So printing is handed to
`OrderedOutput.submit` as jobs that one thread runs first in, first out: the output is the same, in
the same order (the plan, each change as it finishes, the summary), only no longer on the loop. The
thread takes the CPU while the loop waits on the network or on a rate limiter.

`flush` waits until every job submitted so far has run. The commands flush before anything they
print directly or ask (a confirmation prompt, the summary, an error message on stderr) and on every
way out (normal, an error, either Ctrl-C), so nothing submitted is lost or printed out of order.
A job that fails (a closed pipe) stops the printing; `flush` raises its error in the caller.

With `background=False` jobs run at once in the caller: for output that must interleave exactly
with log lines on stderr (`-v`), and for callers that print synchronously (tests, `demo`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType

Job = Callable[[], None]


class OrderedOutput:
    """Runs printing jobs in submission order, on one background thread (or at once)."""

    def __init__(self, *, background: bool = True) -> None:
        # a job, a flush marker (set when every job before it has run), or None: stop
        self._queue: queue.SimpleQueue[Job | threading.Event | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="reconciler-output", daemon=True)
            self._thread.start()

    def submit(self, job: Job) -> None:
        if self._thread is None:
            self._raise_error()
            job()
        else:
            self._queue.put(job)  # one atomic put: an interrupt cannot leave a job half submitted

    def flush(self) -> None:
        """Wait until every job submitted so far has run (at once when called from a job)."""
        thread = self._thread
        if thread is not None and threading.current_thread() is not thread:
            printed = threading.Event()
            self._queue.put(printed)
            printed.wait()
        self._raise_error()

    def close(self) -> None:
        """Run what is left and stop the thread (raises nothing: callers flush first to see errors)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def __enter__(self) -> OrderedOutput:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
        if kind is None:
            self._raise_error()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if isinstance(item, threading.Event):
                item.set()
            elif self._error is None:
                try:
                    item()
                except BaseException as error:  # kept for the caller's next flush
                    self._error = error

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error
