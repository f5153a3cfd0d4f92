"""Mastodon and Bluesky JSON -> our values: the recorded shapes read field by field, and
every damaged shape skipped with a reason, never a crash."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage.social import bluesky, mastodon
from engage.social.limits import RateLimit, read_rate_limit, wait_until
from engage.social.reading import cut, html_snippet, parse_time

DATA = Path(__file__).resolve().parent / "data" / "social"
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def body(data: object) -> bytes:
    return json.dumps(data).encode()


# ---------------------------------------------------------------------------
# Mastodon, from the recorded responses


def test_a_recorded_account_lookup() -> None:
    reading = mastodon.read_account(body(load("mastodon_account.json")))
    assert reading == mastodon.AccountReading(
        mastodon.Account(
            id="109440137734600341",
            acct="mastodonpy_test",
            url="http://localhost:3000/@mastodonpy_test",
        )
    )


def test_a_recorded_reply() -> None:
    reading = mastodon.read_statuses(body([load("mastodon_status_reply.json")]))
    assert reading.skipped == () and reading.error is None
    assert reading.statuses == (
        mastodon.Status(
            id="109440142475488149",
            uri="http://localhost:3000/users/mastodonpy_test/statuses/109440142475488149",
            url="http://localhost:3000/@mastodonpy_test/109440142475488149",
            account_id="109440137734600341",
            account_acct="mastodonpy_test",
            created=datetime(2022, 12, 1, 19, 47, 29, 4000, tzinfo=UTC),
            in_reply_to_id="109440142472665266",
            in_reply_to_account_id="109440137734600341",
            text="Reply!",
        ),
    )


def test_a_recorded_boost_names_what_and_whose() -> None:
    (status,) = mastodon.read_statuses(body([load("mastodon_status_reblog.json")])).statuses
    assert status.uri.endswith("/statuses/109440142486581428/activity")
    assert status.created == datetime(2022, 12, 1, 19, 47, 29, 173000, tzinfo=UTC)
    assert status.text == ""
    assert status.boosted == mastodon.Boosted(
        uri="http://localhost:3000/users/mastodonpy_test/statuses/109440142482846015",
        url="http://localhost:3000/@mastodonpy_test/109440142482846015",
        account_id="109440137734600341",
        account_acct="mastodonpy_test",
        text="Toot!",
    )


def test_mentions_content_warnings_and_html_become_plain_values() -> None:
    status = load("mastodon_status_reply.json")
    status["mentions"] = [
        {
            "id": "7",
            "username": "sam",
            "url": "https://m.example.net/@sam",
            "acct": "sam@m.example.net",
        },
        {"id": 8, "acct": "lee"},  # a number for an id: some servers send one
        {"acct": "no-id"},
        "not a mention",
    ]
    status["content"] = (
        '<p><span class="h-card"><a href="https://m.example.net/@sam" class="u-url mention">'
        "@<span>sam</span></a></span> A &amp; B<br>C</p><p>D<script>alert(1)</script></p>"
    )
    (read,) = mastodon.read_statuses(body([status])).statuses
    assert read.mentions == (
        mastodon.Mention("7", "sam@m.example.net"),
        mastodon.Mention("8", "lee"),
    )
    assert read.text == "@sam A & B C D"
    status["spoiler_text"] = "politics"
    (read,) = mastodon.read_statuses(body([status])).statuses
    assert read.text == "[CW: politics]"  # what the warning hides stays hidden


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"id": None}, "no id", id="no id"),
        pytest.param({"uri": "javascript:alert(1)"}, "no http(s) uri", id="a uri that is no URL"),
        pytest.param(
            {"created_at": "yesterday"}, "no readable created_at ('yesterday')", id="time"
        ),
        pytest.param(
            {"created_at": 1700000000}, "no readable created_at ('1700000000')", id="a number"
        ),
        pytest.param({"account": {"id": "1"}}, "no account id or acct", id="account without acct"),
        pytest.param({"account": []}, "no account id or acct", id="account of the wrong type"),
        pytest.param(
            {"reblog": {"id": "9"}}, "a boost of an unreadable status (no http(s) uri)", id="boost"
        ),
    ],
)
def test_a_damaged_status_is_skipped_with_its_reason_and_the_rest_kept(
    change: dict[str, Any], reason: str
) -> None:
    good = load("mastodon_status_reply.json")
    bad = {**copy.deepcopy(good), **change}
    reading = mastodon.read_statuses(body([bad, good]))
    assert [s.id for s in reading.statuses] == ["109440142475488149"]
    assert len(reading.skipped) == 1 and reading.skipped[0].endswith(": " + reason)


def test_a_status_url_that_is_not_http_falls_back_to_its_uri() -> None:
    status = load("mastodon_status_reply.json") | {"url": "javascript:alert(1)"}
    (read,) = mastodon.read_statuses(body([status])).statuses
    assert read.url == read.uri


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", "the response was empty"),
        (b"<html>login</html>", "the response is not JSON"),
        (b'{"error": "x"}', "the response is not a list of statuses"),
    ],
)
def test_a_body_that_is_no_status_list_is_one_error(raw: bytes, error: str) -> None:
    reading = mastodon.read_statuses(raw)
    assert reading.statuses == () and reading.error is not None and reading.error.startswith(error)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            "<http://localhost:3000/api/v1/accounts/1/statuses?limit=5&max_id=9>;\n"
            ' rel="next", <http://localhost:3000/api/v1/accounts/1/statuses?limit=5&min_id=20>;'
            ' rel="prev"',
            "http://localhost:3000/api/v1/accounts/1/statuses?limit=5&max_id=9",
            id="as recorded: next, then prev",
        ),
        pytest.param('<https://a.example/p?min_id=2>; rel="prev"', None, id="only prev"),
        pytest.param("<https://a.example/n>; rel=next", "https://a.example/n", id="unquoted rel"),
        pytest.param(
            '<https://a.example/n>; title="x"; rel="last next"',
            "https://a.example/n",
            id="two rels",
        ),
        pytest.param('<javascript:alert(1)>; rel="next"', None, id="not http"),
        pytest.param("garbage", None, id="garbage"),
        pytest.param(None, None, id="no header"),
    ],
)
def test_the_next_page_from_a_link_header(header: str | None, expected: str | None) -> None:
    assert mastodon.next_link(header) == expected


def test_the_newest_of_some_ids_is_the_longest_then_largest() -> None:
    assert (
        mastodon.newest_id(["99", "110000000000000001", "109999999999999999"])
        == "110000000000000001"
    )
    assert mastodon.newest_id([]) is None


def test_an_error_body_is_one_line() -> None:
    assert mastodon.api_error(body(load("mastodon_error_not_found.json"))) == "Record not found"
    assert mastodon.api_error(b"<html>") is None


# ---------------------------------------------------------------------------
# Bluesky, from the lexicon shapes

SAM = "did:plc:sam2sam2sam2sam2sam2sam2"
DANA = "did:plc:danadanadanadanadanadana"


def test_a_profile_gives_its_did_and_handle() -> None:
    reading = bluesky.read_profile(body(load("bluesky_profile.json")))
    assert reading.profile == bluesky.Profile(DANA, "dana.example.org")
    unverified = load("bluesky_profile.json") | {"handle": "handle.invalid"}
    assert bluesky.read_profile(body(unverified)).profile == bluesky.Profile(DANA, None)
    assert bluesky.read_profile(body({"handle": "x.example.org"})).error == "the profile has no DID"


def test_a_reply_post_reads_its_parent_mentions_and_time() -> None:
    item = load("bluesky_feed_view_post.json")
    reading = bluesky.read_feed(body({"feed": [item], "cursor": "2026-11-03T14:15:00.000Z"}))
    assert reading.cursor == "2026-11-03T14:15:00.000Z" and reading.skipped == ()
    assert reading.items == (
        bluesky.FeedItem(
            bluesky.Post(
                uri=f"at://{DANA}/app.bsky.feed.post/3m4bcdefghi2a",
                url="https://bsky.app/profile/dana.example.org/post/3m4bcdefghi2a",
                author_did=DANA,
                # the record's createdAt, earlier than the AppView's indexedAt (14:15:01.123)
                created=datetime(2026, 11, 3, 14, 15, tzinfo=UTC),
                is_reply=True,
                reply_parent_uri=f"at://{SAM}/app.bsky.feed.post/3m4aaaaaaaa2a",
                reply_parent_did=SAM,
                mentions=(SAM,),
                text="Thanks @sam.example.net, that is how I see it too.",
            )
        ),
    )


def test_a_post_dated_in_the_future_takes_the_time_the_appview_saw_it() -> None:
    item = load("bluesky_feed_view_post.json")
    item["post"]["record"]["createdAt"] = "2031-01-01T00:00:00Z"
    (read,) = bluesky.read_feed(body({"feed": [item]})).items
    assert read.post.created == datetime(2026, 11, 3, 14, 15, 1, 123000, tzinfo=UTC)


def test_a_repost_says_who_reposted_it_and_when() -> None:
    item = load("bluesky_feed_view_post.json") | {"reason": load("bluesky_reason_repost.json")}
    (read,) = bluesky.read_feed(body({"feed": [item]})).items
    assert read.reposted_by == DANA
    assert read.reposted_at == read.when == datetime(2026, 11, 7, 12, 0, tzinfo=UTC)
    assert read.repost_uri == f"at://{DANA}/app.bsky.feed.repost/3m4zzzzzzzz2a"


def test_a_handle_the_appview_could_not_verify_gives_a_did_url() -> None:
    item = load("bluesky_feed_view_post.json")
    item["post"]["author"]["handle"] = "handle.invalid"
    (read,) = bluesky.read_feed(body({"feed": [item]})).items
    assert read.post.url == f"https://bsky.app/profile/{DANA}/post/3m4bcdefghi2a"


def _damage(item: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    target = item
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        pytest.param(("post",), None, "no post object", id="no post"),
        pytest.param(
            ("post", "uri"), "https://bsky.app/x", "no post at:// uri", id="uri not at://"
        ),
        pytest.param(
            ("post", "uri"),
            f"at://{DANA}/app.bsky.feed.like/3m4",
            "no post at:// uri",
            id="another collection",
        ),
        pytest.param(
            ("post", "author", "did"),
            SAM,
            "the uri does not belong to the post's author",
            id="author",
        ),
        pytest.param(("post", "record"), "text", "no post record", id="record of the wrong type"),
        pytest.param(
            ("post", "record", "$type"),
            "app.bsky.feed.like",
            "no post record",
            id="not a post record",
        ),
        pytest.param(
            ("post", "indexedAt"), "soon", "no readable createdAt or indexedAt", id="no time"
        ),
        pytest.param(
            ("reason",),
            {"$type": "app.bsky.feed.defs#reasonRepost", "by": {}},
            "a repost without who or when",
            id="a repost without who",
        ),
    ],
)
def test_a_damaged_feed_item_is_skipped_with_its_reason(
    path: tuple[str, ...], value: object, reason: str
) -> None:
    good = load("bluesky_feed_view_post.json")
    bad = copy.deepcopy(good)
    if path == ("post", "indexedAt"):
        bad["post"]["record"]["createdAt"] = "later"
    _damage(bad, path, value)
    reading = bluesky.read_feed(body({"feed": [bad, good]}))
    assert len(reading.items) == 1
    assert len(reading.skipped) == 1 and reading.skipped[0].endswith(": " + reason)


def test_facets_that_are_not_mentions_or_not_dids_mention_nobody() -> None:
    item = load("bluesky_feed_view_post.json")
    item["post"]["record"]["facets"] = [
        {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://x.example"}]},
        {"features": [{"$type": "app.bsky.richtext.facet#mention", "did": "sam.example.net"}]},
        {"features": "x"},
        "x",
    ]
    (read,) = bluesky.read_feed(body({"feed": [item]})).items
    assert read.post.mentions == ()


def test_xrpc_errors() -> None:
    assert bluesky.xrpc_error(body(load("bluesky_error_takedown.json"))) == (
        "AccountTakedown",
        "Account has been suspended",
    )
    assert bluesky.xrpc_error(b"Bad Gateway") == (None, None)


# ---------------------------------------------------------------------------
# Untrusted shapes: any JSON at all reads as values or reasons, never an exception

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
_keys = st.sampled_from(
    ["id", "uri", "url", "created_at", "account", "acct", "reblog", "mentions", "content",
     "in_reply_to_id", "in_reply_to_account_id", "spoiler_text", "post", "reason", "record",
     "author", "did", "handle", "indexedAt", "createdAt", "reply", "parent", "facets",
     "features", "$type", "feed", "cursor", "text"]
)  # fmt: skip
_shaped = st.recursive(
    st.none() | st.text(max_size=40) | st.integers() | st.sampled_from(
        ["2026-11-03T14:15:00Z", f"at://{DANA}/app.bsky.feed.post/3m4", "https://a.example/x",
         "app.bsky.feed.defs#reasonRepost", "app.bsky.richtext.facet#mention", DANA]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=8),
    max_leaves=40,
)  # fmt: skip


@settings(deadline=None)  # a slow shared machine is no bug: no time limit
@given(st.one_of(_json, _shaped))
def test_any_json_reads_without_an_exception(data: object) -> None:
    # The stdlib writes what orjson would refuse (integers past 64 bits, Infinity): the
    # readers get those too.
    raw = json.dumps(data).encode()
    for reading in (
        mastodon.read_statuses(raw),
        mastodon.read_statuses(json.dumps([data]).encode()),
        mastodon.read_account(raw),
        bluesky.read_feed(raw),
        bluesky.read_feed(json.dumps({"feed": [data]}).encode()),
        bluesky.read_profile(raw),
    ):
        assert reading is not None
    mastodon.api_error(raw)
    bluesky.xrpc_error(raw)


@settings(deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_read_without_an_exception(raw: bytes) -> None:
    assert mastodon.read_statuses(raw).statuses == () or raw.strip().startswith(b"[")
    bluesky.read_feed(raw)


# ---------------------------------------------------------------------------
# Text, times and rate limits


def test_snippets_are_plain_one_line_and_digest_sized() -> None:
    assert html_snippet("<p>a\u202eb</p>\n<p>\x00c</p>") == "ab c"
    long = html_snippet("<p>" + "word " * 200 + "</p>")
    assert len(long) <= 280 and long.endswith("word…")
    assert cut("short", 10) == "short"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-03T14:15:00.000Z", datetime(2026, 11, 3, 14, 15, tzinfo=UTC)),
        ("2026-11-03T15:15:00+01:00", datetime(2026, 11, 3, 14, 15, tzinfo=UTC)),
        ("2026-11-03T14:15:00", datetime(2026, 11, 3, 14, 15, tzinfo=UTC)),  # no zone: UTC
        ("2026-11-03T14:15:00.123456789Z", datetime(2026, 11, 3, 14, 15, 0, 123456, tzinfo=UTC)),
        ("2026-11-03", None),  # a day is not a moment
        ("0001-01-01T00:00:00+01:00", None),
        ("yesterday", None),
        (1700000000, None),
        ("2026-11-03T14:15:00Z" + " " * 100, None),
    ],
)
def test_times(text: object, expected: datetime | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        pytest.param(
            200,
            {"x-ratelimit-remaining": "289", "x-ratelimit-reset": "2026-11-10T12:05:00.031184Z"},
            None,
            id="calls left: no wait",
        ),
        pytest.param(
            200,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "2026-11-10T12:05:00.031184Z"},
            datetime(2026, 11, 10, 12, 5, 0, 31184, tzinfo=UTC),
            id="Mastodon: none left, wait for the ISO reset",
        ),
        pytest.param(
            200,
            {"ratelimit-remaining": "0", "ratelimit-reset": str(int(NOW.timestamp()) + 300)},
            NOW + timedelta(minutes=5),
            id="Bluesky: none left, wait for the Unix-time reset",
        ),
        pytest.param(
            200,
            {"ratelimit-remaining": "0", "ratelimit-reset": "120"},
            NOW + timedelta(minutes=2),
            id="IETF draft: reset in seconds from now",
        ),
        pytest.param(
            429,
            {"retry-after": "60", "x-ratelimit-reset": "2026-11-10T13:00:00Z"},
            NOW + timedelta(minutes=1),
            id="429: Retry-After wins",
        ),
        pytest.param(
            429,
            {"x-ratelimit-reset": "2026-11-10T13:00:00Z"},
            datetime(2026, 11, 10, 13, 0, tzinfo=UTC),
            id="429: else the reset",
        ),
        pytest.param(429, {}, NOW + timedelta(minutes=15), id="429 that says nothing"),
        pytest.param(
            429,
            {"x-ratelimit-reset": "2099-01-01T00:00:00Z"},
            NOW + timedelta(days=7),
            id="capped at 7 days",
        ),
        pytest.param(
            429,
            {"x-ratelimit-reset": "2020-01-01T00:00:00Z"},
            NOW,
            id="a reset in the past means now",
        ),
        pytest.param(503, {}, None, id="503 without Retry-After: no wait asked"),
        pytest.param(
            200,
            {"x-ratelimit-remaining": "zero", "x-ratelimit-reset": "soon"},
            None,
            id="garbage headers ask nothing",
        ),
        pytest.param(
            200,
            {"ratelimit-remaining": "0", "ratelimit-reset": "9" * 30},
            NOW + timedelta(days=7),
            id="an absurd reset is capped, not an overflow",
        ),
    ],
)
def test_when_the_server_wants_us_back(
    status: int, headers: dict[str, str], expected: datetime | None
) -> None:
    assert wait_until(status, headers, NOW) == expected


def test_a_rate_limit_reading() -> None:
    headers = {"x-ratelimit-remaining": "0, 10", "x-ratelimit-reset": "2026-11-10T12:05:00Z"}
    assert read_rate_limit(headers, NOW) == RateLimit(0, datetime(2026, 11, 10, 12, 5, tzinfo=UTC))
    assert read_rate_limit({}, NOW) == RateLimit()
