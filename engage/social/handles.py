"""Read the Mastodon and Bluesky handles users paste into feeds.yaml.

Pure. People copy whatever their browser or app shows: `@dana@social.example.org`,
`dana@social.example.org`, `https://social.example.org/@dana`, a status link,
`https://bsky.app/profile/dana.example.org`, `@dana.bsky.social`, a DID. Each form is
read into one normalized value, so the same account written two ways is one account;
anything else is a ValueError whose message says what to write instead (config.py
adds the file, line and column).

Rules followed: Mastodon user names are letters, digits and `_` (other fediverse
servers add `.` and `-`); servers are DNS names. Bluesky handles follow the atproto
handle syntax (a DNS name, at least two labels, the last not starting with a digit,
ASCII after IDNA, 253 characters at most), and DIDs are `did:plc:` (24 base32
characters) or `did:web:` (a host name), the two methods atproto supports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

MASTODON_EXAMPLE = "@name@mastodon.social"
BLUESKY_EXAMPLE = "name.bsky.social"
BLUESKY_WEB_HOSTS = frozenset({"bsky.app", "www.bsky.app", "staging.bsky.app"})
# atproto refuses handles under these (special-use or never-delegated) TLDs.
BLUESKY_DISALLOWED_TLDS = frozenset(
    {"alt", "arpa", "example", "internal", "invalid", "local", "localhost", "onion"}
)
MAX_TEXT = 2048  # longer is not a handle anyone pasted; refuse before any work

_USER = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PLC = re.compile(r"did:plc:[a-z2-7]{24}")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class MastodonHandle:
    """A fediverse account: `user` as written (servers compare it case-blind) and the
    server's host name, lower case, with a port only when one was given."""

    user: str
    host: str

    def __str__(self) -> str:
        return f"@{self.user}@{self.host}"

    @property
    def acct(self) -> str:
        """What `/api/v1/accounts/lookup?acct=` takes, and what mentions carry."""
        return f"{self.user}@{self.host}"

    @property
    def base_url(self) -> str:
        """The instance's API root (assumes the API lives on the handle's host)."""
        return f"https://{self.host}"

    @property
    def profile_url(self) -> str:
        return f"https://{self.host}/@{self.user}"

    def same_account(self, acct: str, instance_host: str) -> bool:
        """Whether a mention's `acct` names this account. An instance writes its own users
        without a host ("dana"), so `instance_host` completes them."""
        user, _, host = acct.lstrip("@").partition("@")
        return (
            user.casefold() == self.user.casefold()
            and (host or instance_host).casefold() == self.host.casefold()
        )


@dataclass(frozen=True)
class BlueskyHandle:
    """A Bluesky account: a handle (lower case) or a DID, whichever the user gave."""

    actor: str

    def __str__(self) -> str:
        return self.actor

    @property
    def is_did(self) -> bool:
        return self.actor.startswith("did:")

    @property
    def profile_url(self) -> str:
        return f"https://bsky.app/profile/{self.actor}"


def parse_mastodon(text: str) -> MastodonHandle:
    """`@user@host`, `user@host`, `acct:user@host`, or a profile or status URL on the
    account's server (`https://host/@user`, `https://host/@user/123`,
    `https://host/users/user`, `https://host/@user@other` for a remote account)."""
    value = _stripped(text, MASTODON_EXAMPLE)
    if _looks_like_url(value):
        return _mastodon_url(value)
    if value.lower().startswith("acct:"):
        value = value[5:]
    if value.startswith("did:"):
        raise ValueError(f"{value!r} is a Bluesky DID (put it under bluesky:)")
    address = value[1:] if value.startswith("@") else value
    user, at, host = address.partition("@")
    if not at:
        if _is_domain_like(address):
            raise ValueError(
                f"{value!r} looks like a Bluesky handle (put it under bluesky:, or write "
                f"the Mastodon address in full, like {MASTODON_EXAMPLE})"
            )
        raise ValueError(
            f"{value!r} has no server (write the whole address, like @{user or 'name'}"
            "@mastodon.social)"
        )
    return _mastodon(user, host, value)


def parse_bluesky(text: str) -> BlueskyHandle:
    """A handle (`name.bsky.social`, `@name.bsky.social`, a custom domain), a DID
    (`did:plc:…`, `did:web:…`), a profile or post URL on bsky.app, or an `at://` URI."""
    value = _stripped(text, BLUESKY_EXAMPLE)
    if value.lower().startswith("at://"):
        authority = value[5:].split("/", 1)[0]
        return _bluesky_actor(authority, value)
    if _looks_like_url(value):
        return _bluesky_url(value)
    if value.startswith("@"):
        value = value[1:]
        if "@" in value:
            raise ValueError(
                f"'@{value}' looks like a Mastodon address (put it under mastodon:; a "
                f"Bluesky handle has no second @, like {BLUESKY_EXAMPLE})"
            )
    elif "@" in value:
        raise ValueError(
            f"{value!r} looks like a Mastodon or e-mail address (a Bluesky handle is a "
            f"domain name, like {BLUESKY_EXAMPLE})"
        )
    return _bluesky_actor(value, value)


def parse_instance(text: str) -> str:
    """A Mastodon server as the host of handles names it (`social.example.org`, with a
    port when one is given), lower case as handles keep it; a pasted URL gives its host."""
    value = _stripped(text, "mastodon.social")
    if _looks_like_url(value):
        value = _netloc(_split_url(value))
    return _host_and_port(value, value)


# ---------------------------------------------------------------------------
# Mastodon


def _mastodon_url(value: str) -> MastodonHandle:
    parts = _split_url(value)
    host = (parts.hostname or "").lower()
    if host in BLUESKY_WEB_HOSTS:
        raise ValueError(f"{value!r} is a Bluesky profile (put it under bluesky:)")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if segments and segments[0].startswith("@") and len(segments[0]) > 1:
        user, at, remote = segments[0][1:].partition("@")
        # https://host/@user@other is how one server shows another server's account.
        return _mastodon(user, remote if at else _netloc(parts), value)
    if len(segments) >= 2 and segments[0] == "users":
        return _mastodon(segments[1], _netloc(parts), value)
    raise ValueError(
        f"{value!r} is not a Mastodon profile URL (like https://mastodon.social/@name, "
        f"or write the address, like {MASTODON_EXAMPLE})"
    )


def _mastodon(user: str, host: str, value: str) -> MastodonHandle:
    if not _USER.fullmatch(user):
        raise ValueError(
            f"{value!r} is not a Mastodon address (a user name has letters, digits and _, "
            f"like {MASTODON_EXAMPLE})"
        )
    return MastodonHandle(user, _host_and_port(host, value))


def _host_and_port(text: str, value: str) -> str:
    name, colon, port = text.rpartition(":")
    if not colon:
        return _domain(text, value)
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} has a bad port after the server name (remove ':{port}')")
    return f"{_domain(name, value)}:{int(port)}"


def _netloc(parts: SplitResult) -> str:
    return parts.netloc.rpartition("@")[2]  # never a user:password@ in a profile URL


# ---------------------------------------------------------------------------
# Bluesky


def _bluesky_url(value: str) -> BlueskyHandle:
    parts = _split_url(value)
    host = (parts.hostname or "").lower()
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if host in BLUESKY_WEB_HOSTS and len(segments) >= 2 and segments[0] == "profile":
        return _bluesky_actor(segments[1], value)
    if segments and segments[0].startswith("@"):
        raise ValueError(f"{value!r} looks like a Mastodon profile (put it under mastodon:)")
    raise ValueError(
        f"{value!r} is not a Bluesky profile URL (like https://bsky.app/profile/"
        f"{BLUESKY_EXAMPLE}, or write the handle itself)"
    )


def _bluesky_actor(actor: str, value: str) -> BlueskyHandle:
    if actor.startswith("did:"):
        return BlueskyHandle(_did(actor, value))
    if "." not in actor and _LABEL.fullmatch(actor.lower()):
        raise ValueError(
            f"{value!r} is not a whole Bluesky handle (a handle is a domain name: did you "
            f"mean '{actor.lower()}.bsky.social'?)"
        )
    name = _domain(actor, value)
    if name.rsplit(".", 1)[-1] in BLUESKY_DISALLOWED_TLDS:
        raise ValueError(
            f"{value!r} cannot be a Bluesky handle (.{name.rsplit('.', 1)[-1]} names are "
            f"never handles; like {BLUESKY_EXAMPLE})"
        )
    return BlueskyHandle(name)


def _did(did: str, value: str) -> str:
    if did.startswith("did:plc:"):
        if not _PLC.fullmatch(did):
            raise ValueError(
                f"{value!r} is not a did:plc DID (24 letters a-z and digits 2-7 follow "
                "'did:plc:'; copy it again)"
            )
        return did
    if did.startswith("did:web:"):
        host = did[len("did:web:") :]
        if not host or ":" in host or "%" in host:
            raise ValueError(
                f"{value!r} is not a did:web DID atproto accepts (a host name follows "
                "'did:web:', without port or path)"
            )
        return "did:web:" + _domain(host, value)
    raise ValueError(
        f"{value!r}: Bluesky uses did:plc and did:web DIDs only (or write the handle, "
        f"like {BLUESKY_EXAMPLE})"
    )


# ---------------------------------------------------------------------------
# Shared


def _stripped(text: str, example: str) -> str:
    value = text.strip()
    if not value:
        raise ValueError(f"is empty (write it like {example}, or remove the key)")
    if len(value) > MAX_TEXT:
        raise ValueError(f"is {len(value)} characters long; a handle is short, like {example}")
    if any(ch.isspace() for ch in value):
        raise ValueError(f"{value!r} has a space in it (write it like {example})")
    return value


def _looks_like_url(value: str) -> bool:
    if _SCHEME.match(value):
        return True
    # "social.example.org/@dana", pasted without the scheme
    return "/" in value and not value.lower().startswith(("did:", "at:"))


def _split_url(value: str) -> SplitResult:
    text = value if _SCHEME.match(value) else "https://" + value
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(f"{value!r} is not a valid URL (check the server name)") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL (copy the link from the browser)")
    return parts


def _is_domain_like(text: str) -> bool:
    try:
        _domain(text, text)
    except ValueError:
        return False
    return True


def _domain(text: str, value: str) -> str:
    """A DNS host name, lower case, IDNA-encoded: what both networks put in handles."""
    name = text.rstrip(".").lower()
    if name and not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:  # the codec's refusals (empty or over-long labels, …)
            name = ""
    labels = name.split(".")
    if (
        len(labels) < 2
        or len(name) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1][0].isdigit()
    ):
        shown = f"'{text}'" if text else "nothing"
        raise ValueError(
            f"{value!r} does not name a server: {shown} is not a domain name "
            "(like mastodon.social or example.org)"
        )
    return name
