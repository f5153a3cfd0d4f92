"""The once-a-day sender the daemon calls on every tick, with an invented clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from engage.digest.daily import DailyDigest
from engage.errors import EngageError

TZ = timezone(timedelta(hours=1))
MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=TZ)


class Store:
    """The store's part: the date of the last digest, and a switch to make writes fail."""

    def __init__(self, last: date | None = None) -> None:
        self.last = last
        self.broken = False

    def get(self) -> date | None:
        return self.last

    def put(self, day: date) -> None:
        if self.broken:
            raise OSError("disk full")
        self.last = day


class Mailer:
    def __init__(self) -> None:
        self.sent: list[datetime] = []
        self.failing = False

    def __call__(self, now: datetime) -> str:
        if self.failing:
            raise EngageError("e-mail not sent: smtp.example.net:587: login refused")
        self.sent.append(now)
        return "sent"


def daily(store: Store, mailer: Mailer) -> DailyDigest:
    return DailyDigest(time(7, 30), send=mailer, last_sent=store.get, mark_sent=store.put)


def ticks(start: datetime, hours: float, every: timedelta = timedelta(minutes=1)) -> list[datetime]:
    count = int(timedelta(hours=hours) / every)
    return [start + n * every for n in range(count)]


def test_a_week_of_minute_ticks_sends_seven_digests_each_at_its_time() -> None:
    store, mailer = Store(), Mailer()
    digest = daily(store, mailer)
    results = [digest(now) for now in ticks(MONDAY, 7 * 24)]
    assert mailer.sent == [MONDAY + timedelta(days=n, hours=7, minutes=30) for n in range(7)]
    assert results.count("sent") == 7 and set(results) == {None, "sent"}
    assert store.last == date(2026, 3, 8)


def test_a_restart_after_sending_does_not_send_again() -> None:
    store, mailer = Store(), Mailer()
    daily(store, mailer)(MONDAY.replace(hour=9))
    again = daily(store, mailer)  # a new process: only the store remembers
    assert [again(now) for now in ticks(MONDAY.replace(hour=9, minute=1), 14)] == [None] * 840
    assert len(mailer.sent) == 1


def test_a_store_that_cannot_be_written_does_not_mean_a_digest_a_minute() -> None:
    store, mailer = Store(), Mailer()
    store.broken = True
    digest = daily(store, mailer)
    with pytest.raises(OSError):
        digest(MONDAY.replace(hour=8))  # sent, but the date could not be kept
    assert [digest(now) for now in ticks(MONDAY.replace(hour=8, minute=1), 3)] == [None] * 180
    assert len(mailer.sent) == 1


def test_a_failed_send_is_retried_every_quarter_hour_until_it_works() -> None:
    store, mailer = Store(), Mailer()
    mailer.failing = True
    digest = daily(store, mailer)
    attempts: list[datetime] = []
    for now in ticks(MONDAY.replace(hour=7, minute=30), 1):
        try:
            digest(now)
        except EngageError:
            attempts.append(now)
    at = MONDAY.replace(hour=7, minute=30)
    assert attempts == [at + timedelta(minutes=15 * n) for n in range(4)]
    assert digest.next_due(at + timedelta(minutes=50)) == at + timedelta(minutes=60)
    mailer.failing = False
    assert digest(at + timedelta(minutes=59)) is None
    assert digest(at + timedelta(minutes=60)) == "sent"
    assert store.last == MONDAY.date()
    assert digest.next_due(at + timedelta(minutes=61)) == at + timedelta(days=1)


def test_the_digest_time_can_be_read_afresh_on_every_tick() -> None:
    store, mailer = Store(), Mailer()
    setting = [time(7, 30)]
    digest = DailyDigest(lambda: setting[0], send=mailer, last_sent=store.get, mark_sent=store.put)
    assert digest(MONDAY.replace(hour=7, minute=45)) == "sent"
    setting[0] = time(6, 0)  # feeds.yaml edited while the daemon runs
    assert digest(MONDAY.replace(hour=6, minute=0) + timedelta(days=1)) == "sent"
    assert [m.date() for m in mailer.sent] == [date(2026, 3, 2), date(2026, 3, 3)]
