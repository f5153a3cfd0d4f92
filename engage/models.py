"""The values every part of engage speaks in.

Frozen dataclasses with names a user would use (person, feed, post, comment,
event, reading). feedparser's dictionaries, pydantic models and TinyDB documents
stop at the module that owns them; what crosses a module boundary is one of
these. Enum values are the strings that appear in JSON output and in the store.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum

# ---------------------------------------------------------------------------
# Closed sets


class Role(StrEnum):
    """Who an identity is to the user."""

    ME = "me"
    PERSON = "person"  # someone I want to meet
    CONTACT = "contact"  # someone I already know, who could introduce me


class FeedKind(StrEnum):
    BLOG = "blog"
    PODCAST = "podcast"
    VIDEO = "video"
    SOCIAL = "social"
    COMMENTS = "comments"  # a comment feed: its entries are comments, not posts
    FORUM = "forum"  # a Discourse topic/user feed: its entries are comments too


class Direction(StrEnum):
    IN = "in"  # them -> me
    OUT = "out"  # me -> them
    BOTH = "both"


class EventKind(StrEnum):
    """Interaction kinds. The identifiers are the meter's table (docs/design.md, "The
    engagement meter") plus the ask/intro outcomes; part of the JSON interface, never renamed."""

    THEIR_COMMENT_ON_MINE = "their_comment_on_mine"
    THEIR_EMAIL_OR_DM = "their_email_or_dm"
    THEIR_REPLY = "their_reply"
    THEIR_MENTION = "their_mention"
    THEIR_SHARE = "their_share"
    THEIR_FOLLOW = "their_follow"
    THEIR_LIKE = "their_like"
    MET_IN_PERSON = "met_in_person"
    CALL = "call"
    INTRO_REQUESTED = "intro_requested"
    INTRO_ACCEPTED = "intro_accepted"
    INTRO_DECLINED = "intro_declined"
    THEIR_INTRO = "their_intro"  # they introduced me to someone (on the introducer's record)
    MY_FAVOUR = "my_favour"
    MY_COMMENT = "my_comment"
    MY_EMAIL_OR_DM = "my_email_or_dm"
    MY_SHARE = "my_share"
    MY_ASK = "my_ask"
    ASK_ACCEPTED = "ask_accepted"
    ASK_DECLINED = "ask_declined"
    ASK_NO_ANSWER = "ask_no_answer"


# Their own words, aimed at me: what reciprocity, recency and "a reply I owe" are made of,
# and what an introduction note calls an exchange.
COMPOSED_REPLIES = frozenset(
    {
        EventKind.THEIR_REPLY,
        EventKind.THEIR_COMMENT_ON_MINE,
        EventKind.THEIR_EMAIL_OR_DM,
        EventKind.THEIR_MENTION,
        EventKind.THEIR_INTRO,
    }
)

DIRECTION: Mapping[EventKind, Direction] = {
    EventKind.THEIR_COMMENT_ON_MINE: Direction.IN,
    EventKind.THEIR_EMAIL_OR_DM: Direction.IN,
    EventKind.THEIR_REPLY: Direction.IN,
    EventKind.THEIR_MENTION: Direction.IN,
    EventKind.THEIR_SHARE: Direction.IN,
    EventKind.THEIR_FOLLOW: Direction.IN,
    EventKind.THEIR_LIKE: Direction.IN,
    EventKind.MET_IN_PERSON: Direction.BOTH,
    EventKind.CALL: Direction.BOTH,
    EventKind.INTRO_REQUESTED: Direction.OUT,
    EventKind.INTRO_ACCEPTED: Direction.BOTH,
    EventKind.INTRO_DECLINED: Direction.IN,
    EventKind.THEIR_INTRO: Direction.IN,
    EventKind.MY_FAVOUR: Direction.OUT,
    EventKind.MY_COMMENT: Direction.OUT,
    EventKind.MY_EMAIL_OR_DM: Direction.OUT,
    EventKind.MY_SHARE: Direction.OUT,
    EventKind.MY_ASK: Direction.OUT,
    EventKind.ASK_ACCEPTED: Direction.IN,
    EventKind.ASK_DECLINED: Direction.IN,
    EventKind.ASK_NO_ANSWER: Direction.IN,
}


class EventSource(StrEnum):
    AUTO = "auto"  # found by detection in polled feeds
    MANUAL = "manual"  # logged by the user


class FeedStatus(StrEnum):
    """A feed's last outcome, as shown by `engage feeds --json`."""

    NEVER = "never"
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"
    GONE = "gone"


class Network(StrEnum):
    """The social networks whose public APIs carry the conversation (docs/design.md,
    "Social APIs"); the keys of `handles:` in feeds.yaml."""

    MASTODON = "mastodon"
    BLUESKY = "bluesky"


class AccountStatus(StrEnum):
    """A social account's last outcome, as `engage feeds` shows it."""

    NEVER = "never"
    OK = "ok"
    ERROR = "error"
    GONE = "gone"  # deleted, suspended or taken down: not polled again
    LOGIN_REQUIRED = "login_required"  # the server refuses anonymous API calls
    RATE_LIMITED = "rate_limited"  # 429: polled again after the server's reset


class Stage(StrEnum):
    COLD = "cold"
    NOTICED = "noticed"
    IN_DIALOGUE = "in_dialogue"
    READY = "ready"
    ASKED = "asked"
    CONNECTED = "connected"
    WENT_COLD = "went_cold"


def fold_name(name: str) -> str:
    """'  José   GARCÍA ' -> 'jose garcia': case, accents and spacing never decide identity."""
    if name.isascii():  # the common case, and ~20x faster than decomposing (measured)
        return " ".join(name.lower().split())
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis: evidence, titles and quoted words
    are cut the same way everywhere."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------------------
# The watchlist


@dataclass(frozen=True)
class FeedRef:
    """A feed as the user listed it in feeds.yaml."""

    url: str
    kind: FeedKind = FeedKind.BLOG
    title: str | None = None
    max_bytes: int | None = None  # a per-feed body cap (settings.max_body_bytes otherwise)


@dataclass(frozen=True)
class Person:
    """An identity from feeds.yaml: me, a person I want to meet, or a contact."""

    name: str
    role: Role = Role.PERSON
    aliases: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    feeds: tuple[FeedRef, ...] = ()
    handles: Mapping[str, str] = field(default_factory=dict)
    knows: tuple[str, ...] = ()
    notes: str = ""
    tags: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()  # used for `me`
    company: str | None = None
    strength: float | None = None  # stated tie strength 0..1 (contacts)
    stay_in_touch_days: int | None = None  # this person's cadence once connected

    @property
    def key(self) -> str:
        """What their stored history is filed under: the name, unless the store first knew
        them by another (engage.identity.KeyedPerson; docs/design.md, "Identity")."""
        return self.name


@dataclass(frozen=True)
class MeterRules:
    """Every number of the engagement meter (docs/design.md, "The engagement meter");
    overridable under `meter:`."""

    points: Mapping[EventKind, float] = field(
        default_factory=lambda: {
            EventKind.THEIR_COMMENT_ON_MINE: 6.0,
            EventKind.THEIR_EMAIL_OR_DM: 6.0,
            EventKind.THEIR_REPLY: 5.0,
            EventKind.THEIR_MENTION: 4.0,
            EventKind.THEIR_SHARE: 2.0,
            EventKind.THEIR_FOLLOW: 2.0,
            EventKind.THEIR_LIKE: 0.5,
            EventKind.MET_IN_PERSON: 8.0,
            EventKind.CALL: 7.0,
            EventKind.INTRO_ACCEPTED: 6.0,
            # An introduction someone made for me: a favour in their own words, worth a
            # message from them (docs/design.md, "The engagement meter").
            EventKind.THEIR_INTRO: 6.0,
            EventKind.MY_FAVOUR: 3.0,
            EventKind.MY_COMMENT: 2.0,
            EventKind.MY_EMAIL_OR_DM: 2.0,
            EventKind.MY_SHARE: 1.5,
            EventKind.MY_ASK: 0.0,
        }
    )
    half_life_days: float = 30.0
    outbound_cap: float = 6.0
    outbound_per_day: int = 2
    ready_score: float = 12.0
    ready_exit_score: float = 10.0
    recency_days: int = 30
    gives_needed: int = 3
    gives_needed_met: int = 1
    cold_min_days: int = 60
    cold_gap_factor: float = 8.0
    ask_follow_up_days: int = 7
    ask_park_days: int = 14
    stay_in_touch_days: int = 90
    reply_within_days: int = 7  # a reply I owe is overdue after this (for ranking follow-ups)
    implicit_reply_days: int = 14  # their comment after mine in a thread counts as a reply
    # An introduction path weaker than this gets no drafted note, only the reason: asking
    # through a weak tie is a cold ask by proxy.
    intro_min_strength: float = 0.3


class SmtpSecurity(StrEnum):
    NONE = "none"  # plain SMTP; a password is sent only to a server on this machine
    STARTTLS = "starttls"  # plain connection upgraded to TLS (submission, port 587)
    TLS = "tls"  # TLS from the first byte (implicit TLS, port 465)


# The port each mode usually listens on, used when feeds.yaml names none.
SMTP_PORTS = {SmtpSecurity.NONE: 25, SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465}


@dataclass(frozen=True)
class DigestSettings:
    time: time = time(7, 30)
    email_to: str | None = None
    email_from: str | None = None
    smtp_host: str = "localhost"
    smtp_port: int = SMTP_PORTS[SmtpSecurity.NONE]
    smtp_user: str | None = None
    smtp_password_env: str | None = None  # name of the env var that holds the password
    smtp_security: SmtpSecurity = SmtpSecurity.NONE
    smtp_timeout_seconds: float = 30.0  # connect, and each SMTP command after it


BLUESKY_APPVIEW = "https://public.api.bsky.app"  # Bluesky's public AppView: no login needed

# Polling a feed more often than this only costs its host bandwidth: the watchlist refuses a
# shorter interval and the scheduler never waits less, jitter included.
POLL_FLOOR_MINUTES = 15

# The largest feeds.yaml engage reads: about 2,000 people written like the example file
# (1,000 such people are 0.5 MB). YAML is read by a pure-Python scanner, so a bigger file
# would only be slow to read on every change, and a runaway file (a log pasted in by
# mistake) is refused at once instead of keeping every command busy.
MAX_WATCHLIST_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    poll_interval_minutes: int = 60
    concurrency: int = 16
    per_host: int = 2
    timeout_seconds: float = 60.0
    max_body_bytes: int = 20 * 1024 * 1024
    contact_url: str = "https://github.com/engage-tracker/engage"
    data_dir: str | None = None
    templates_dir: str | None = None  # the user's template overrides
    cache_days: int = 180
    # Where the Bluesky API is read (a self-hosted AppView, or a test server).
    bluesky_appview: str = BLUESKY_APPVIEW
    # A Mastodon instance's API root by the host of its handles, where it is not that host
    # (a handle @dana@example.org served by social.example.org).
    mastodon_api: Mapping[str, str] = field(default_factory=dict)
    digest: DigestSettings = field(default_factory=DigestSettings)
    meter: MeterRules = field(default_factory=MeterRules)
    # A stay-in-touch cadence per tag (settings.stay_in_touch: {close: 30d}); a person's
    # own `stay_in_touch:` wins, then the shortest of their tags', then the meter's.
    stay_in_touch_by_tag: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Watchlist:
    me: Person
    people: tuple[Person, ...] = ()
    contacts: tuple[Person, ...] = ()
    settings: Settings = field(default_factory=Settings)
    path: str | None = None  # where it was loaded from, for messages

    def everyone(self) -> tuple[Person, ...]:
        """Me first, then people, then contacts: the order feeds are polled in."""
        return (self.me, *self.people, *self.contacts)

    def find(self, name: str) -> Person | None:
        """The identity called `name`, or known by it as an alias; case, accents and spacing
        aside (an alias is unique: the watchlist refuses one shared by two people)."""
        folded = fold_name(name)
        for person in self.everyone():
            if fold_name(person.name) == folded:
                return person
        for person in self.everyone():
            if any(fold_name(alias) == folded for alias in person.aliases):
                return person
        return None


# ---------------------------------------------------------------------------
# What polling finds


@dataclass(frozen=True)
class Enclosure:
    """A podcast episode's media file."""

    url: str
    type: str | None = None
    length: int | None = None
    duration_seconds: int | None = None


@dataclass(frozen=True)
class Entry:
    """One item of a parsed feed, before it is known to be a post or a comment.

    The parse module produces these; the poll cycle turns them into Post or
    Comment depending on the feed's kind.
    """

    id: str
    link: str | None = None
    title: str | None = None
    published: datetime | None = None  # always timezone-aware (UTC when the feed gave none)
    updated: datetime | None = None
    author: str | None = None
    author_url: str | None = None
    summary: str = ""  # sanitized HTML (nh3), http(s) links only, at most a few KB
    links: tuple[str, ...] = ()  # absolute http(s) hrefs found in the content
    enclosure: Enclosure | None = None
    comment_feeds: tuple[str, ...] = ()  # wfw:commentRss, Atom rel="replies" (feed types)
    comment_count: int | None = None  # slash:comments / thr:total
    categories: tuple[str, ...] = ()  # the entry's tags (RSS category, Atom category term)
    # For comment-feed entries: the post the comment is on (its thread), and the comment it
    # answers when it answers another comment (thr:in-reply-to pointing at a comment, or
    # WordPress's "In reply to <a href=…#comment-N>"); None when it answers the post itself.
    thread_url: str | None = None
    in_reply_to: str | None = None
    is_pingback: bool = False  # a pingback/trackback: a link from another site, not a comment


@dataclass(frozen=True)
class ParsedFeed:
    """What the parse module returns for one body: values, never feedparser dicts."""

    title: str | None = None
    link: str | None = None  # the site's home page
    entries: tuple[Entry, ...] = ()
    ttl_minutes: int | None = None  # RSS <ttl>
    update_minutes: int | None = None  # sy:updatePeriod / sy:updateFrequency, in minutes
    generator: str | None = None  # e.g. "WordPress", "Blogger": where its comment feed lives
    is_html: bool = False  # a web page where a feed was expected
    discovered: tuple[str, ...] = ()  # feed links found when is_html
    error: str | None = None  # the reason it could not be read at all
    warning: str | None = None  # bozo but usable


@dataclass(frozen=True)
class Post:
    """A post or episode by someone I follow (or by me)."""

    person: str
    feed: str
    id: str
    link: str | None
    title: str
    published: datetime | None
    updated: datetime | None = None
    author: str | None = None
    author_url: str | None = None
    summary: str = ""
    links: tuple[str, ...] = ()
    enclosure: Enclosure | None = None
    comment_feeds: tuple[str, ...] = ()
    comment_count: int | None = None
    first_seen: datetime | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class LatestPost:
    """A person's newest post or episode, kept beside the precious data so that a next
    step can name it ("Leave a thoughtful comment on 'Title' <url>") without reading the
    cache of posts."""

    title: str
    link: str
    published: datetime


@dataclass(frozen=True)
class Comment:
    """A comment in a comment feed. `person` is the owner of the blog it was found on."""

    person: str
    feed: str
    id: str
    post_link: str | None  # the post the comment is on (its thread)
    link: str | None  # the comment's own permalink (…#comment-N)
    author: str | None
    author_url: str | None
    published: datetime | None
    in_reply_to: str | None = None
    snippet: str = ""
    is_pingback: bool = False
    first_seen: datetime | None = None


@dataclass(frozen=True)
class FeedState:
    """A feed's polling state: what the store keeps between polls (HTTP and schedule)."""

    url: str
    person: str
    kind: FeedKind = FeedKind.BLOG
    title: str | None = None
    status: FeedStatus = FeedStatus.NEVER
    etag: str | None = None
    last_modified: str | None = None
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_type: str | None = None
    last_error_at: datetime | None = None
    failures: int = 0
    next_check: datetime | None = None
    moved_to: str | None = None  # a proposed permanent move (301/308)
    gone: bool = False  # 410: not polled again
    ttl_minutes: int | None = None
    update_minutes: int | None = None
    discovered: bool = False  # added by engage (site-wide or per-post comment feed)
    thread: str | None = None  # for a per-post comment feed: the post (followed while live)


@dataclass(frozen=True)
class SocialAccount:
    """A Mastodon or Bluesky account's polling state: what the store keeps between polls
    (docs/design.md, "Social APIs"). One per network and handle; `person` is the key of
    whose account it is (me included)."""

    network: Network
    handle: str  # as engage.social.handles writes it: "@dana@social.example.org", a DID
    person: str
    account_id: str | None = None  # Mastodon: its id on its own instance; Bluesky: its DID
    api: str | None = None  # the API root it was last read from
    since_id: str | None = None  # Mastodon: the newest status seen
    seen_until: datetime | None = None  # Bluesky: the newest feed entry seen
    status: AccountStatus = AccountStatus.NEVER
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None  # one line, naming the host
    last_error_type: str | None = None
    last_error_at: datetime | None = None
    failures: int = 0
    next_check: datetime | None = None
    wait_until: datetime | None = None  # the server asked for no call before this

    @property
    def key(self) -> str:
        return f"{self.network.value}:{self.handle}"

    @property
    def gone(self) -> bool:
        return self.status is AccountStatus.GONE


# ---------------------------------------------------------------------------
# Interactions


@dataclass(frozen=True)
class Event:
    """One interaction between me and a person. `id` is a stable key: the same
    comment polled twice, or the same thing logged twice, gives the same id."""

    id: str
    person: str
    kind: EventKind
    when: datetime
    direction: Direction
    source: EventSource = EventSource.MANUAL
    url: str | None = None
    evidence: str = ""  # a short sanitized snippet and where it was found
    note: str = ""
    created: datetime | None = None
    # A detection that rests on a name alone (a stranger can share my first name) is
    # unconfirmed until reviewed: it counts as contact, never towards "ready"
    # (docs/design.md, "The engagement meter"). Manual events are always confirmed; so are
    # events stored before this field existed, until detection sees them again.
    confirmed: bool = True
    # The (site, folded name) pairs an unconfirmed detection rests on: trusting them all
    # (`engage review ID trust`) confirms it.
    name_matches: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TrustedName:
    """A name the user trusted on a site (`engage review ID trust`, "always trust this
    author on this site"): detection confirms a match on that name there."""

    site: str  # the host, without www
    name: str  # folded, as detection compares names
    person: str  # whose detection it was trusted from
    created: datetime | None = None


@dataclass(frozen=True)
class IntroEvidence:
    """Public evidence that a contact and a person know each other."""

    id: str
    contact: str
    person: str
    url: str | None
    when: datetime
    kind: str  # "contact_commented", "person_linked_contact", "person_commented_contact", ...
    evidence: str = ""


# ---------------------------------------------------------------------------
# The meter


class GateName(StrEnum):
    """The five conditions of "ready to ask" (docs/design.md, "The engagement meter")."""

    RECIPROCITY = "reciprocity"
    RECENCY = "recency"
    GIVES = "gives"
    SCORE = "score"
    NO_PENDING_ASK = "no_pending_ask"


class Action(StrEnum):
    """What is due now with a person: stable strings for status order, the digest, the web
    report and `--json`."""

    ASK = "ask"
    FOLLOW_UP_MEETING = "follow_up_meeting"
    REPLY = "reply"
    FOLLOW_UP_ASK = "follow_up_ask"
    GIVE = "give"
    STAY_IN_TOUCH = "stay_in_touch"
    REOPEN = "reopen"
    WAIT = "wait"
    PARKED = "parked"
    START = "start"
    NONE = ""


@dataclass(frozen=True)
class Gate:
    name: GateName
    passed: bool
    detail: str  # the numbers behind it, in words


@dataclass(frozen=True)
class Obligation:
    """Something I owe a person now, whatever the stage: the follow-up to a meeting or call,
    an answer to their words, the one follow-up to an ask, a stay-in-touch note. `event` is
    what it answers (the meeting, their reply, the ask, the last contact); `due` is when it
    became due and `period_days` its own period, so obligations of different kinds can be
    ranked by how overdue each is (docs/design.md, "The daily digest")."""

    action: Action
    event: Event
    due: datetime
    period_days: float

    def overdue(self, now: datetime) -> float:
        """How many of its own periods past due (0 when it just became due)."""
        return max(0.0, (now - self.due).total_seconds() / 86400.0) / max(self.period_days, 1e-9)


@dataclass(frozen=True)
class Reading:
    person: str
    stage: Stage
    score: float
    score_in: float
    score_out: float
    score_both: float
    gates: tuple[Gate, ...]
    reason: str  # one sentence, with the numbers
    reasons: tuple[str, ...]  # up to two secondary sentences
    next_step: str
    points_by_kind: Mapping[str, float]
    history: tuple[tuple[str, float], ...] = ()  # (ISO date, score) per day, last 180 days
    last_contact: datetime | None = None
    action: Action = Action.NONE  # what is due now
    due: datetime | None = None  # connected: when getting back in touch is due
    owed: tuple[Obligation, ...] = ()  # every open obligation, the most overdue first


# ---------------------------------------------------------------------------
# What one poll cycle did


@dataclass(frozen=True)
class FeedOutcome:
    """What one feed did in this cycle, for --verbose and the summary."""

    url: str
    person: str
    status: FeedStatus
    new_posts: int = 0
    new_comments: int = 0
    error: str | None = None
    moved_to: str | None = None
    # A comment feed engage guessed that turned out not to be there: it counts as done for
    # a progress bar, and is never reported (it is not the user's problem).
    quiet: bool = False


@dataclass(frozen=True)
class AccountOutcome:
    """What one social account did in this cycle, for --verbose and the summary."""

    network: Network
    handle: str
    person: str
    status: AccountStatus
    new_posts: int = 0  # statuses or posts not seen before
    error: str | None = None


@dataclass(frozen=True)
class CycleSummary:
    polled: int
    new_posts: int
    new_comments: int
    not_modified: int
    errors: int
    gone: int
    new_events: int
    seconds: float
    outcomes: tuple[FeedOutcome, ...] = field(default=())
    # Stopped by this signal (SIGINT, SIGTERM): what finished is stored, `unfinished`
    # feeds were not (they are polled again next time).
    interrupted: int | None = None
    unfinished: int = 0
    accounts: tuple[AccountOutcome, ...] = field(default=())  # social accounts polled

    def line(self) -> str:
        return (
            f"{self.polled} feeds polled: {self.new_posts} new posts, "
            f"{self.new_comments} new comments, {self.not_modified} not modified, "
            f"{self.errors} errors"
            + (f", {self.gone} gone" if self.gone else "")
            + self._accounts_part()
            + (f"; {self.new_events} new interactions" if self.new_events else "")
            + f" ({self.seconds:.1f} s)"
        )

    def _accounts_part(self) -> str:
        if not self.accounts:
            return ""
        count = len(self.accounts)
        new = sum(a.new_posts for a in self.accounts)
        troubles = [
            (AccountStatus.ERROR, "errors"),
            (AccountStatus.RATE_LIMITED, "rate limited"),
            (AccountStatus.LOGIN_REQUIRED, "login required"),
            (AccountStatus.GONE, "gone"),
        ]
        said = [f"{new} new statuses"]
        for status, words in troubles:
            n = sum(a.status is status for a in self.accounts)
            if n:
                said.append(f"{n} {words}")
        return f"; {count} social account{'s' if count != 1 else ''} polled: " + ", ".join(said)


# Called as each feed finishes (fetched, parsed, its new items counted against what was
# stored when the poll began), in the order they finish.
ProgressHook = Callable[[FeedOutcome], None]
# Called as each round of a poll begins, with the URLs of the feeds it fetches.
ProgressStart = Callable[[Sequence[str]], ProgressHook]


# ---------------------------------------------------------------------------
# One HTTP fetch, as the poll cycle and the scheduler see it


@dataclass(frozen=True)
class FetchResult:
    """The outcome of fetching one feed. Errors are values here, never exceptions."""

    url: str  # what was requested
    final_url: str | None = None  # after redirects
    status: int | None = None  # None when no response arrived (DNS, connect, timeout)
    body: bytes | None = None  # None on 304 and on errors
    etag: str | None = None  # exactly as received
    last_modified: str | None = None  # exactly as received
    content_type: str | None = None
    retry_after: str | None = None  # raw header value
    cache_control: str | None = None
    expires: str | None = None
    permanent_redirect: str | None = None  # final URL when every hop was 301/308
    redirected: bool = False
    error: str | None = None  # one line a user can read
    error_type: str | None = None  # timeout, too_large, connection, http, tls, invalid_url
    elapsed_seconds: float = 0.0
