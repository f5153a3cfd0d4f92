"""Mastodon API JSON -> our own values.

Pure. Reads the documented shapes of `GET /api/v1/accounts/lookup` (an Account) and
`GET /api/v1/accounts/:id/statuses` (a list of Status), and the `Link` header that pages
through the second. Nothing is trusted: a status with a missing or malformed field the
detection needs is skipped with a reason, never a crash, and the rest are kept.

Account ids are numbers an instance gives out for itself: the same person has one id on
their own server and another on mine. So a Status keeps, beside ids, the `acct` of every
account it names (`dana` for the instance's own users, `dana@host` for others), and the
detection can match people by address when it does not know their id there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engage.social.reading import (
    field,
    html_snippet,
    http_url,
    load_json,
    parse_time,
    text_field,
)

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL = re.compile(r"""\brel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.IGNORECASE)


@dataclass(frozen=True)
class Account:
    """An account as one instance describes it."""

    id: str  # this instance's id for it
    acct: str  # "dana" (the instance's own user) or "dana@social.example.org"
    url: str | None = None  # the profile page
    moved_to: str | None = None  # the acct of the account it moved to, if it moved
    suspended: bool = False


@dataclass(frozen=True)
class Mention:
    id: str
    acct: str


@dataclass(frozen=True)
class Boosted:
    """The status a boost shares."""

    uri: str
    url: str  # its web page (the uri when the server gave no page)
    account_id: str
    account_acct: str
    text: str


@dataclass(frozen=True)
class Status:
    """One status as one instance describes it: ids are that instance's."""

    id: str  # for since_id / max_id
    uri: str  # the ActivityPub id: the same on every instance, hence our identity for it
    url: str  # its web page (the uri when the server gave no page)
    account_id: str
    account_acct: str
    created: datetime  # aware, UTC
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    mentions: tuple[Mention, ...] = ()
    boosted: Boosted | None = None  # set when this status is a boost
    text: str = ""  # plain snippet; a content warning's text instead of what it hides


@dataclass(frozen=True)
class AccountReading:
    account: Account | None
    error: str | None = None  # why the body could not be read as an account


@dataclass(frozen=True)
class StatusesReading:
    statuses: tuple[Status, ...] = ()
    skipped: tuple[str, ...] = ()  # one reason per status that could not be read
    error: str | None = None  # why the body could not be read at all


def read_account(body: bytes) -> AccountReading:
    data, error = load_json(body)
    if error is not None:
        return AccountReading(None, error)
    account, reason = _account(data)
    return AccountReading(account, reason)


def read_statuses(body: bytes) -> StatusesReading:
    data, error = load_json(body)
    if error is not None:
        return StatusesReading(error=error)
    if not isinstance(data, list):
        return StatusesReading(error="the response is not a list of statuses")
    statuses: list[Status] = []
    skipped: list[str] = []
    for index, item in enumerate(data):
        status, reason = _status(item)
        if status is not None:
            statuses.append(status)
        else:
            skipped.append(f"status {text_field(item, 'id') or '#' + str(index + 1)}: {reason}")
    return StatusesReading(tuple(statuses), tuple(skipped))


def api_error(body: bytes | None) -> str | None:
    """The `error` text of an error response ({"error": "Record not found"}), one line."""
    data, _ = load_json(body or b"")
    message = text_field(data, "error")
    return " ".join(message.split())[:200] if message else None


def next_link(header: str | None) -> str | None:
    """The rel="next" target of a Link header (RFC 8288), as Mastodon pages with it."""
    if not header:
        return None
    for match in _LINK.finditer(header):
        for rel in _REL.finditer(match.group(2)):
            names = (rel.group(1) or rel.group(2) or "").lower().split()
            if "next" in names:
                return http_url(match.group(1).strip())
    return None


def newest_id(ids: list[str]) -> str | None:
    """The newest of some status ids: Mastodon's are growing numbers, as strings (other
    servers' are sortable strings of one length), so longer means newer, then larger."""
    return max(ids, key=lambda i: (len(i), i), default=None)


# ---------------------------------------------------------------------------


def _account(data: object) -> tuple[Account | None, str | None]:
    if not isinstance(data, dict):
        return None, "not an account object"
    account_id = text_field(data, "id")
    acct = text_field(data, "acct")
    if account_id is None or acct is None:
        return None, "an account without id or acct"
    moved = field(data, "moved")
    return (
        Account(
            id=account_id,
            acct=acct,
            url=http_url(field(data, "url")),
            moved_to=text_field(moved, "acct"),
            suspended=field(data, "suspended") is True,
        ),
        None,
    )


def _status(item: object) -> tuple[Status | None, str | None]:
    if not isinstance(item, dict):
        return None, "not a status object"
    core, reason = _core(item)
    if core is None:
        return None, reason
    boosted: Boosted | None = None
    inner = field(item, "reblog")
    if inner is not None:
        shared, reason = _core(inner)
        if shared is None:
            return None, f"a boost of an unreadable status ({reason})"
        boosted = Boosted(
            uri=shared.uri,
            url=shared.url,
            account_id=shared.account_id,
            account_acct=shared.account_acct,
            text=_snippet(inner),
        )
    return (
        Status(
            id=core.id,
            uri=core.uri,
            url=core.url,
            account_id=core.account_id,
            account_acct=core.account_acct,
            created=core.created,
            in_reply_to_id=text_field(item, "in_reply_to_id"),
            in_reply_to_account_id=text_field(item, "in_reply_to_account_id"),
            mentions=_mentions(field(item, "mentions")),
            boosted=boosted,
            text="" if boosted else _snippet(item),
        ),
        None,
    )


@dataclass(frozen=True)
class _Core:
    id: str
    uri: str
    url: str
    account_id: str
    account_acct: str
    created: datetime


def _core(item: Any) -> tuple[_Core | None, str | None]:
    """The fields every status we use must have, or why it lacks them."""
    if not isinstance(item, dict):
        return None, "not a status object"
    status_id = text_field(item, "id")
    if status_id is None:
        return None, "no id"
    uri = http_url(field(item, "uri"))
    if uri is None:
        return None, "no http(s) uri"
    created = parse_time(field(item, "created_at"))
    if created is None:
        return None, f"no readable created_at ({str(field(item, 'created_at'))[:40]!r})"
    account = field(item, "account")
    account_id = text_field(account, "id")
    account_acct = text_field(account, "acct")
    if account_id is None or account_acct is None:
        return None, "no account id or acct"
    url = http_url(field(item, "url")) or uri
    return _Core(status_id, uri, url, account_id, account_acct, created), None


def _mentions(value: object) -> tuple[Mention, ...]:
    if not isinstance(value, list):
        return ()
    found: list[Mention] = []
    for item in value:
        mention_id = text_field(item, "id")
        acct = text_field(item, "acct")
        if mention_id is not None and acct is not None:
            found.append(Mention(mention_id, acct))
    return tuple(found)


def _snippet(item: object) -> str:
    # A content warning hides the text on purpose: the digest shows the warning instead.
    warning = text_field(item, "spoiler_text")
    if warning:
        return f"[CW: {html_snippet(warning, 100)}]"
    content = field(item, "content")
    if isinstance(content, str):
        return html_snippet(content)
    text = field(item, "text")  # what a deleted status comes back with
    return html_snippet(text) if isinstance(text, str) else ""
