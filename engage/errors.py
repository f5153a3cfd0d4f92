"""One error model: user mistakes are EngageError (one clear message, exit 2);
per-feed problems are values on the feed's record; bugs are the only tracebacks."""

from __future__ import annotations


class EngageError(Exception):
    """A mistake the user can fix: printed as one or more lines, exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.lines = lines or [message]


class ConfigError(EngageError):
    """Every problem found in a watchlist, each as `FILE:LINE:COL: message (hint)`."""


class StoreError(EngageError):
    """The data file cannot be used as it is (newer schema, unreadable)."""


class Interrupted(BaseException):
    """A second Ctrl-C or SIGTERM while a poll was storing what it had: stop at once. A
    BaseException, as KeyboardInterrupt is, so no `except Exception` holds it up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum
