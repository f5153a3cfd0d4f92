"""Load, validate and edit the watchlist (feeds.yaml).

Loading reads the file with ruamel.yaml's round-trip loader, because it remembers the
line and column of every key and value: a pydantic error location such as
``people.1.feeds.0.url`` is walked back through the tree to the exact spot in the
file. Every problem is collected before anything is raised, so a user fixing a file
sees the whole list at once instead of one error per run.

Editing goes through the same round-trip tree, so comments, key order, quotes and
indentation outside the change survive byte for byte. The edited text is validated
by loading it before it replaces the file, and the file is replaced atomically.

Known limit: ruamel re-emits the whole file with one indentation style (guessed from
the file). A file that mixes styles (mappings indented by 2 here and 4 there) gets the
minority style rewritten on the first edit; comments and order still survive.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import io
import itertools
import json
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scanner import Scanner

from engage.clean import clean_name, clean_title, clean_url, describe, unsafe_characters
from engage.errors import ConfigError, EngageError
from engage.files import atomic_write, holding
from engage.models import (
    MAX_WATCHLIST_BYTES,
    POLL_FLOOR_MINUTES,
    SMTP_PORTS,
    DigestSettings,
    EventKind,
    FeedKind,
    FeedRef,
    MeterRules,
    Person,
    Role,
    Settings,
    SmtpSecurity,
    Watchlist,
    fold_name,
)
from engage.places import cached_file_for
from engage.social.handles import parse_bluesky, parse_instance, parse_mastodon
from engage.urls import normalize_url, port_problem

__all__ = [
    "add_alias",
    "add_feed",
    "add_people",
    "add_person",
    "apply_moves",
    "control_character_warnings",
    "find_feed_owner",
    "load",
    "load_text",
    "merge_people",
    "rename_person",
    "set_handle",
    "starter",
    "warnings",
    "write_starter",
]

Loc = tuple[str | int, ...]
# What aliases (*name) may add to a watchlist, in values: enough for a shared block of
# settings or a merge key (<<: *defaults) in every entry, far too little for an "alias
# bomb", whose few lines expand to hundreds of millions of values.
MAX_ALIAS_VALUES = 10_000
# An edit reads, validates and writes one small file: well under a second.
EDIT_LOCK_SECONDS = 30.0

# ---------------------------------------------------------------------------
# Schema: pydantic models that mirror feeds.yaml key for key


def _http_url(value: str) -> str:
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:  # a stray [ or ] in the host
        raise ValueError(f"{value!r} is not a valid URL (check the host name)") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{value!r} is not an http(s) URL (write it in full, like https://example.org/feed/)"
        )
    problem = port_problem(value)
    if problem is not None:
        raise ValueError(f"{value!r}: {problem}")
    return value


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty (write a name, or remove the key)")
    return value.strip()


def _person_name(value: str) -> str:
    """A name or alias is one line of plain text: detection matches comment authors
    against it, and every command prints it, so a control character would let a name
    pass for another or write a forged line (`add-person $'Evil\\nName: x'`)."""
    value = _text(value)
    for _index, character in unsafe_characters(value, in_line=True):
        raise ValueError(
            f"{value!r} holds {describe(character)}: a name is one line of plain text, "
            "without control characters (remove it)"
        )
    return value


def _email(value: str) -> str:
    if "@" not in value or any(c.isspace() for c in value.strip()):
        raise ValueError(f"{value!r} is not an e-mail address (like me@example.org)")
    return value.strip()


def _clock(value: str) -> str:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f'{value!r} is not a time of day (write it as "HH:MM", like "07:30")')
    return value.strip()


def _env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError(
            f"{value!r} is not an environment variable name (the password itself never goes "
            "in feeds.yaml; name the variable that holds it, like ENGAGE_SMTP_PASSWORD)"
        )
    return value


_CADENCE = re.compile(r"(\d+)\s*(d|days?|w|weeks?|m|months?)", re.IGNORECASE)
_CADENCE_DAYS = {"d": 1, "w": 7, "m": 30}


def _cadence(value: int | str) -> int:
    """A stay-in-touch cadence in days: 30, "30d", "6w" or "3m" (a month is 30 days)."""
    if isinstance(value, int):
        days = value
    else:
        match = _CADENCE.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not a cadence (write it like 30d, 6w or 3m)")
        days = int(match[1]) * _CADENCE_DAYS[match[2][0].lower()]
    if days < 1:
        raise ValueError(f"{value!r} is not a cadence (at least one day)")
    return days


def _mastodon_handle(value: str) -> str:
    return str(parse_mastodon(value))  # one spelling, whatever form was pasted


def _bluesky_handle(value: str) -> str:
    return str(parse_bluesky(value))


def _instance(value: str) -> str:
    return parse_instance(value)


def _api_root(value: str) -> str:
    # One spelling, so "https://api.example.org/" and ".../" without the slash build the
    # same request URLs.
    return _http_url(value).rstrip("/")


Url = Annotated[str, AfterValidator(_http_url)]
Cadence = Annotated[int | str, AfterValidator(_cadence)]
Name = Annotated[str, AfterValidator(_text)]
PersonName = Annotated[str, AfterValidator(_person_name)]
Email = Annotated[str, AfterValidator(_email)]
FeedKindName = Literal["blog", "podcast", "video", "social", "comments", "forum"]
EventKindName = Literal[
    "their_comment_on_mine",
    "their_email_or_dm",
    "their_reply",
    "their_mention",
    "their_share",
    "their_follow",
    "their_like",
    "met_in_person",
    "call",
    "intro_requested",
    "intro_accepted",
    "intro_declined",
    "their_intro",
    "my_favour",
    "my_comment",
    "my_email_or_dm",
    "my_share",
    "my_ask",
    "ask_accepted",
    "ask_declined",
    "ask_no_answer",
]


class _Model(BaseModel):
    # strict: YAML already gives real numbers and booleans, so "60" or `yes` for a number
    # is a mistake worth reporting, not something to coerce silently.
    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_keys_mean_default(cls, data: Any) -> Any:
        # `people:` with nothing under it loads as None; users mean "none yet".
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


def _feeds_from_urls(value: Any) -> Any:
    """A feed may be written as a bare URL; give pydantic the mapping form."""
    if isinstance(value, list):
        return [{"url": item} if isinstance(item, str) else item for item in value]
    return value


class FeedModel(_Model):
    url: Url
    kind: FeedKindName = "blog"
    title: str | None = None
    # A podcast feed with years of episodes can outgrow settings.max_body_mb on its own.
    max_body_mb: float | None = Field(default=None, gt=0)


class HandlesModel(_Model):
    mastodon: Annotated[str, AfterValidator(_mastodon_handle)] | None = None
    bluesky: Annotated[str, AfterValidator(_bluesky_handle)] | None = None
    youtube: str | None = None
    twitter: str | None = None
    linkedin: str | None = None
    github: str | None = None
    threads: str | None = None
    substack: str | None = None
    email: Email | None = None
    website: Url | None = None


class MeModel(_Model):
    name: PersonName
    aliases: list[PersonName] = Field(default_factory=list)
    sites: list[Url] = Field(default_factory=list)
    feeds: list[FeedModel] = Field(default_factory=list)
    handles: HandlesModel = Field(default_factory=HandlesModel)
    interests: list[Name] = Field(default_factory=list)

    _feeds = field_validator("feeds", mode="before")(_feeds_from_urls)


class PersonModel(_Model):
    name: PersonName
    aliases: list[PersonName] = Field(default_factory=list)
    sites: list[Url] = Field(default_factory=list)
    feeds: list[FeedModel] = Field(default_factory=list)
    handles: HandlesModel = Field(default_factory=HandlesModel)
    knows: list[PersonName] = Field(default_factory=list)
    notes: str = ""
    tags: list[Name] = Field(default_factory=list)
    company: str | None = None
    stay_in_touch: Cadence | None = None

    _feeds = field_validator("feeds", mode="before")(_feeds_from_urls)


class ContactModel(PersonModel):
    strength: float | None = Field(default=None, ge=0, le=1)


_DIGEST = DigestSettings()


class DigestModel(_Model):
    time: Annotated[str, AfterValidator(_clock)] = _DIGEST.time.strftime("%H:%M")
    to: Email | None = None
    from_: Email | None = Field(default=None, alias="from")
    smtp_host: Name = _DIGEST.smtp_host
    smtp_port: int | None = Field(default=None, ge=1, le=65535)  # None: the mode's usual port
    smtp_user: str | None = None
    smtp_password_env: Annotated[str, AfterValidator(_env_name)] | None = None
    security: Literal["none", "starttls", "tls"] | None = None
    starttls: bool | None = None  # the older spelling of `security: starttls`, still read
    timeout_seconds: float = Field(default=_DIGEST.smtp_timeout_seconds, gt=0)

    @model_validator(mode="after")
    def _one_security(self) -> DigestModel:
        both = self.security is not None and self.starttls is not None
        if both and self.starttls != (self.security == "starttls"):
            raise ValueError(
                f"starttls: {str(self.starttls).lower()} disagrees with security: "
                f"{self.security} (keep security: only)"
            )
        return self

    def smtp_security(self) -> SmtpSecurity:
        if self.security is not None:
            return SmtpSecurity(self.security)
        return SmtpSecurity.STARTTLS if self.starttls else SmtpSecurity.NONE


_RULES = MeterRules()


class MeterModel(_Model):
    points: dict[EventKindName, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    half_life_days: float = Field(default=_RULES.half_life_days, gt=0)
    outbound_cap: float = Field(default=_RULES.outbound_cap, ge=0)
    outbound_per_day: int = Field(default=_RULES.outbound_per_day, ge=1)
    ready_score: float = Field(default=_RULES.ready_score, gt=0)
    ready_exit_score: float = Field(default=_RULES.ready_exit_score, ge=0)
    recency_days: int = Field(default=_RULES.recency_days, ge=1)
    gives_needed: int = Field(default=_RULES.gives_needed, ge=0)
    gives_needed_met: int = Field(default=_RULES.gives_needed_met, ge=0)
    cold_min_days: int = Field(default=_RULES.cold_min_days, ge=1)
    cold_gap_factor: float = Field(default=_RULES.cold_gap_factor, gt=0)
    ask_follow_up_days: int = Field(default=_RULES.ask_follow_up_days, ge=1)
    ask_park_days: int = Field(default=_RULES.ask_park_days, ge=1)
    stay_in_touch_days: int = Field(default=_RULES.stay_in_touch_days, ge=1)
    reply_within_days: int = Field(default=_RULES.reply_within_days, ge=1)
    implicit_reply_days: int = Field(default=_RULES.implicit_reply_days, ge=1)
    intro_min_strength: float = Field(default=_RULES.intro_min_strength, ge=0, le=1)


_DEFAULTS = Settings()


class SettingsModel(_Model):
    poll_interval: int = _DEFAULTS.poll_interval_minutes
    concurrency: int = Field(default=_DEFAULTS.concurrency, ge=1)
    per_host: int = Field(default=_DEFAULTS.per_host, ge=1)
    timeout_seconds: float = Field(default=_DEFAULTS.timeout_seconds, gt=0)
    max_body_mb: float = Field(default=_DEFAULTS.max_body_bytes / (1024 * 1024), gt=0)
    contact_url: Url = _DEFAULTS.contact_url
    data_dir: Name | None = None
    templates_dir: Name | None = None
    cache_days: int = Field(default=_DEFAULTS.cache_days, ge=1)
    bluesky_appview: Annotated[str, AfterValidator(_api_root)] = _DEFAULTS.bluesky_appview
    mastodon_api: dict[
        Annotated[str, AfterValidator(_instance)], Annotated[str, AfterValidator(_api_root)]
    ] = Field(default_factory=dict)
    digest: DigestModel = Field(default_factory=DigestModel)
    meter: MeterModel = Field(default_factory=MeterModel)
    stay_in_touch: dict[Name, Cadence] = Field(default_factory=dict)  # by tag

    @field_validator("poll_interval")
    @classmethod
    def _polite(cls, minutes: int) -> int:
        # Feeds change a few times a day; polling faster than every 15 minutes only costs
        # the people we want to befriend bandwidth (docs/design.md, "Polling").
        if minutes < POLL_FLOOR_MINUTES:
            raise ValueError(
                f"poll_interval is {minutes} minutes, below the floor of {POLL_FLOOR_MINUTES} "
                "(polling faster is impolite to the feeds' hosts; use 15 or more)"
            )
        return minutes


class WatchlistModel(_Model):
    me: MeModel
    people: list[PersonModel] = Field(default_factory=list)
    contacts: list[ContactModel] = Field(default_factory=list)
    settings: SettingsModel = Field(default_factory=SettingsModel)


# Keys users put at the wrong level, and where they belong.
_MISPLACED: Mapping[str, str] = {
    **{handle: f"put it under handles: ({handle}: …)" for handle in HandlesModel.model_fields},
    "feed": "did you mean 'feeds'? (a list of URLs)",
    "rss": "put feed URLs under feeds:",
    "url": "put it under sites: or feeds:",
    "site": "did you mean 'sites'? (a list of URLs)",
    "blog": "put the blog's feed under feeds: and its home page under sites:",
    "podcast": "put it under feeds: as {url: …, kind: podcast}",
    "note": "did you mean 'notes'?",
    "tag": "did you mean 'tags'?",
    "alias": "did you mean 'aliases'?",
}


# ---------------------------------------------------------------------------
# Loading


def load(path: Path) -> Watchlist:
    """Read and validate the watchlist; every problem at once as a ConfigError."""
    label = str(path)
    try:
        _check_size(path.stat().st_size, label)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{label}: no such file (pass --config PATH)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read it ({exc.strerror})") from None
    return load_text(text, label)


def load_text(text: str, label: str = "feeds.yaml") -> Watchlist:
    """Validate watchlist text; `label` is the file name used in messages."""
    _check_size(len(text.encode("utf-8", "surrogatepass")), label)
    tree, root = _parse(text, label)
    problems = _validate(tree, root, label)
    if problems.lines:
        raise ConfigError(problems.lines[0], lines=problems.lines)
    assert problems.model is not None
    return _to_watchlist(problems.model, label)


def control_character_warnings(path: Path) -> list[str]:
    """`FILE:LINE:COL: …` for each value (and each line of comments) holding a character
    that could drive a terminal. A warning, not an error: engage cleans such text before
    it shows it; only in a name or alias is it refused (when the file loads)."""
    label = str(path)
    text = path.read_text(encoding="utf-8")
    tree, _root = _parse(text, label)
    found: dict[int, tuple[int, str]] = {}
    for loc, value in _strings(tree, ()):
        characters = sorted({describe(c) for _i, c in unsafe_characters(value)})
        if characters:
            line, col = _position(tree, loc)
            found.setdefault(line, (col, f"{_dotted(loc)} holds {', '.join(characters)}"))
    # Literal characters outside any value (a comment), where YAML lets them through.
    for number, line_text in enumerate(text.splitlines(), 1):
        for index, character in unsafe_characters(line_text):
            found.setdefault(number, (index + 1, f"{describe(character)} on this line"))
    return [
        f"{label}:{line}:{col}: warning: {message} (engage removes it when it shows the "
        "text; delete it from the file)"
        for line, (col, message) in sorted(found.items())
    ]


def _strings(node: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(node, str):
        yield loc, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*loc, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, (*loc, index))


def _check_size(size: int, label: str) -> None:
    if size > MAX_WATCHLIST_BYTES:
        raise ConfigError(
            f"{label}:1:1: the watchlist is {size / 1024 / 1024:.1f} MiB, more than the "
            f"{MAX_WATCHLIST_BYTES // 1024 // 1024} MiB engage reads (1,000 people written like "
            "the example are about 0.5 MB: look for a long block of comments or text pasted in "
            "by mistake)"
        )


class _Problems:
    def __init__(self, label: str) -> None:
        self.label = label
        self.found: list[tuple[int, int, str]] = []
        self.model: WatchlistModel | None = None

    def add(self, line: int, col: int, message: str) -> None:
        entry = (line, col, message)
        if entry not in self.found:
            self.found.append(entry)

    @property
    def lines(self) -> list[str]:
        return [
            f"{self.label}:{line}:{col}: {_printable(msg)}" for line, col, msg in sorted(self.found)
        ]


def _printable(message: str) -> str:
    """A message quotes what the file says (a key, a name): a newline or another control
    character in it is shown escaped, so every problem stays one line."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if not ch.isprintable() and ch != " " else ch
        for ch in message
    )


def _yaml_reader() -> YAML:
    yaml = YAML(typ="rt")
    # Duplicates are found and reported (all of them, with both lines) by _duplicate_keys;
    # ruamel would otherwise stop at the first one.
    yaml.allow_duplicate_keys = True
    # Validation needs where each value is (the round-trip composer and constructor keep
    # that), never the comments: the round-trip scanner joins a run of comment lines after
    # a value one string concatenation at a time, which took time in the square of the
    # run's length (a 1.6 MB block of comments: 4 s here, 25 s on a slower machine). The
    # plain scanner skips comments in one pass. Edits still read comments (_yaml_writer).
    yaml.Scanner = Scanner
    return yaml


def _parse(text: str, label: str) -> tuple[Any, Node | None]:
    """The data and its node tree from one pass of the (pure-Python, slow) YAML scanner:
    composing once and constructing from the nodes halves the load time of a watchlist."""
    try:
        yaml = _yaml_reader()
        constructor, parser = yaml.get_constructor_parser(text)
        try:
            root = constructor.composer.get_single_node()
            _check_aliases(root, label)
            tree = constructor.construct_document(root) if root is not None else None
        finally:
            parser.dispose()
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = (exc.problem or exc.context or "cannot be read").strip()
        hint = "check the indentation and the quotes around this spot"
        if "\\t" in problem or "\t" in problem:
            hint = "YAML indents with spaces, never tabs"
        elif "another document" in problem:
            hint = "a watchlist is one document: remove the second ---"
        context = f"{exc.context.strip()}; " if exc.context and exc.problem else ""
        raise ConfigError(
            f"{label}:{line}:{col}: YAML syntax error: {problem} ({context}{hint})"
        ) from None
    except ReaderError as exc:
        # A character YAML refuses outright (ESC, BEL, DEL, most C1 controls): say where.
        at = exc.position if isinstance(exc.position, int) else 0
        line = text.count("\n", 0, at) + 1
        col = at - (text.rfind("\n", 0, at) + 1) + 1
        raise ConfigError(
            f"{label}:{line}:{col}: {describe(chr(exc.character))} is a control character, "
            "which YAML does not allow (remove it)"
        ) from None
    except YAMLError as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(f"{label}:1:1: YAML syntax error: {message}") from None
    except RecursionError:
        # ruamel composes and constructs recursively: a few hundred levels of [ or { (or of
        # indentation) exhaust Python's stack long before a watchlist's handful of levels.
        raise ConfigError(
            f"{label}:1:1: values nested too deeply to read (a watchlist needs four or five "
            "levels; look for a long run of [ or {, or of ever deeper indentation)"
        ) from None
    except (TypeError, ValueError) as exc:
        # ruamel's round-trip constructor trips over a mapping or list used as a key (a
        # stray "? " does it); the composer does not, so it can say where.
        lines = [
            f"{label}:{line}:{col}: a key must be a plain word, not a {what} (a stray '? ' "
            "or '{' turns the text after it into a key)"
            for line, col, what in _complex_keys(text)
        ]
        raise ConfigError(
            lines[0] if lines else f"{label}:1:1: cannot be read as YAML ({exc})",
            lines=lines or None,
        ) from None
    if tree is None:
        raise ConfigError(
            f"{label}:1:1: the watchlist is empty (start from the example feeds.yaml: "
            "it needs at least me: {name: …})"
        )
    if not isinstance(tree, CommentedMap):
        raise ConfigError(
            f"{label}:1:1: the watchlist must be a mapping with the keys me:, people:, "
            f"contacts: and settings:, not a {_kind_of(tree)}"
        )
    return tree, root


def _check_aliases(root: Node | None, label: str) -> None:
    """Refuse an alias that contains itself and aliases that expand the document by more
    than MAX_ALIAS_VALUES values, before anything walks the expanded data.

    The composer keeps one node per anchor, so an alias costs nothing here; it is the
    steps after (construction, validation of a plain copy, the duplicate-key walk) that
    expand it. The expanded size is counted on the node graph, each node once."""
    if root is None:
        return
    sizes: dict[int, int] = {}  # node id -> values it stands for, aliases expanded
    open_nodes: set[int] = set()  # on the current path: meeting one again is a cycle
    extra = 0  # values that aliases add
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            open_nodes.discard(key)
            continue
        if key in open_nodes:
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
            raise ConfigError(
                f"{label}:{line}:{col}: an alias refers to the value that contains it, which "
                "never ends (write the value out instead of the alias)"
            )
        if key in sizes:  # met again: an alias
            extra += sizes[key]
            if extra > MAX_ALIAS_VALUES:
                line, col = node.start_mark.line + 1, node.start_mark.column + 1
                raise ConfigError(
                    f"{label}:{line}:{col}: aliases (*name) repeat more than "
                    f"{MAX_ALIAS_VALUES:,} values in this watchlist; write the values out, or "
                    "use fewer aliases"
                )
            continue
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)))


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _validate(tree: CommentedMap, root: Node | None, label: str) -> _Problems:
    problems = _Problems(label)
    for line, col, message in _duplicate_keys(root):
        problems.add(line, col, message)
    try:
        problems.model = WatchlistModel.model_validate(_plain(tree))
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc: Loc = tuple(error["loc"])
            at_key = error["type"] == "extra_forbidden" or (bool(loc) and loc[-1] == "[key]")
            if loc and loc[-1] == "[key]":
                loc = loc[:-1]
            line, col = _position(tree, loc, at_key=at_key)
            problems.add(line, col, _describe(error, loc))
    _cross_checks(tree, problems)
    return problems


def _duplicate_keys(root: Node | None) -> Iterator[tuple[int, int, str]]:
    stack: list[Node] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                stack.append(value)
                if not isinstance(key.value, str) or key.value == "<<":
                    continue
                if key.value in seen:
                    yield (
                        key.start_mark.line + 1,
                        key.start_mark.column + 1,
                        f"duplicate key '{key.value}' (first at line {seen[key.value]}; "
                        "only the first one counts, so merge or remove this one)",
                    )
                else:
                    seen[key.value] = key.start_mark.line + 1
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def _complex_keys(text: str) -> Iterator[tuple[int, int, str]]:
    try:
        root = YAML(typ="rt").compose(text)
    except YAMLError:
        return
    stack: list[Node] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, MappingNode | SequenceNode):
                    what = "mapping" if isinstance(key, MappingNode) else "list"
                    yield key.start_mark.line + 1, key.start_mark.column + 1, what
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def _plain(value: Any) -> Any:
    """ruamel's round-trip types as plain Python, so strict validation sees str/int/list."""
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _position(tree: Any, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
    """1-based line and column of the node `loc` points at, or of its nearest ancestor
    that exists (a missing key points at the mapping that lacks it)."""
    node = tree
    line, col = 0, 0
    if isinstance(tree, CommentedMap) and len(tree):
        line, col = tree.lc.key(next(iter(tree)))
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            try:
                found = node.lc.key(part) if last and at_key else node.lc.value(part)
            except KeyError:  # merged in from an anchor (<<: *base): no position of its own
                break
            if found is None:  # the same, when the mapping holds nothing but the merge
                break
            line, col = found
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        else:
            break
    return line + 1, col + 1


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "the watchlist"


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if value is None:
        return "nothing"
    return type(value).__name__


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The schema model of the mapping at `loc`, to suggest the keys it allows."""
    current: Any = WatchlistModel
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            if typing.get_origin(current) is not list or not args:
                return None
            current = args[0]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == part), None
            )
            if field is None:
                return None
            current = field.annotation
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


_TYPE_WORDS: Mapping[str, str] = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list (one '- item' per line, or [a, b])",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}


def _describe(error: Any, loc: Loc) -> str:
    """One sentence for a pydantic error, in the watchlist's own words."""
    kind = error["type"]
    where = _dotted(loc)
    value = error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1])
        allowed = [f.alias or n for n, f in model.model_fields.items()] if model else []
        guess = _did_you_mean(key, allowed)
        if guess:
            hint = f"did you mean '{guess}'?"
        elif key in _MISPLACED and (
            "handles" in allowed or not _MISPLACED[key].startswith("put it under handles")
        ):
            hint = _MISPLACED[key]
        else:
            hint = "allowed here: " + ", ".join(allowed) if allowed else "remove it"
        parent = _dotted(loc[:-1])
        return f"unknown key '{key}' in {parent} ({hint})"
    if kind == "missing":
        key = str(loc[-1])
        hints = {
            "me": "who you are: me: {name: …, sites: […], feeds: […]}",
            "name": "every person needs a name",
            "url": "a feed mapping needs url: https://…",
        }
        return f"{_dotted(loc[:-1])} is missing '{key}' ({hints.get(key, 'add it')})"
    if kind in _TYPE_WORDS:
        return f"{where} must be {_TYPE_WORDS[kind]}, not {_kind_of(value)}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", ""))
        guess = _did_you_mean(str(value), choices)
        hint = f"did you mean '{guess}'?" if guess else "one of: " + ", ".join(choices)
        if loc and loc[-1] != "kind" and len(loc) >= 2 and loc[-2] == "points":
            return f"unknown event kind '{value}' in {_dotted(loc[:-1])} ({hint})"
        return f"{where} cannot be {value!r} ({hint})"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {
            "greater_than_equal": ("at least", "ge"),
            "greater_than": ("more than", "gt"),
            "less_than_equal": ("at most", "le"),
            "less_than": ("less than", "lt"),
        }[kind]
        limit = error.get("ctx", {}).get(bound[1])
        shown = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
        return f"{where} must be {bound[0]} {shown}, not {value}"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        if message.startswith("poll_interval"):
            return message
        return f"{where}: {message}"
    return f"{where}: {error['msg']}"


def _cross_checks(tree: CommentedMap, problems: _Problems) -> None:
    """Rules that span entries: names unique, knows resolvable, feeds owned once,
    meter thresholds consistent. Written defensively: the tree may be partly wrong."""
    entries = list(_entries(tree))
    names: dict[str, tuple[str, int]] = {}
    for loc, entry in entries:
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            continue
        folded = fold_name(name)
        line, col = _position(tree, (*loc, "name"))
        if folded in names:
            first_name, first_line = names[folded]
            problems.add(
                line,
                col,
                f"'{name.strip()}' is listed twice (first at line {first_line} as "
                f"'{first_name}'; merge the two entries into one)",
            )
        else:
            names[folded] = (name.strip(), line)

    canonical: dict[str, str] = {}
    for _loc, entry in entries:
        name = entry.get("name")
        if isinstance(name, str) and name.strip():
            canonical.setdefault(fold_name(name), name.strip())
    for loc, entry in entries:
        name = entry.get("name")
        aliases = entry.get("aliases")
        if not isinstance(name, str) or not name.strip() or not isinstance(aliases, list):
            continue
        for index, alias in enumerate(aliases):
            if not isinstance(alias, str) or not alias.strip():
                continue
            other = canonical.setdefault(fold_name(alias), name.strip())
            if fold_name(other) != fold_name(name):
                # Detection tells comment authors apart by name and alias; one spelling
                # for two people would credit one with the other's comments.
                line, col = _position(tree, (*loc, "aliases", index))
                problems.add(
                    line,
                    col,
                    f"alias '{alias.strip()}' of {name.strip()} is already {other}'s name or "
                    "alias (each spelling must point to one person)",
                )
    known_names = sorted({value for value in canonical.values()})
    for loc, entry in entries:
        knows = entry.get("knows")
        if not isinstance(knows, list):
            continue
        for index, other in enumerate(knows):
            if not isinstance(other, str) or not other.strip():
                continue
            if fold_name(other) not in canonical:
                line, col = _position(tree, (*loc, "knows", index))
                guess = _did_you_mean(other.strip(), known_names)
                hint = (
                    f"did you mean '{guess}'?"
                    if guess
                    else "add them under people: or contacts:, or fix the spelling"
                )
                problems.add(
                    line, col, f"knows '{other.strip()}', who is nobody in this file ({hint})"
                )

    owners: dict[str, tuple[str, int]] = {}
    for loc, entry in entries:
        feeds = entry.get("feeds")
        owner = entry.get("name") if isinstance(entry.get("name"), str) else "?"
        for index, feed in enumerate(feeds if isinstance(feeds, list) else []):
            url = feed.get("url") if isinstance(feed, dict) else feed
            if not isinstance(url, str) or not url.strip():
                continue
            line, col = _position(tree, (*loc, "feeds", index))
            key = feed_key(url)
            if key in owners:
                first_owner, first_line = owners[key]
                problems.add(
                    line,
                    col,
                    f"feed {url.strip()} is listed twice (first at line {first_line}, under "
                    f"{first_owner}; a feed belongs to one person, so keep one)",
                )
            else:
                owners[key] = (str(owner), line)

    _check_handles(tree, entries, problems)
    _check_settings(tree, problems)


def _check_handles(
    tree: CommentedMap, entries: list[tuple[Loc, dict[str, Any]]], problems: _Problems
) -> None:
    """One account, one person: the conversation found on an account is filed under whoever
    lists it, so two entries with one handle would each be credited with it."""
    readers = {"mastodon": parse_mastodon, "bluesky": parse_bluesky}
    owners: dict[tuple[str, str], tuple[str, int]] = {}
    for loc, entry in entries:
        handles = entry.get("handles")
        if not isinstance(handles, dict):
            continue
        owner = entry.get("name") if isinstance(entry.get("name"), str) else "?"
        for network, read in readers.items():
            value = handles.get(network)
            if not isinstance(value, str):
                continue
            try:
                handle = str(read(value)).casefold()
            except ValueError:
                continue  # reported by the schema
            line, col = _position(tree, (*loc, "handles", network))
            first = owners.get((network, handle))
            if first is not None:
                problems.add(
                    line,
                    col,
                    f"{network} handle {value.strip()} is listed twice (first at line "
                    f"{first[1]}, under {first[0]}; an account belongs to one person)",
                )
            else:
                owners[(network, handle)] = (str(owner), line)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


# An alias this short, or one word of the person's own name (their first name, or their
# surname alone), is shared by many people.
SHORT_ALIAS = 4


def warnings(path: Path) -> list[str]:
    """What `engage check` points out without failing: FILE:LINE:COL: warning: … lines.
    Today: aliases a stranger could sign with (one word of the person's own name, such
    as their first name, or under four letters), which make detections that rest on them
    wait for review. A handle ("robinq") is not flagged: strangers rarely share one."""
    label = str(path)
    tree, _root = _parse(path.read_text(encoding="utf-8"), label)
    found: list[tuple[int, int, str]] = []
    for loc, entry in _entries(tree):
        name = entry.get("name")
        aliases = entry.get("aliases")
        if not isinstance(name, str) or not isinstance(aliases, list):
            continue
        who = "you" if loc == ("me",) else name.strip()
        words = fold_name(name).split()
        for index, alias in enumerate(aliases):
            if not isinstance(alias, str) or not alias.strip():
                continue
            text = alias.strip()
            if len(text.replace(".", "").replace(" ", "")) < SHORT_ALIAS:
                why = f"is shorter than {SHORT_ALIAS} letters"
            elif len(words) > 1 and fold_name(text) == words[0]:
                why = "is a first name alone"
            elif len(words) > 1 and fold_name(text) in words:
                why = "is one word of the name alone"
            else:
                continue
            line, col = _position(tree, (*loc, "aliases", index))
            found.append(
                (
                    line,
                    col,
                    f"warning: alias '{text}' of {name.strip()} {why}: strangers sign with it "
                    f"too, so a comment matched on it alone is not taken for {who} until "
                    "you review it (add the site or profile URL that identifies them under "
                    "sites:, or a fuller alias)",
                )
            )
    return [f"{label}:{line}:{col}: {message}" for line, col, message in sorted(found)]


def _check_settings(tree: CommentedMap, problems: _Problems) -> None:
    settings = tree.get("settings")
    if not isinstance(settings, dict):
        return
    concurrency = _number(settings.get("concurrency", _DEFAULTS.concurrency))
    per_host = _number(settings.get("per_host", _DEFAULTS.per_host))
    if concurrency is not None and per_host is not None and per_host > concurrency:
        key = "per_host" if "per_host" in settings else "concurrency"
        line, col = _position(tree, ("settings", key))
        problems.add(
            line,
            col,
            f"settings.per_host ({per_host:g}) is above settings.concurrency "
            f"({concurrency:g}) (lower per_host or raise concurrency)",
        )
    meter = settings.get("meter")
    if not isinstance(meter, dict):
        return
    pairs = (
        # (lower key, upper key, why the lower must not exceed the upper)
        (
            "ready_exit_score",
            "ready_score",
            "leaving 'ready' must need a lower score than entering it, or the stage would flicker",
        ),
        ("ask_follow_up_days", "ask_park_days", "the one follow-up comes before an ask is parked"),
        ("gives_needed_met", "gives_needed", "after a meeting fewer gives are needed, not more"),
    )
    for low_key, high_key, why in pairs:
        low = _number(meter.get(low_key, getattr(_RULES, low_key)))
        high = _number(meter.get(high_key, getattr(_RULES, high_key)))
        if low is None or high is None or low <= high:
            continue
        if low_key == "ready_exit_score" and low == high:
            continue
        key = low_key if low_key in meter else high_key
        line, col = _position(tree, ("settings", "meter", key))
        low_note = "" if low_key in meter else ", the default"
        high_note = "" if high_key in meter else ", the default"
        problems.add(
            line,
            col,
            f"settings.meter.{low_key} ({low:g}{low_note}) is above "
            f"settings.meter.{high_key} ({high:g}{high_note}) ({why})",
        )


def _entries(tree: CommentedMap) -> Iterator[tuple[Loc, dict[str, Any]]]:
    """(location, mapping) of me, every person and every contact, in file order."""
    me = tree.get("me")
    if isinstance(me, dict):
        yield ("me",), me
    for section in ("people", "contacts"):
        items = tree.get(section)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                yield (section, index), item


def feed_key(url: str) -> str:
    """Two spellings of one feed URL (host case, `www.`, a trailing slash) compare equal."""
    return normalize_url(url, keep_scheme=True)


def _to_watchlist(model: WatchlistModel, label: str) -> Watchlist:
    canonical: dict[str, str] = {}
    everyone: list[MeModel | PersonModel] = [model.me, *model.people, *model.contacts]
    for entry in everyone:
        canonical.setdefault(fold_name(entry.name), entry.name)
    for entry in everyone:
        for alias in entry.aliases:
            canonical.setdefault(fold_name(alias), entry.name)

    def feeds(items: list[FeedModel]) -> tuple[FeedRef, ...]:
        return tuple(
            FeedRef(
                f.url,
                FeedKind(f.kind),
                f.title,
                max_bytes=int(f.max_body_mb * 1024 * 1024) if f.max_body_mb else None,
            )
            for f in items
        )

    def handles(h: HandlesModel) -> dict[str, str]:
        return {k: str(v) for k, v in h.model_dump().items() if v is not None}

    def person(p: PersonModel, role: Role) -> Person:
        return Person(
            name=p.name,
            role=role,
            aliases=tuple(p.aliases),
            sites=tuple(p.sites),
            feeds=feeds(p.feeds),
            handles=handles(p.handles),
            # knows may name someone by an alias; the rest of engage speaks in names.
            knows=tuple(dict.fromkeys(canonical[fold_name(k)] for k in p.knows)),
            notes=p.notes.strip(),
            tags=tuple(p.tags),
            company=p.company,
            strength=p.strength if isinstance(p, ContactModel) else None,
            stay_in_touch_days=int(p.stay_in_touch) if p.stay_in_touch is not None else None,
        )

    me = Person(
        name=model.me.name,
        role=Role.ME,
        aliases=tuple(model.me.aliases),
        sites=tuple(model.me.sites),
        feeds=feeds(model.me.feeds),
        handles=handles(model.me.handles),
        interests=tuple(model.me.interests),
    )
    s = model.settings
    hour, minute = (int(part) for part in s.digest.time.split(":"))
    defaults = MeterRules()
    rules = MeterRules(
        points={**defaults.points, **{EventKind(k): float(v) for k, v in s.meter.points.items()}},
        **{name: getattr(s.meter, name) for name in MeterModel.model_fields if name != "points"},
    )
    settings = Settings(
        poll_interval_minutes=s.poll_interval,
        concurrency=s.concurrency,
        per_host=s.per_host,
        timeout_seconds=float(s.timeout_seconds),
        max_body_bytes=int(s.max_body_mb * 1024 * 1024),
        contact_url=s.contact_url,
        data_dir=s.data_dir,
        templates_dir=s.templates_dir,
        cache_days=s.cache_days,
        bluesky_appview=s.bluesky_appview,
        mastodon_api=dict(s.mastodon_api),
        digest=DigestSettings(
            time=time(hour, minute),
            email_to=s.digest.to,
            email_from=s.digest.from_,
            smtp_host=s.digest.smtp_host,
            smtp_port=s.digest.smtp_port or SMTP_PORTS[s.digest.smtp_security()],
            smtp_user=s.digest.smtp_user,
            smtp_password_env=s.digest.smtp_password_env,
            smtp_security=s.digest.smtp_security(),
            smtp_timeout_seconds=float(s.digest.timeout_seconds),
        ),
        meter=rules,
        stay_in_touch_by_tag={tag: int(days) for tag, days in s.stay_in_touch.items()},
    )
    return Watchlist(
        me=me,
        people=tuple(person(p, Role.PERSON) for p in model.people),
        contacts=tuple(person(c, Role.CONTACT) for c in model.contacts),
        settings=settings,
        path=label,
    )


def find_feed_owner(watchlist: Watchlist, url: str) -> Person | None:
    """Who listed this feed (me, a person or a contact), comparing URLs loosely."""
    key = feed_key(url)
    for person in watchlist.everyone():
        if any(feed_key(feed.url) == key for feed in person.feeds):
            return person
    return None


# ---------------------------------------------------------------------------
# Editing in place


class _Document:
    """A watchlist opened for a round-trip edit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        try:
            with path.open(encoding="utf-8", newline="") as file:
                raw = file.read()  # read once; untranslated, so the line ends can be seen
        except (OSError, UnicodeDecodeError):
            load(path)  # says what is wrong with the file, as one located line
            raise
        # A file saved on Windows keeps its CRLF line ends after an edit.
        self.newline = "\r\n" if "\r\n" in raw else "\n"
        self.original = raw.replace("\r\n", "\n").replace("\r", "\n")
        # Refuse to edit a file that is already broken.
        self.watchlist = load_text(self.original, self.label)
        self.yaml = _yaml_writer(self.original)
        self.tree: CommentedMap = self.yaml.load(self.original)

    def entry(self, name: str) -> CommentedMap | None:
        # Names compare as everywhere else (Watchlist.find): case, accents, spacing aside.
        folded = fold_name(name)
        entries = [entry for _loc, entry in _entries(self.tree)]
        for entry in entries:
            entry_name = entry.get("name")
            if isinstance(entry_name, str) and fold_name(entry_name) == folded:
                return typing.cast(CommentedMap, entry)
        for entry in entries:
            aliases = entry.get("aliases")
            for alias in aliases if isinstance(aliases, list) else []:
                if isinstance(alias, str) and fold_name(alias) == folded:
                    return typing.cast(CommentedMap, entry)
        if folded == "me" and isinstance(self.tree.get("me"), CommentedMap):
            return typing.cast(CommentedMap, self.tree["me"])
        return None

    def owner_of(self, url: str) -> str | None:
        key = feed_key(url)
        for _loc, entry in _entries(self.tree):
            for feed in entry.get("feeds") or []:
                feed_url = feed.get("url") if isinstance(feed, dict) else feed
                if isinstance(feed_url, str) and feed_key(feed_url) == key:
                    return str(entry.get("name"))
        return None

    def short_list(self, items: Iterable[str]) -> CommentedSeq:
        """A list for aliases or sites, in the style the file already uses for them."""
        seq = CommentedSeq(items)
        for _loc, entry in _entries(self.tree):
            for key in ("aliases", "sites"):
                existing = entry.get(key)
                if isinstance(existing, CommentedSeq):
                    if existing.fa.flow_style():
                        seq.fa.set_flow_style()
                    return seq
        return seq

    def save(self) -> None:
        buffer = io.StringIO()
        self.yaml.dump(self.tree, buffer)
        text = buffer.getvalue()
        if text == self.original:
            return
        try:
            load_text(text, self.label)
        except ConfigError as exc:
            raise EngageError(
                f"{self.label}: not changed, the edit would make it invalid: {exc.lines[0]}",
                lines=[f"{self.label}: not changed, the edit would make it invalid:", *exc.lines],
            ) from None
        # Someone saving the file in an editor meanwhile would lose their change silently.
        if self.path.read_text(encoding="utf-8") != self.original:
            raise EngageError(f"{self.label} changed while engage was editing it; try again")
        target = self.path.resolve()  # a symlinked watchlist stays a symlink
        atomic_write(target, text.replace("\n", self.newline).encode("utf-8"))


def _yaml_writer(text: str) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long note or URL
    mapping, sequence, offset = _guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    if text.lstrip().startswith("---"):
        yaml.explicit_start = True
    return yaml


def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes them, so an
    edit adds lines that look like their neighbours. Defaults: 2, 4, 2."""
    mapping = sequence = offset = None
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    for here, after in itertools.pairwise(lines):
        if not re.fullmatch(r"\s*(-\s+)?[^\s#-][^:]*:\s*(#.*)?", here):
            continue
        key_at = re.match(r"\s*(-\s+)?", here)
        base = key_at.end() if key_at else 0
        indent = len(after) - len(after.lstrip())
        dash = re.match(r"(\s*)-(\s+)", after)
        if dash and indent >= base:
            if offset is None:
                offset = indent - base
                sequence = dash.end() - base
        elif indent > base and mapping is None:
            mapping = indent - base
        if mapping is not None and offset is not None:
            break
    return mapping or 2, sequence or 4, offset if offset is not None else 2


def _trailing_comment_slot(node: Any) -> tuple[Any, Any, int] | None:
    """Where ruamel keeps the comment lines that follow a block: on its deepest last key
    or item. Returns (container, key, slot index) of that comment, or None."""
    if isinstance(node, CommentedMap) and len(node) and not node.fa.flow_style():
        key = list(node)[-1]
        deeper = _trailing_comment_slot(node[key])
        if deeper is not None:
            return deeper
        items = node.ca.items.get(key)
        if items and len(items) > 2 and items[2] is not None:
            return node, key, 2
        return None
    if isinstance(node, CommentedSeq) and len(node) and not node.fa.flow_style():
        index = len(node) - 1
        deeper = _trailing_comment_slot(node[index])
        if deeper is not None:
            return deeper
        items = node.ca.items.get(index)
        if items and items[0] is not None:
            return node, index, 0
        return None
    return None


def _own_slot(container: Any, key: Any) -> tuple[Any, Any, int] | None:
    """The comment after container[key] itself (a scalar value's line)."""
    position = 2 if isinstance(container, CommentedMap) else 0
    items = container.ca.items.get(key)
    if items and len(items) > position and items[position] is not None:
        return container, key, position
    return None


def _detach_following_lines(container: Any, key: Any) -> Any | None:
    """Cut the comment lines that follow container[key] (a blank line, a comment that
    introduces what comes next) off it, keeping an end-of-line comment in place.

    ruamel stores them on the last node before them, so anything inserted right after
    that node would land below them, separating a comment from what it introduces."""
    slot = _trailing_comment_slot(container[key]) or _own_slot(container, key)
    if slot is None:
        return None
    holder, holder_key, position = slot
    token = holder.ca.items[holder_key][position]
    first, newline, rest = str(token.value).partition("\n")
    if not rest:
        return None
    if first.strip():
        token.value = first + newline
    else:
        holder.ca.items[holder_key][position] = None
        if not any(holder.ca.items[holder_key]):
            del holder.ca.items[holder_key]
    moved = copy.copy(token)
    moved.value = "\n" + rest
    return moved


def _attach_following_lines(token: Any | None, container: Any, key: Any) -> None:
    if token is None:
        return
    holder, holder_key, position = _last_scalar_slot(container[key], container, key)
    entry = holder.ca.items.setdefault(holder_key, [None, None, None, None])
    held = entry[position]
    if held is None:
        entry[position] = token
    else:  # the end of its own line and lines already there stay, the moved ones follow
        held.value = str(held.value).rstrip("\n") + "\n" + str(token.value)[1:]


def _last_scalar_slot(node: Any, parent: Any, key: Any) -> tuple[Any, Any, int]:
    if isinstance(node, CommentedMap) and len(node) and not node.fa.flow_style():
        last = list(node)[-1]
        return _last_scalar_slot(node[last], node, last)
    if isinstance(node, CommentedSeq) and len(node) and not node.fa.flow_style():
        return _last_scalar_slot(node[len(node) - 1], node, len(node) - 1)
    return (parent, key, 2 if isinstance(parent, CommentedMap) else 0)


def _append(seq: CommentedSeq, item: Any) -> None:
    """Append to a list; the comment lines after its old last item move below the new one."""
    token = _detach_following_lines(seq, len(seq) - 1) if len(seq) else None
    seq.append(item)
    _attach_following_lines(token, seq, len(seq) - 1)


def _insert_key(mapping: CommentedMap, position: int, key: str, value: Any) -> None:
    """Insert a key; the comment lines after the key before it move below the new one."""
    keys = list(mapping)
    token = _detach_following_lines(mapping, keys[position - 1]) if position > 0 else None
    mapping.insert(position, key, value)
    _attach_following_lines(token, mapping, key)


def _feed_node(feed: FeedRef) -> Any:
    # Often the feed's own title: text from the network, cleaned before it is written.
    title = clean_title(feed.title) if feed.title else ""
    if feed.kind == FeedKind.BLOG and not title and not feed.max_bytes:
        return feed.url
    node = CommentedMap()
    node["url"] = feed.url
    node["kind"] = feed.kind.value
    if title:
        node["title"] = title
    if feed.max_bytes:
        node["max_body_mb"] = round(feed.max_bytes / (1024 * 1024), 3)
    return node


def _check_url(url: str, what: str = "feed") -> str:
    try:
        return clean_url(_http_url(url))  # a site or feed URL may come from a page
    except ValueError as exc:
        raise EngageError(f"{what} URL {exc}") from None


def _check_name(name: str, what: str = "a name") -> str:
    try:
        return _person_name(name)
    except ValueError as exc:
        raise EngageError(f"{what} {exc}") from None


def _add_to_section(doc: _Document, name: str, entry: CommentedMap) -> None:
    section = doc.tree.get(name)
    if isinstance(section, CommentedSeq):
        _append(section, entry)
    elif name in doc.tree:  # `people:` with nothing under it yet
        doc.tree[name] = CommentedSeq([entry])
    else:
        # Keep the usual order: me, people, contacts, settings.
        order = ["me", "people", "contacts", "settings"]
        later = [key for key in order[order.index(name) + 1 :] if key in doc.tree]
        position = list(doc.tree).index(later[0]) if later else len(doc.tree)
        _insert_key(doc.tree, position, name, CommentedSeq([entry]))


def _add_feed_node(entry: CommentedMap, node: Any) -> None:
    feeds = entry.get("feeds")
    if isinstance(feeds, CommentedSeq):
        _append(feeds, node)
    elif "feeds" in entry:  # `feeds:` with nothing under it yet
        entry["feeds"] = CommentedSeq([node])
    else:
        keys = list(entry)
        after = [k for k in ("sites", "aliases", "name") if k in keys]
        position = keys.index(after[0]) + 1 if after else len(keys)
        _insert_key(entry, position, "feeds", CommentedSeq([node]))


@contextmanager
def _edit_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock during an edit, so two `engage add-feed` at once both land
    instead of the second undoing the first.

    The lock file lives in the cache folder, not beside the watchlist: the user's folder
    stays as they keep it. Without a writable cache folder the edit goes on unlocked, and
    save() still refuses to overwrite a file that changed since it was read."""
    lock_file = cached_file_for(path, "watchlist-edit", ".lock")

    def busy() -> EngageError:
        return EngageError(
            f"{path}: another engage command has been editing it for "
            f"{EDIT_LOCK_SECONDS:g} s; try again when it is done"
        )

    with contextlib.suppress(OSError):
        lock_file.parent.mkdir(parents=True, exist_ok=True)
    with holding(lock_file, timeout=EDIT_LOCK_SECONDS, busy=busy, unavailable=lambda _exc: None):
        yield


def add_person(
    path: Path,
    name: str,
    *,
    sites: Sequence[str] = (),
    feeds: Sequence[str | FeedRef] = (),
    kind: FeedKind | str | None = None,
    aliases: Sequence[str] = (),
) -> None:
    """Add someone to `people:`. Bare feed URLs get `kind` (blog when None)."""
    name = name.strip()
    if not name:
        raise EngageError("a person needs a name")
    name = _check_name(name)
    aliases = [_check_name(alias, "an alias") for alias in aliases if alias.strip()]
    with _edit_lock(path):
        doc = _Document(path)
        if doc.entry(name) is not None or fold_name(name) == fold_name(doc.watchlist.me.name):
            raise EngageError(f"{name} is already in {doc.label}")
        refs = [_as_ref(feed, kind) for feed in feeds]
        seen: set[str] = set()
        for ref in refs:
            owner = doc.owner_of(ref.url)
            if owner is not None:
                raise EngageError(f"{owner} already has feed {ref.url}")
            if feed_key(ref.url) in seen:
                raise EngageError(f"feed {ref.url} is given twice")
            seen.add(feed_key(ref.url))
        entry = CommentedMap()
        entry["name"] = name
        if aliases:
            entry["aliases"] = doc.short_list(aliases)
        if sites:
            entry["sites"] = doc.short_list(_check_url(s, "site") for s in sites)
        if refs:
            entry["feeds"] = CommentedSeq(_feed_node(ref) for ref in refs)
        _add_to_section(doc, "people", entry)
        doc.save()


def _yaml_list(items: Sequence[str]) -> str:
    # JSON strings are YAML double-quoted scalars: any name or URL is written safely.
    return "[" + ", ".join(json.dumps(item, ensure_ascii=False) for item in items) + "]"


def starter(
    name: str, *, aliases: Sequence[str] = (), sites: Sequence[str] = (), feeds: Sequence[str] = ()
) -> str:
    """A commented starter watchlist for `engage init`: me, and empty sections that the
    commands fill in (add, add-person, met --create), each saying how."""
    name = name.strip()
    if not name:
        raise EngageError("init needs your name (--name)")
    sites = [_check_url(s, "site") for s in sites]
    feeds = [_check_url(f) for f in feeds]
    aliases = [a.strip() for a in aliases if a.strip()]
    lines = [
        "# engage watchlist: who I am, the people I want to meet, and the people I already",
        "# know who could introduce me. `engage check` validates it; `engage add`, `engage",
        "# add-person` and `engage met NAME --create` edit it in place, keeping these comments.",
        "#",
        "# A feed is a URL, or a mapping {url, kind, title}. kind is one of",
        "# blog (the default), podcast, video, social, comments, forum.",
        "",
        "me:",
        f"  name: {json.dumps(name, ensure_ascii=False)}",
        "  # How my name shows up as a comment author. A first name alone is shared by",
        "  # strangers: a comment matched on it waits for `engage review`.",
        f"  aliases: {_yaml_list(aliases)}",
        "  # My sites: a comment that carries one of these URLs is mine for sure, and a",
        "  # post that links here mentions me.",
        f"  sites: {_yaml_list(sites)}",
        "  # My blog's feed and its comment feed: engage add https://my.site/ --person me",
        "  feeds:",
        *(f"    - {json.dumps(feed, ensure_ascii=False)}" for feed in feeds),
        "  # Posts about these rank higher in the digest, e.g. [feed readers, python].",
        "  interests: []",
        "",
        "# The people I want to meet, added with",
        '#   engage add https://their.site/ --person "Their Name" --create',
        '#   engage met "Their Name" --event "PyCon" --create',
        "people:",
        "",
        "# People I already know, who could introduce me (they may name people above",
        "# under knows:).",
        "contacts:",
        "",
        "settings:",
        "  poll_interval: 60          # minutes; never below 15",
        "",
    ]
    return "\n".join(lines)


def write_starter(path: Path, text: str) -> None:
    """Write a new watchlist; never over an existing file."""
    load_text(text, str(path))  # what init writes passes `engage check`
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise EngageError(
            f"{path} already exists; init never overwrites a watchlist (edit it, or pass "
            "--config for a new one)"
        ) from None
    except OSError as exc:
        raise EngageError(f"{path}: cannot write it ({exc.strerror or exc})") from None


def _as_ref(feed: str | FeedRef, kind: FeedKind | str | None) -> FeedRef:
    if isinstance(feed, FeedRef):
        return replace(feed, url=_check_url(feed.url))
    return FeedRef(_check_url(feed), _feed_kind(kind or FeedKind.BLOG))


def _feed_kind(kind: FeedKind | str) -> FeedKind:
    try:
        return FeedKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in FeedKind)
        raise EngageError(f"unknown feed kind {kind!r} (one of: {choices})") from None


def add_feed(
    path: Path,
    person_name: str,
    url: str,
    *,
    kind: FeedKind | str = FeedKind.BLOG,
    title: str | None = None,
) -> None:
    """Add a feed to someone already in the watchlist (a person, a contact, or "me")."""
    ref = FeedRef(_check_url(url), _feed_kind(kind), title.strip() if title else None)
    with _edit_lock(path):
        doc = _Document(path)
        entry = doc.entry(person_name)
        if entry is None:
            names = [p.name for p in doc.watchlist.everyone()]
            guess = _did_you_mean(person_name, names)
            hint = f"did you mean '{guess}'?" if guess else "add them first with engage add-person"
            raise EngageError(f"nobody called {person_name!r} in {doc.label} ({hint})")
        owner = doc.owner_of(ref.url)
        if owner is not None:
            raise EngageError(f"{owner} already has feed {ref.url}")
        _add_feed_node(entry, _feed_node(ref))
        doc.save()


def add_people(path: Path, people: Sequence[tuple[str, Sequence[FeedRef]]]) -> tuple[int, int]:
    """Bulk add (OPML import): new people, or new feeds on people already listed.
    Feeds already in the watchlist are skipped, not refused. Returns (people, feeds) added."""
    with _edit_lock(path):
        doc = _Document(path)
        people_added = feeds_added = 0
        for raw_name, feeds in people:
            name = clean_name(raw_name)  # an OPML folder or title: text from the network
            if not name:
                continue
            fresh: list[FeedRef] = []
            for feed in feeds:
                ref = replace(feed, url=_check_url(feed.url))
                if doc.owner_of(ref.url) is None and all(
                    feed_key(ref.url) != feed_key(f.url) for f in fresh
                ):
                    fresh.append(ref)
            if not fresh:
                continue
            entry = doc.entry(name)
            if entry is None:
                entry = CommentedMap()
                entry["name"] = name
                entry["feeds"] = CommentedSeq(_feed_node(ref) for ref in fresh)
                _add_to_section(doc, "people", entry)
                people_added += 1
            else:
                for ref in fresh:
                    _add_feed_node(entry, _feed_node(ref))
            feeds_added += len(fresh)
        if feeds_added:
            doc.save()
        return people_added, feeds_added


def apply_moves(path: Path, moves: Mapping[str, str]) -> int:
    """Rewrite feed URLs old → new (a permanent redirect the user accepted), wherever
    they are listed. Returns how many entries changed; the file is untouched when none."""
    wanted = {feed_key(old): _check_url(new) for old, new in moves.items()}
    with _edit_lock(path):
        doc = _Document(path)
        changed = 0

        def rewrite(container: Any, key: str | int, value: Any) -> None:
            nonlocal changed
            if not isinstance(value, str) or feed_key(value) not in wanted:
                return
            new = wanted[feed_key(value)]
            if new == value:
                return
            # Keep the user's quoting: ruamel gives quoted scalars their own str subclass.
            container[key] = type(value)(new) if type(value) is not str else new
            changed += 1

        for _loc, entry in _entries(doc.tree):
            feeds = entry.get("feeds")
            if not isinstance(feeds, CommentedSeq):
                continue
            for index, feed in enumerate(feeds):
                if isinstance(feed, CommentedMap):
                    rewrite(feed, "url", feed.get("url"))
                else:
                    rewrite(feeds, index, feed)
        if changed:
            doc.save()
        return changed


def _listed(doc: _Document, name: str) -> CommentedMap | None:
    """The entry whose name (not an alias) is `name`: a rename or a merge names who it
    changes by their name, so an alias never picks the wrong entry."""
    folded = fold_name(name)
    for _loc, entry in _entries(doc.tree):
        entry_name = entry.get("name")
        if isinstance(entry_name, str) and fold_name(entry_name) == folded:
            return typing.cast(CommentedMap, entry)
    return None


def _listed_or_error(doc: _Document, name: str) -> CommentedMap:
    entry = _listed(doc, name)
    if entry is not None:
        return entry
    owner = doc.entry(name)
    if owner is not None:
        raise EngageError(
            f"{name!r} is an alias of {owner['name']} in {doc.label}; name them by their name"
        )
    names = [p.name for p in doc.watchlist.everyone()]
    guess = _did_you_mean(name, names)
    hint = f" (did you mean '{guess}'?)" if guess else ""
    raise EngageError(f"nobody called {name!r} in {doc.label}{hint}")


def _same_style(old: Any, new: str) -> Any:
    """`new` quoted as `old` was: ruamel gives quoted scalars their own str subclass."""
    return type(old)(new) if isinstance(old, str) and type(old) is not str else new


def _delete_item(parent: CommentedMap, key: str, index: int) -> None:
    """Delete parent[key][index] without losing the comments around it; a list left empty
    loses its key (_delete_key).

    ruamel keeps the comment lines between two block items on the last scalar of the first
    (after a flow-style value, as the second one's own comment, which `del` moves along),
    and those above a first item on the list's key. The lines after the deleted item (what
    introduces the next) stay, where the lines above it were; its description right above
    it (comment lines with no blank line between them and the item) goes with it."""
    seq = parent[key]
    if len(seq) == 1:
        _delete_key(parent, key)
        return
    following = _detach_following_lines(seq, index)
    moved = str(following.value)[1:] if following is not None else ""
    if index:
        above = _trailing_comment_slot(seq[index - 1]) or _own_slot(seq, index - 1)
        del seq[index]
        if above is not None:
            holder, holder_key, position = above
            token = holder.ca.items[holder_key][position]
            token.value = _lines_replaced(str(token.value), moved)
        elif moved.strip():
            _attach_following_lines(following, seq, index - 1)
        return
    slots = parent.ca.items.get(key) or []
    key_token = slots[2] if len(slots) > 2 else None
    before = slots[3] if len(slots) > 3 and isinstance(slots[3], list) else None
    if before:
        while before and str(before[-1].value).lstrip().startswith("#"):
            before.pop()  # the first item's own description
    elif key_token is not None:
        key_token.value = _lines_replaced(str(key_token.value), "")
    del seq[index]
    lines = []
    if isinstance(pre := seq.ca.items.get(0), list) and pre[1]:
        # The new first item's own comment lines (after a flow-style value): on the key
        # now, where ruamel writes the lines above a first item.
        lines, pre[1] = pre[1], None
    elif following is not None and moved.strip():
        # ruamel indents the first line itself, and writes the others as they are.
        following.value = moved.lstrip()
        lines = [following]
    while lines and not str(lines[0].value).strip():
        lines.pop(0)  # no blank line right under the key
    if lines:
        if before is None:
            before = parent.ca.items.setdefault(key, [None, None, None, None])[3] = []
        before.extend(lines)
        seq.ca.comment = [None, before]


def _lines_replaced(value: str, moved: str) -> str:
    """A trailing comment's text (the end of its own line, then whole lines) without the
    description at its end, and with `moved` lines, when they say anything, after it."""
    first, newline, rest = value.partition("\n")
    lines = rest.splitlines(keepends=True)
    while lines and lines[-1].lstrip().startswith("#"):
        lines.pop()
    if moved.strip():
        while lines and not lines[-1].strip():
            lines.pop()  # the moved lines bring their own blank line
        lines.append(moved)
    return first + newline + "".join(lines)


def _names_list(doc: _Document, entry: CommentedMap, key: str) -> CommentedSeq:
    """The entry's list under `key` (aliases, sites, tags, knows, feeds), made when
    missing, after the keys it usually follows."""
    current = entry.get(key)
    if isinstance(current, CommentedSeq):
        return current
    seq = CommentedSeq() if key in ("feeds", "knows") else doc.short_list(())
    if key in entry:
        entry[key] = seq
    else:
        order = ["name", "aliases", "sites", "feeds", "handles", "knows", "company", "tags"]
        before = order[: order.index(key)] if key in order else order
        keys = list(entry)
        after = [k for k in keys if k in before]
        position = keys.index(after[-1]) + 1 if after else len(keys)
        _insert_key(entry, position, key, seq)
    return typing.cast(CommentedSeq, entry[key])


def _add_alias(doc: _Document, entry: CommentedMap, alias: str) -> bool:
    """Add an alias unless the entry is already known by that spelling."""
    folded = fold_name(alias)
    aliases = entry.get("aliases")
    known = [entry.get("name"), *(aliases if isinstance(aliases, list) else [])]
    if any(isinstance(name, str) and fold_name(name) == folded for name in known):
        return False
    _append(_names_list(doc, entry, "aliases"), alias)
    return True


def _drop_alias(entry: CommentedMap, name: str) -> None:
    aliases = entry.get("aliases")
    if not isinstance(aliases, CommentedSeq):
        return
    for index in reversed(range(len(aliases))):
        if isinstance(aliases[index], str) and fold_name(aliases[index]) == fold_name(name):
            _delete_item(entry, "aliases", index)


def _rewrite_knows(doc: _Document, names: Iterable[str], to: str) -> None:
    """Every `knows:` entry naming one of `names` names `to` instead (once per list), and
    nobody knows themselves."""
    folded = {fold_name(name) for name in names}
    for _loc, entry in _entries(doc.tree):
        knows = entry.get("knows")
        if not isinstance(knows, CommentedSeq):
            continue
        own = fold_name(str(entry.get("name", "")))
        seen: set[str] = set()
        doomed: list[int] = []
        for index, item in enumerate(knows):
            if not isinstance(item, str):
                continue
            if fold_name(item) in folded:
                knows[index] = item = _same_style(item, to)
            if fold_name(item) == own or fold_name(item) in seen:
                doomed.append(index)
            seen.add(fold_name(item))
        for index in reversed(doomed):
            _delete_item(typing.cast(CommentedMap, entry), "knows", index)


def _delete_key(mapping: CommentedMap, key: str) -> None:
    """Delete a key; the comment lines after its value stay, under the key before it."""
    keys = list(mapping)
    token = _detach_following_lines(mapping, key)
    del mapping[key]
    position = keys.index(key)
    if token is not None and position > 0:
        _attach_following_lines(token, mapping, keys[position - 1])


def rename_person(path: Path, old: str, new: str, *, keep_alias: bool = True) -> str:
    """Rename the entry called `old` (me, a person or a contact) to `new` in place: the old
    name becomes an alias unless `keep_alias` is False (an alias that is the new name goes),
    and every `knows:` naming them follows. Returns the old name as it was written."""
    new = new.strip()
    if not new:
        raise EngageError("a person needs a name")
    with _edit_lock(path):
        doc = _Document(path)
        entry = _listed_or_error(doc, old)
        was = str(entry["name"])
        other = doc.entry(new)
        if other is not None and other is not entry:
            raise EngageError(
                f"{new!r} is already {other['name']} in {doc.label}; to make two entries one "
                f"person, use `engage merge`"
            )
        entry["name"] = _same_style(entry["name"], new)
        _drop_alias(entry, new)
        if keep_alias and fold_name(was) != fold_name(new):
            _add_alias(doc, entry, was)
        _rewrite_knows(doc, [was], new)
        doc.save()
        return was


def merge_people(path: Path, keep: str, gone: str) -> tuple[str, str, list[str]]:
    """Make two entries one: `gone`'s name and aliases become aliases of `keep`, its sites,
    feeds, handles, tags, knows and notes join `keep`'s, every `knows:` naming it names
    `keep`, and its entry goes. Returns both names as they were written, and `gone`'s
    handles that `keep` already had another value for (`keep`'s stay)."""
    with _edit_lock(path):
        doc = _Document(path)
        kept, merged = _listed_or_error(doc, keep), _listed_or_error(doc, gone)
        if kept is merged:
            raise EngageError(f"{keep!r} and {gone!r} are the same entry in {doc.label}")
        if doc.tree.get("me") is kept or doc.tree.get("me") is merged:
            raise EngageError("`me` cannot be merged with anyone (rename it with engage rename)")
        kept_name, merged_name = str(kept["name"]), str(merged["name"])
        merged_aliases = [a for a in merged.get("aliases") or [] if isinstance(a, str)]
        for alias in (merged_name, *merged_aliases):
            _add_alias(doc, kept, alias)
        same: dict[str, Any] = {
            "sites": lambda item: feed_key(str(item)),
            "feeds": lambda item: feed_key(str(item["url"] if isinstance(item, dict) else item)),
            "tags": lambda item: fold_name(str(item)),
            "knows": lambda item: fold_name(str(item)),
        }
        for key, identify in same.items():
            items = merged.get(key)
            if not isinstance(items, list) or not items:
                continue
            target = _names_list(doc, kept, key)
            have = {identify(item) for item in target}
            for item in items:
                if identify(item) not in have:
                    have.add(identify(item))
                    _append(target, item)
        handles = merged.get("handles")
        dropped: list[str] = []
        if isinstance(handles, dict) and handles:
            if not isinstance(kept.get("handles"), CommentedMap):
                kept["handles"] = CommentedMap()
            for key, value in handles.items():
                if key not in kept["handles"]:
                    kept["handles"][key] = value
                elif kept["handles"][key] != value:
                    dropped.append(f"{key}: {value}")
        notes = [str(n).strip() for n in (kept.get("notes"), merged.get("notes")) if n]
        if len(notes) == 2:
            from ruamel.yaml.scalarstring import LiteralScalarString

            kept["notes"] = LiteralScalarString("\n".join(notes) + "\n")
        elif notes and not kept.get("notes"):
            kept["notes"] = merged["notes"]
        for key in ("company", "strength"):
            if merged.get(key) is not None and kept.get(key) is None:
                if key == "strength" and not any(e is kept for e in doc.tree.get("contacts") or []):
                    continue  # a person I want to meet has no stated strength
                kept[key] = merged[key]
        for loc, entry in _entries(doc.tree):
            if entry is merged:
                assert isinstance(loc[1], int)
                _delete_item(doc.tree, str(loc[0]), loc[1])
                break
        _rewrite_knows(doc, [merged_name, *merged_aliases], kept_name)
        doc.save()
        return kept_name, merged_name, dropped


def add_alias(path: Path, name: str, alias: str) -> bool:
    """Give the entry called `name` another spelling; False when it already had it."""
    with _edit_lock(path):
        doc = _Document(path)
        entry = _listed_or_error(doc, name)
        added = _add_alias(doc, entry, alias.strip())
        if added:
            doc.save()
        return added


def set_handle(path: Path, name: str, network: str, handle: str) -> str | None:
    """Put `network: handle` under the `handles:` of the entry called `name` (me too),
    keeping the file's comments and order. Returns None when it was set or already there,
    and the handle the entry already has for that network otherwise (it is kept: a
    second account is a decision for the user, not for `engage add`)."""
    readers = {"mastodon": parse_mastodon, "bluesky": parse_bluesky}
    if network not in readers:
        raise EngageError(f"unknown network {network!r} (one of: {', '.join(readers)})")
    try:
        value = str(readers[network](handle))
    except ValueError as exc:
        raise EngageError(f"{network} handle {exc}") from None
    with _edit_lock(path):
        doc = _Document(path)
        entry = _listed_or_error(doc, name)
        handles = entry.get("handles")
        if isinstance(handles, dict):
            existing = handles.get(network)
            if isinstance(existing, str):
                existing = str(readers[network](existing))  # valid: the file was loaded
                return None if existing.casefold() == value.casefold() else existing
            handles[network] = value
        else:
            node = CommentedMap()
            node[network] = value
            keys = list(entry)
            after = [k for k in ("feeds", "sites", "aliases", "name") if k in keys]
            position = keys.index(after[0]) + 1 if after else len(keys)
            if "handles" in entry:  # `handles:` with nothing under it yet
                entry["handles"] = node
            else:
                _insert_key(entry, position, "handles", node)
        doc.save()
    return None


def remove_person(path: Path, name: str) -> str:
    """Take someone (by name or alias) out of `people:` or `contacts:`, and out of every
    `knows:` list, keeping the rest of the file as it is. The comment lines right above
    their entry (no blank line between) describe them and go with it; every other comment
    stays, the lines that introduce the next entry included. Returns the name removed."""
    with _edit_lock(path):
        doc = _Document(path)
        entry = doc.entry(name)
        if entry is None or entry is doc.tree.get("me"):
            raise EngageError(f"nobody called {name!r} under people: or contacts: in {doc.label}")
        listed = str(entry.get("name"))
        aliases = entry.get("aliases")
        names = {fold_name(listed)} | {
            fold_name(a)
            for a in (aliases if isinstance(aliases, list) else [])
            if isinstance(a, str)
        }
        for section in ("people", "contacts"):
            items = doc.tree.get(section)
            if isinstance(items, CommentedSeq):
                for index in reversed(range(len(items))):
                    if items[index] is entry:
                        _delete_item(doc.tree, section, index)
        for _loc, other in _entries(doc.tree):
            knows = other.get("knows")
            if isinstance(knows, CommentedSeq):
                for index in reversed(range(len(knows))):
                    if isinstance(knows[index], str) and fold_name(knows[index]) in names:
                        _delete_item(typing.cast(CommentedMap, other), "knows", index)
        doc.save()
        return listed
