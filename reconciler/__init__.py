"""rtc-reconciler: declarative, idempotent management of RTC vendors' cloud media jobs."""

__version__ = "0.1.0"
