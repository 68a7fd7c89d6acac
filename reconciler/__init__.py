"""rtc-reconciler: declarative, idempotent management of RTC vendors' cloud media jobs."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`__version__` on first use: importlib.metadata costs tens of ms that `validate` never needs."""
    if name != "__version__":
        raise AttributeError(f"module 'reconciler' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("rtc-reconciler")  # pyproject.toml is the one place the version is written
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
