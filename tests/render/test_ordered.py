"""The ordered output: jobs run first in, first out on one thread, and `flush` waits for them.

Waits are events; the only timeouts bound a broken run, and nothing here measures time.
"""

from __future__ import annotations

import threading

import pytest

from reconciler.render.ordered import OrderedOutput

BOUND = 30  # seconds: only so that a regression fails instead of hanging


def test_jobs_run_in_submission_order_on_one_other_thread() -> None:
    ran: list[tuple[int, str]] = []
    with OrderedOutput() as output:
        for number in range(200):
            output.submit(lambda n=number: ran.append((n, threading.current_thread().name)))
        output.flush()
        assert [n for n, _ in ran] == list(range(200))
    assert {name for _, name in ran} == {"reconciler-output"}


def test_submit_returns_while_a_job_is_still_running_and_flush_waits_for_it() -> None:
    release, events = threading.Event(), []
    with OrderedOutput() as output:
        output.submit(lambda: (release.wait(BOUND), events.append("printed")))
        events.append("submitted")  # the caller was not held up by the job
        flusher = threading.Thread(target=lambda: (output.flush(), events.append("flushed")))
        flusher.start()
        flusher.join(0.2)  # a chance to return early (a correct flush never does: the job is blocked)
        assert flusher.is_alive()
        release.set()
        flusher.join(BOUND)
    assert events == ["submitted", "printed", "flushed"]


def test_a_failed_job_stops_the_printing_and_the_next_flush_raises_its_error() -> None:
    ran: list[str] = []
    output = OrderedOutput()
    output.submit(lambda: ran.append("first"))
    output.submit(lambda: (_ for _ in ()).throw(BrokenPipeError("stdout closed")))
    output.submit(lambda: ran.append("after the failure"))
    with pytest.raises(BrokenPipeError, match="stdout closed"):
        output.flush()
    output.flush()  # raised once
    output.close()
    assert ran == ["first"]


def test_leaving_the_block_prints_what_is_left_even_on_an_error() -> None:
    release, ran = threading.Event(), []
    with pytest.raises(KeyboardInterrupt):
        with OrderedOutput() as output:
            output.submit(lambda: (release.wait(BOUND), ran.append("plan")))
            output.submit(lambda: ran.append("summary"))
            release.set()
            raise KeyboardInterrupt
    assert ran == ["plan", "summary"]


def test_without_a_background_thread_jobs_run_at_once_in_the_caller() -> None:
    ran: list[str] = []
    output = OrderedOutput(background=False)
    output.submit(lambda: ran.append(threading.current_thread().name))
    assert ran == [threading.current_thread().name]
    output.flush()
