"""The JSON-ready shapes every surface shares: `--json`, the digest and the web report's
`/api/…` produce their objects here, so the README's stable JSON interface is made in one
place. Fields may be added, never renamed or removed; times are ISO 8601 with an offset;
unknown values are null.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from engage.models import Event, EventSource, FeedState, Post, Reading, SocialAccount

if TYPE_CHECKING:
    from engage.agenda import Agenda
    from engage.app import Explanation, Introduction
    from engage.intro import IntroPath

EVENT_FIELDS = ("id", "person", "kind", "direction", "when", "url", "source", "evidence",
                "note", "created", "confirmed")  # fmt: skip


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def reading_json(reading: Reading, *, full: bool = False) -> dict[str, Any]:
    """`engage status --json`: one person's reading. `full` adds points by kind and the
    score history (what `explain` shows)."""
    data: dict[str, Any] = {
        "person": reading.person,
        "stage": reading.stage.value,
        "score": round(reading.score, 2),
        "score_in": round(reading.score_in, 2),
        "score_out": round(reading.score_out, 2),
        "score_both": round(reading.score_both, 2),
        "reason": reading.reason,
        "reasons": list(reading.reasons),
        "next_step": reading.next_step,
        "action": reading.action.value,
        "gates": [
            {"name": g.name.value, "passed": g.passed, "detail": g.detail} for g in reading.gates
        ],
        "last_contact": iso(reading.last_contact),
        "due": iso(reading.due),  # connected: when getting back in touch is due
    }
    if full:
        data["points_by_kind"] = dict(reading.points_by_kind)
        data["history"] = [[day, score] for day, score in reading.history]
    return data


def path_json(path: IntroPath) -> dict[str, Any]:
    return {
        "via": list(path.via),
        "strength": path.strength,
        "evidence": [{"text": e.text, "url": e.url} for e in path.evidence],
    }


def timeline_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind.value,
        "direction": event.direction.value,
        "when": event.when.isoformat(),
        "url": event.url,
        "note": event.note or None,
        "confirmed": event.confirmed if event.source is EventSource.AUTO else None,
    }


def explanation_json(explanation: Explanation) -> dict[str, Any]:
    """`engage explain --json`: the reading in full, the recent events, intro paths."""
    data = reading_json(explanation.reading, full=True)
    data["timeline"] = [timeline_json(e) for e in explanation.timeline]
    data["intro_paths"] = [path_json(p) for p in explanation.paths]
    data["linkedin"] = explanation.linkedin
    return data


def introduction_json(introduction: Introduction) -> dict[str, Any]:
    """`engage intro --json`. `unsupported_paths`: links too weak to recommend, each with
    what evidence is `missing`."""
    from engage.intro import missing_evidence

    return {
        "person": introduction.person.name,
        "paths": [path_json(p) for p in introduction.paths],
        "note": introduction.note,
        "contact": introduction.contact,
        "longer_paths": introduction.longer_paths,
        # Why `note` is null though paths exist: the best one is under
        # settings.meter.intro_min_strength.
        "withheld": introduction.withheld,
        "unsupported_paths": [
            {**path_json(p), "missing": missing_evidence(p)} for p in introduction.unsupported
        ],
    }


def feed_json(state: FeedState) -> dict[str, Any]:
    """`engage feeds --json`: one feed's health."""
    return {
        "url": state.url,
        "person": state.person,
        "kind": state.kind.value,
        "title": state.title,
        "status": state.status.value,
        "last_error": state.last_error,
        "last_error_type": state.last_error_type,
        "failures": state.failures,
        "last_success": iso(state.last_success),
        "last_poll": iso(state.last_poll),
        "next_check": iso(state.next_check),
        "moved_to": state.moved_to,
        "gone": state.gone,
        "discovered": state.discovered,
        "account": None,
    }


def account_json(account: SocialAccount) -> dict[str, Any]:
    """`engage feeds --json`: a Mastodon or Bluesky account, with a feed's fields (its
    profile page as the URL; `status` one a feed can have) and its own under `account`."""
    from engage.social.accounts import as_feed

    data = feed_json(as_feed(account))
    data["account"] = {
        "network": account.network.value,
        "handle": account.handle,
        "id": account.account_id,
        "api": account.api,
        "status": account.status.value,
        "wait_until": iso(account.wait_until),
    }
    return data


def post_json(post: Post) -> dict[str, Any]:
    """`engage posts --json`: one post or episode."""
    enclosure = post.enclosure
    return {
        "person": post.person,
        "feed": post.feed,
        "id": post.id,
        "link": post.link,
        "title": post.title,
        "published": iso(post.published),
        "updated": iso(post.updated),
        "author": post.author,
        "comment_count": post.comment_count,
        "enclosure": None
        if enclosure is None
        else {
            "url": enclosure.url,
            "type": enclosure.type,
            "length": enclosure.length,
            "duration_seconds": enclosure.duration_seconds,
        },
    }


def event_json(event: Event) -> dict[str, Any]:
    """`engage events --json`: one interaction."""
    return {
        "id": event.id,
        "person": event.person,
        "kind": event.kind.value,
        "direction": event.direction.value,
        "when": event.when.isoformat(),
        "url": event.url,
        "source": event.source.value,
        # No note or no evidence is unknown, hence null as the README promises, not "".
        "evidence": event.evidence or None,
        "note": event.note or None,
        "created": iso(event.created),
        # Whether a detection is confirmed (an author URL, the blog's own feed, a trusted
        # name, or the user's review); null for what the user logged by hand.
        "confirmed": event.confirmed if event.source is EventSource.AUTO else None,
    }


def agenda_json(agenda: Agenda) -> dict[str, Any]:
    """The digest's content, for `engage digest --json` and the web report."""
    return {
        "day": agenda.day.isoformat(),
        "at": agenda.now.isoformat(),
        "since": agenda.since.isoformat(),
        "headline": agenda.headline(),
        "ready": [
            {
                "reading": reading_json(item.reading),
                "thread": event_json(item.thread) if item.thread else None,
                "draft": item.draft,
            }
            for item in agenda.ready
        ],
        "follow_ups": [
            {
                "person": item.person,
                "action": item.action.value,
                "due": item.obligation.due.isoformat(),
                "overdue": round(item.obligation.overdue(agenda.now), 2),
                "event": event_json(item.obligation.event),
                "next_step": item.reading.next_step,
            }
            for item in agenda.follow_ups
        ],
        "posts": [
            {"post": post_json(pick.post), "score": pick.score, "reason": pick.reason}
            for pick in agenda.posts
        ],
        "intros": [
            {"person": item.person, "path": path_json(item.path)} for item in agenda.intros
        ],
        "going_cold": [
            {
                "reading": reading_json(item.reading),
                "newest_post": post_json(item.newest_post) if item.newest_post else None,
            }
            for item in agenda.going_cold
        ],
        "feeds": [
            {
                "feed": feed_json(item.feed),
                "problem": item.problem,
                "detail": item.detail,
                "fix": item.fix,
            }
            for item in agenda.feeds
        ],
        "notes": list(agenda.notes),
    }
