"""Send today's digest once it is due: the callable the daemon runs on every tick.

The decision is `due.digest_due`; this adds the memory around it. The date of the last
digest sent comes from the caller's store (so a restart does not send twice), and is
also kept here, so a store that cannot be written does not turn into a digest a minute.
A failed send is remembered here only, and retried after `retry_after`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from engage.digest.due import RETRY_AFTER, digest_due, next_digest


class DailyDigest:
    """`send(now)` builds, writes and mails the digest and returns a short summary for the
    log; `last_sent()` and `mark_sent(day)` read and keep the last date in the store. `at`
    is the digest time, or a function that reads it (so an edit to feeds.yaml applies
    without a restart)."""

    def __init__(
        self,
        at: time | Callable[[], time],
        *,
        send: Callable[[datetime], str],
        last_sent: Callable[[], date | None],
        mark_sent: Callable[[date], None],
        retry_after: timedelta = RETRY_AFTER,
    ) -> None:
        self._at = at
        self._send = send
        self._last_sent = last_sent
        self._mark_sent = mark_sent
        self._retry_after = retry_after
        self._sent: date | None = None
        self._failed: datetime | None = None

    @property
    def at(self) -> time:
        return self._at if isinstance(self._at, time) else self._at()

    def last_sent(self) -> date | None:
        stored = self._last_sent()
        return max((d for d in (stored, self._sent) if d is not None), default=None)

    def __call__(self, now: datetime) -> str | None:
        """Send if due; the summary when sent, None when not due. A failure propagates
        (the daemon logs it) and holds back the next try for `retry_after`."""
        if not digest_due(
            now, self.at, self.last_sent(), last_failure=self._failed, retry_after=self._retry_after
        ):
            return None
        try:
            summary = self._send(now)
        except Exception:
            self._failed = now
            raise
        self._failed = None
        self._sent = now.date()
        # After the send: a crash between the two sends the digest again on restart,
        # which beats never sending it.
        self._mark_sent(now.date())
        return summary

    def next_due(self, now: datetime) -> datetime:
        """When the next digest will go out, for the daemon's start-up line."""
        return next_digest(
            now, self.at, self.last_sent(), last_failure=self._failed, retry_after=self._retry_after
        )
