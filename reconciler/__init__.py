"""rtc-reconciler: declarative, idempotent management of RTC vendors' cloud media jobs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rtc-reconciler")  # pyproject.toml is the one place the version is written
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
