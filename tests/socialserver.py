"""A local threaded HTTP server speaking the Mastodon API and the Bluesky AppView's XRPC,
with the documented response shapes, for tests over real HTTP.

Response bodies start from recorded Mastodon responses and lexicon-shaped Bluesky ones
(tests/data/social/, see its README): the server copies them and fills in ids, times,
text, mentions and accounts, so each answer carries every field a real server sends.

What a real server does that the client must cope with, each switchable per server:
pages (Mastodon's `Link: <…>; rel="next"`, Bluesky's `cursor`), `since_id`, rate limits
(`X-RateLimit-*` / `RateLimit-*` headers, and 429 once the calls allowed are used up),
an instance that refuses anonymous API calls (401), and accounts that are gone. A
Mastodon instance also serves each account's profile feed (`/@user.rss`: its public
posts, no replies, no boosts), which stays public when the API refuses anonymous calls.

`mastodon_world()` and `bluesky_world()` hold one conversation between me (Sam) and Dana,
with a reply to someone else (Lee) that must not count; tests/test_social_client.py
states, by reading them, the events they must give.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from feedserver import ServerThread

DATA = Path(__file__).resolve().parent / "data" / "social"


def _template(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# Mastodon


@dataclass
class MastodonAccount:
    """An account as one instance knows it: `id` is that instance's id for it."""

    id: str
    username: str
    domain: str  # the account's home server
    display_name: str = ""

    def acct_on(self, instance: str) -> str:
        return self.username if self.domain == instance else f"{self.username}@{self.domain}"


@dataclass
class Toot:
    """A status as one instance serves it. A copy of a status from another server has this
    instance's `id` and the origin's `origin_id` (its uri and url are the origin's)."""

    id: str
    author: MastodonAccount
    created: str  # "2026-11-03T14:15:00.000Z", as Mastodon writes it
    text: str = ""
    origin_id: str | None = None
    in_reply_to: tuple[str, str] | None = None  # (status id, account id) on this instance
    mentions: tuple[MastodonAccount, ...] = ()
    boost_of: Toot | None = None
    spoiler: str = ""

    @property
    def uri(self) -> str:
        base = f"https://{self.author.domain}/users/{self.author.username}/statuses/"
        return base + (self.origin_id or self.id) + ("/activity" if self.boost_of else "")

    @property
    def url(self) -> str:
        if self.boost_of:
            return self.uri  # a boost has no page of its own (as recorded)
        return f"https://{self.author.domain}/@{self.author.username}/{self.origin_id or self.id}"


@dataclass
class MastodonInstance:
    domain: str
    accounts: list[MastodonAccount]
    toots: list[Toot]
    page_size: int = 40  # the most one page holds, whatever `limit` asks
    gone: set[str] = field(default_factory=set)  # account ids answered with 410
    link_base: str | None = None  # a host to point Link headers at, instead of this one

    def find(self, acct: str) -> MastodonAccount | None:
        user, _, domain = acct.lstrip("@").partition("@")
        for account in self.accounts:
            if (
                account.username.casefold() == user.casefold()
                and account.domain.casefold() == (domain or self.domain).casefold()
            ):
                return account
        return None

    def account_json(self, account: MastodonAccount) -> dict[str, Any]:
        data = _template("mastodon_account.json")
        data.update(
            id=account.id,
            username=account.username,
            acct=account.acct_on(self.domain),
            display_name=account.display_name or account.username,
            url=f"https://{account.domain}/@{account.username}",
            statuses_count=sum(1 for t in self.toots if t.author is account),
        )
        return dict(data)

    def status_json(self, toot: Toot) -> dict[str, Any]:
        data = copy.deepcopy(
            _template(
                "mastodon_status_reblog.json" if toot.boost_of else "mastodon_status_reply.json"
            )
        )
        data.update(
            id=toot.id,
            created_at=toot.created,
            uri=toot.uri,
            url=toot.url,
            account=self.account_json(toot.author),
            in_reply_to_id=toot.in_reply_to[0] if toot.in_reply_to else None,
            in_reply_to_account_id=toot.in_reply_to[1] if toot.in_reply_to else None,
            spoiler_text=toot.spoiler,
            sensitive=bool(toot.spoiler),
            mentions=[
                {
                    "id": m.id,
                    "username": m.username,
                    "url": f"https://{m.domain}/@{m.username}",
                    "acct": m.acct_on(self.domain),
                }
                for m in toot.mentions
            ],
        )
        if toot.boost_of:
            data["content"] = ""
            data["reblog"] = self.status_json(toot.boost_of)
        else:
            data["content"] = _toot_html(toot, self.domain)
            data["reblog"] = None
        return dict(data)


def _toot_html(toot: Toot, domain: str) -> str:
    """Content the way Mastodon renders it: mentions as h-card links, paragraphs."""
    cards = " ".join(
        f'<span class="h-card" translate="no"><a href="https://{m.domain}/@{m.username}" '
        f'class="u-url mention">@<span>{m.username}</span></a></span>'
        for m in toot.mentions
    )
    body = toot.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<p>{cards + ' ' if cards else ''}{body}</p>"


# ---------------------------------------------------------------------------
# Bluesky


@dataclass
class BskyAccount:
    did: str
    handle: str
    display_name: str = ""
    gone: str | None = None  # the XRPC error getProfile answers, e.g. "AccountTakedown"


@dataclass
class BskyPost:
    rkey: str
    author: BskyAccount
    created: str  # the record's createdAt, as the poster's client wrote it
    text: str = ""
    reply_to: BskyPost | None = None
    mentions: tuple[BskyAccount, ...] = ()
    indexed: str | None = None  # the AppView's indexedAt (default: one second after created)

    @property
    def uri(self) -> str:
        return f"at://{self.author.did}/app.bsky.feed.post/{self.rkey}"

    @property
    def root(self) -> BskyPost:
        """The first post of its thread."""
        return self if self.reply_to is None else self.reply_to.root

    @property
    def indexed_at(self) -> str:
        if self.indexed:
            return self.indexed
        return _iso(_time(self.created) + timedelta(seconds=1))

    @property
    def sort_at(self) -> datetime:
        return min(_time(self.created), _time(self.indexed_at))


@dataclass
class BskyRepost:
    rkey: str
    by: BskyAccount
    post: BskyPost
    indexed: str

    @property
    def sort_at(self) -> datetime:
        return _time(self.indexed)


@dataclass
class AppView:
    accounts: list[BskyAccount]
    posts: list[BskyPost]
    reposts: list[BskyRepost] = field(default_factory=list)
    page_size: int = 50

    def find(self, actor: str) -> BskyAccount | None:
        for account in self.accounts:
            if actor.lower() in (account.did, account.handle.lower()):
                return account
        return None

    def profile_json(self, account: BskyAccount) -> dict[str, Any]:
        data = _template("bluesky_profile.json")
        data.update(
            did=account.did,
            handle=account.handle,
            displayName=account.display_name,
            postsCount=sum(1 for p in self.posts if p.author is account),
        )
        return dict(data)

    def author_json(self, account: BskyAccount) -> dict[str, Any]:
        data = _template("bluesky_feed_view_post.json")["post"]["author"]
        data.update(did=account.did, handle=account.handle, displayName=account.display_name)
        return dict(data)

    def post_json(self, post: BskyPost) -> dict[str, Any]:
        data = copy.deepcopy(_template("bluesky_feed_view_post.json")["post"])
        record = data["record"]
        record["createdAt"] = post.created
        record["text"] = post.text
        facets = []
        for mentioned in post.mentions:
            name = f"@{mentioned.handle}"
            start = post.text.encode().find(name.encode())
            facets.append(
                {
                    "$type": "app.bsky.richtext.facet",
                    "index": {"byteStart": max(start, 0), "byteEnd": max(start, 0) + len(name)},
                    "features": [
                        {"$type": "app.bsky.richtext.facet#mention", "did": mentioned.did}
                    ],
                }
            )
        if facets:
            record["facets"] = facets
        else:
            record.pop("facets", None)
        if post.reply_to is not None:
            root = post.root
            record["reply"] = {
                "root": {"cid": f"bafyrei{root.rkey}", "uri": root.uri},
                "parent": {"cid": f"bafyrei{post.reply_to.rkey}", "uri": post.reply_to.uri},
            }
        else:
            record.pop("reply", None)
        data.update(
            uri=post.uri,
            cid=f"bafyrei{post.rkey}",
            author=self.author_json(post.author),
            indexedAt=post.indexed_at,
        )
        return dict(data)

    def item_json(self, entry: BskyPost | BskyRepost) -> dict[str, Any]:
        post = entry.post if isinstance(entry, BskyRepost) else entry
        item: dict[str, Any] = {"post": self.post_json(post)}
        if post.reply_to is not None:
            root = post.root
            item["reply"] = {
                "root": {"$type": "app.bsky.feed.defs#postView", **self.post_json(root)},
                "parent": {"$type": "app.bsky.feed.defs#postView", **self.post_json(post.reply_to)},
            }
        if isinstance(entry, BskyRepost):
            reason = _template("bluesky_reason_repost.json")
            reason.update(
                by=self.author_json(entry.by),
                uri=f"at://{entry.by.did}/app.bsky.feed.repost/{entry.rkey}",
                indexedAt=entry.indexed,
            )
            item["reason"] = reason
        return item


# ---------------------------------------------------------------------------
# The server


@dataclass
class RateLimit:
    """`calls` allowed until `reset`; then 429 until the test changes it."""

    calls: int
    reset: datetime
    used: int = 0


class SocialServer(ServerThread):
    """One host: a Mastodon instance, a Bluesky AppView, or both."""

    def __init__(
        self,
        *,
        mastodon: MastodonInstance | None = None,
        appview: AppView | None = None,
        refuse_anonymous: bool = False,
        rate_limit: RateLimit | None = None,
        login_page: bool = False,
    ) -> None:
        self.mastodon = mastodon
        self.login_page = login_page  # answer 200 with an HTML page, as a captive portal does
        self.appview = appview
        self.refuse_anonymous = refuse_anonymous
        self.rate_limit = rate_limit
        self.requests: list[str] = []  # path and query of every request, in order
        self.user_agents: list[str] = []
        self._lock = threading.Lock()
        super().__init__(type("Handler", (_Handler,), {"world": self}))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Called from the handler threads.

    def answer(
        self, path: str, query: dict[str, str], agent: str
    ) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            self.requests.append(
                path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
            )
            self.user_agents.append(agent)
            if self.mastodon is not None and path.startswith("/@") and path.endswith(".rss"):
                return _profile_feed(self.mastodon, path[2:-4], self.base_url)
            xrpc = path.startswith("/xrpc/")
            if self.refuse_anonymous:
                headers = {
                    "WWW-Authenticate": 'Bearer realm="Doorkeeper", error="invalid_token", '
                    'error_description="The access token is invalid"'
                }
                body = (
                    {"error": "AuthMissing", "message": "Authentication Required"}
                    if xrpc
                    else _template("mastodon_error_unauthorized.json")
                )
                return 401, headers, body
            limits = self._limit_headers(xrpc)
            if self.rate_limit is not None and self.rate_limit.used > self.rate_limit.calls:
                body = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
                return 429, limits, body if xrpc else {"error": "Too many requests"}
        if xrpc and self.appview is not None:
            status, body = _xrpc(self.appview, path, query)
        elif path.startswith("/api/v1/") and self.mastodon is not None:
            base = self.mastodon.link_base or self.base_url
            status, body = _mastodon_api(self.mastodon, path, query, base)
        else:
            status, body = 404, {"error": "Not Found"}
        headers = dict(limits)
        if isinstance(body, tuple):  # (body, Link header)
            body, link = body
            if link:
                headers["Link"] = link
        return status, headers, body

    def _limit_headers(self, xrpc: bool) -> dict[str, str]:
        if self.rate_limit is None:
            return {}
        self.rate_limit.used += 1
        limit = self.rate_limit
        remaining = max(limit.calls - limit.used, 0)
        if xrpc:
            return {
                "RateLimit-Limit": str(limit.calls),
                "RateLimit-Remaining": str(remaining),
                "RateLimit-Reset": str(int(limit.reset.timestamp())),
                "RateLimit-Policy": f"{limit.calls};w=300",
            }
        return {
            "X-RateLimit-Limit": str(limit.calls),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": limit.reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }


class _Handler(BaseHTTPRequestHandler):
    world: SocialServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        status, headers, body = self.world.answer(
            parts.path, query, self.headers.get("User-Agent", "")
        )
        if isinstance(body, bytes):  # a feed, with its own content type
            payload, kind = body, headers.pop("Content-Type")
        else:
            payload, kind = json.dumps(body).encode("utf-8"), "application/json; charset=utf-8"
        if self.world.login_page:
            status, kind, payload = 200, "text/html", b"<!doctype html><title>Log in</title>"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        return


def _profile_feed(
    instance: MastodonInstance, user: str, base: str
) -> tuple[int, dict[str, str], Any]:
    """The account's profile feed, as Mastodon renders `/@user.rss`: its own public posts,
    newest first, without replies or boosts."""
    account = instance.find(user)
    if account is None or account.domain != instance.domain:
        return 404, {"Content-Type": "text/plain"}, b"Not Found"
    toots = sorted(
        (
            t
            for t in instance.toots
            if t.author is account and t.boost_of is None and t.in_reply_to is None
        ),
        key=lambda t: int(t.id),
        reverse=True,
    )
    items = "".join(
        f"<item><guid isPermaLink=\"true\">{escape(t.url)}</guid><link>{escape(t.url)}</link>"
        f"<pubDate>{format_datetime(_time(t.created))}</pubDate>"
        f"<description>{escape(_toot_html(t, instance.domain))}</description></item>"
        for t in toots
    )
    name = escape(account.display_name or account.username)
    rss = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>https://{account.domain}/@{account.username}</link>"
        f"<description>Public posts from @{account.username}@{account.domain}</description>"
        f"{items}</channel></rss>"
    )
    return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, rss.encode("utf-8")


def _mastodon_api(
    instance: MastodonInstance, path: str, query: dict[str, str], base: str
) -> tuple[int, Any]:
    if path == "/api/v1/accounts/lookup":
        account = instance.find(query.get("acct", ""))
        if account is None:
            return 404, _template("mastodon_error_not_found.json")
        return 200, instance.account_json(account)
    segments = path.split("/")
    if len(segments) == 6 and segments[3] == "accounts" and segments[5] == "statuses":
        account_id = segments[4]
        if account_id in instance.gone:
            return 410, _template("mastodon_error_not_found.json")
        if not any(a.id == account_id for a in instance.accounts):
            return 404, _template("mastodon_error_not_found.json")
        theirs = sorted(
            (t for t in instance.toots if t.author.id == account_id),
            key=lambda t: int(t.id),
            reverse=True,
        )
        if "since_id" in query:
            theirs = [t for t in theirs if int(t.id) > int(query["since_id"])]
        if "max_id" in query:
            theirs = [t for t in theirs if int(t.id) < int(query["max_id"])]
        limit = min(int(query.get("limit", "20")), instance.page_size)
        page = theirs[:limit]
        link = ""
        if page:
            here = f"{base}/api/v1/accounts/{account_id}/statuses?limit={limit}"
            prev = f'<{here}&min_id={page[0].id}>; rel="prev"'
            link = (
                f'<{here}&max_id={page[-1].id}>; rel="next", {prev}'
                if len(theirs) > limit
                else prev
            )
        return 200, ([instance.status_json(t) for t in page], link)
    return 404, {"error": "Not Found"}


def _xrpc(view: AppView, path: str, query: dict[str, str]) -> tuple[int, Any]:
    method = path.removeprefix("/xrpc/")
    if method not in ("app.bsky.actor.getProfile", "app.bsky.feed.getAuthorFeed"):
        return 404, {"error": "XRPCNotSupported", "message": "XRPCNotSupported"}
    account = view.find(query.get("actor", ""))
    if account is None:
        return 400, {"error": "InvalidRequest", "message": "Profile not found"}
    if account.gone:
        refusal = _template("bluesky_error_takedown.json")
        if account.gone != refusal["error"]:
            refusal = {"error": account.gone, "message": "Account is deactivated"}
        return 400, refusal
    if method == "app.bsky.actor.getProfile":
        return 200, view.profile_json(account)
    entries: list[BskyPost | BskyRepost] = [p for p in view.posts if p.author is account]
    if query.get("filter") == "posts_no_replies":
        entries = [p for p in entries if isinstance(p, BskyPost) and p.reply_to is None]
    entries += [r for r in view.reposts if r.by is account]
    entries.sort(key=lambda e: e.sort_at, reverse=True)
    if "cursor" in query:
        before = _time(query["cursor"])
        entries = [e for e in entries if e.sort_at < before]
    limit = min(int(query.get("limit", "50")), view.page_size)
    page = entries[:limit]
    body: dict[str, Any] = {"feed": [view.item_json(e) for e in page]}
    if len(entries) > limit:
        body["cursor"] = _iso(page[-1].sort_at)
    return 200, body


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------
# The conversation


MY_DOMAIN = "mastodon.example.net"
DANA_DOMAIN = "social.example.org"


@dataclass
class MastodonWorld:
    dana_server: MastodonInstance  # social.example.org: Dana's instance
    my_server: MastodonInstance  # mastodon.example.net: mine


def mastodon_world(page_size: int = 3) -> MastodonWorld:
    """Sam (me) on mastodon.example.net, Dana on social.example.org, Lee beside Dana.

    Each instance numbers accounts and statuses its own way: Dana's instance calls me
    110000000000000077, mine calls me 109000000000000001."""
    # As Dana's instance knows us.
    dana = MastodonAccount("110000000000000001", "dana", DANA_DOMAIN, "Dana Reyes")
    lee = MastodonAccount("110000000000000003", "lee", DANA_DOMAIN, "Lee Okafor")
    sam_there = MastodonAccount("110000000000000077", "sam", MY_DOMAIN, "Sam Rivera")
    # As mine knows us.
    sam = MastodonAccount("109000000000000001", "sam", MY_DOMAIN, "Sam Rivera")
    dana_here = MastodonAccount("109000000000000042", "dana", DANA_DOMAIN, "Dana Reyes")

    # My first post, as both instances serve it.
    m1 = Toot("109000000000000100", sam, "2026-11-02T08:00:00.000Z", "Feeds are a conversation.")
    m1_there = Toot(
        "110000000000000050", sam_there, m1.created, m1.text, origin_id="109000000000000100"
    )
    # Dana's first post, as both serve it.
    d1 = Toot("110000000000000100", dana, "2026-11-01T10:00:00.000Z", "Notes on meetups & feeds.")
    d1_here = Toot("109000000000000090", dana_here, d1.created, d1.text, origin_id=d1.id)
    d2 = Toot(
        "110000000000000200",
        dana,
        "2026-11-03T14:15:00.000Z",
        "Yes! That is how I see it too.",
        in_reply_to=(m1_there.id, sam_there.id),
        mentions=(sam_there,),
    )
    d2_here = Toot(
        "109000000000000200",
        dana_here,
        d2.created,
        d2.text,
        origin_id=d2.id,
        in_reply_to=(m1.id, sam.id),
        mentions=(sam,),
    )
    lee_post = Toot("110000000000000250", lee, "2026-11-04T12:00:00.000Z", "Anyone at the meetup?")
    d3 = Toot("110000000000000300", dana, "2026-11-04T20:00:00.000Z", "A thread on community:")
    d4 = Toot(
        "110000000000000400",
        dana,
        "2026-11-05T09:00:00.000Z",
        "2/ and the second point.",
        in_reply_to=(d3.id, dana.id),
    )
    d5 = Toot(
        "110000000000000500",
        dana,
        "2026-11-05T18:30:00.000Z",
        "wrote a good piece on feeds, read it.",
        mentions=(sam_there,),
    )
    d6 = Toot(
        "110000000000000600",
        dana,
        "2026-11-06T15:00:00.000Z",
        "See you there, Lee!",
        in_reply_to=(lee_post.id, lee.id),
        mentions=(lee, sam_there),  # Mastodon copies every thread participant
    )
    d7 = Toot("110000000000000700", dana, "2026-11-07T12:00:00.000Z", boost_of=m1_there)

    m2 = Toot("109000000000000250", sam, "2026-11-03T08:00:00.000Z", "Coffee first.")
    m3 = Toot(
        "109000000000000300",
        sam,
        "2026-11-04T10:00:00.000Z",
        "Glad it resonates, <3 let's talk at the meetup.",
        in_reply_to=(d2_here.id, dana_here.id),
        mentions=(dana_here,),
    )
    m4 = Toot("109000000000000400", sam, "2026-11-06T09:00:00.000Z", boost_of=d1_here)
    dana_server = MastodonInstance(
        DANA_DOMAIN,
        [dana, lee, sam_there],
        [m1_there, d1, d2, lee_post, d3, d4, d5, d6, d7],
        page_size=page_size,
    )
    my_server = MastodonInstance(
        MY_DOMAIN,
        [sam, dana_here],
        [m1, d1_here, d2_here, m2, m3, m4],
        page_size=page_size,
    )
    return MastodonWorld(dana_server, my_server)


SAM_DID = "did:plc:sam2sam2sam2sam2sam2sam2"
DANA_DID = "did:plc:danadanadanadanadanadana"
LEE_DID = "did:plc:leeleeleeleeleeleeleelee"


def bluesky_world(page_size: int = 2) -> AppView:
    """The same conversation on Bluesky: everyone on one AppView."""
    sam = BskyAccount(SAM_DID, "sam.example.net", "Sam Rivera")
    dana = BskyAccount(DANA_DID, "dana.example.org", "Dana Reyes")
    lee = BskyAccount(LEE_DID, "lee.example.com", "Lee Okafor")
    m1 = BskyPost("3m4aaaaaaaa2a", sam, "2026-11-02T08:00:00.000Z", "Feeds are a conversation.")
    d1 = BskyPost("3m4daaaaaaa2a", dana, "2026-11-01T10:00:00.000Z", "Notes on meetups & feeds.")
    d2 = BskyPost(
        "3m4dbbbbbbb2a",
        dana,
        "2026-11-03T14:15:00.000Z",
        "Yes! That is how I see it too.",
        reply_to=m1,
    )
    m2 = BskyPost(
        "3m4abbbbbbb2a",
        sam,
        "2026-11-04T10:00:00.000Z",
        "Glad it resonates, <3 let's talk at the meetup.",
        reply_to=d2,
    )
    lee_post = BskyPost("3m4laaaaaaa2a", lee, "2026-11-04T12:00:00.000Z", "Anyone at the meetup?")
    # Her clock was a day fast: the AppView saw it at 18:30 on the 5th.
    d3 = BskyPost(
        "3m4dccccccc2a",
        dana,
        "2026-11-06T18:30:00.000Z",
        "@sam.example.net wrote a good piece on feeds, read it.",
        mentions=(sam,),
        indexed="2026-11-05T18:30:00.000Z",
    )
    d4 = BskyPost(
        "3m4ddddddd22a",
        dana,
        "2026-11-06T15:00:00.000Z",
        "See you there, @lee.example.com! @sam.example.net too?",
        reply_to=lee_post,
        mentions=(lee, sam),
    )
    reposts = [
        BskyRepost("3m4arrrrrrr2a", sam, d1, "2026-11-06T09:00:00.000Z"),
        BskyRepost("3m4drrrrrrr2a", dana, m1, "2026-11-07T12:00:00.000Z"),
    ]
    return AppView([sam, dana, lee], [m1, d1, d2, m2, lee_post, d3, d4], reposts, page_size)
