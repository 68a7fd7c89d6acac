"""Pausing the cyclic garbage collector while a phase builds many objects that all live on.

Loading 10,000 manifests or the state's records, and planning them, allocates millions of objects
that stay alive until the command ends. The collector runs every few hundred allocations and walks
the growing heap again and again, finding almost nothing to free: a third to a half of the time of a
large local plan, and the reason its timings swung by a second from run to run. These phases create
no reference cycles worth collecting early; the collector resumes as soon as the phase ends.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collector_paused(*, freeze: bool = False) -> Iterator[None]:
    """The collector off for the block (left off if the caller had switched it off). With `freeze`,
    what exists at the end is moved out of the collector's generations for good (`gc.freeze`): for
    what lives as long as the process, such as the modules a command loads."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            if freeze:
                gc.freeze()
            gc.enable()


def without_collector(function: Callable[P, R]) -> Callable[P, R]:
    """`function` with the collector paused while it runs."""

    @wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return function(*args, **kwargs)

    return paused
