"""How engage compares URLs: one normaliser, one idea of a site and of a thread.

Pure and stdlib-only, so every layer can use it. The same comment seen through two feeds,
the same feed written two ways in feeds.yaml, the same thread named by a post link and a
comment permalink: each must compare equal everywhere, or one comment becomes two events
and one feed two feeds. Six normalisers used to exist and disagreed (on `www.`, the trailing
slash and the scheme); this module is the one left.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that point into a thread without naming another post: Blogger's
# ?showComment=…, WordPress's ?replytocom=… (compared case-insensitively).
COMMENT_PARAMS = ("showcomment=", "replytocom=")


def port_problem(url: str) -> str | None:
    """Why the port written in `url` can never be connected to, in a few words; None when
    there is no port or a usable one. Port 0 silently becomes the scheme's default in httpx
    (a poll then reports "connection refused (host:80)"), and a port past 65535 gets as far
    as the socket's connect, whose OverflowError surfaces from inside a task group: both
    are refused where a URL is read, and again before it is fetched."""
    try:
        netloc = urlsplit(url.strip()).netloc
    except ValueError:
        return None  # not a URL at all: the caller's own check says so
    hostport = netloc.rpartition("@")[2]
    if "]" in hostport:  # an IPv6 literal: the port comes after its bracket
        hostport = hostport.rpartition("]")[2]
    _, colon, port = hostport.rpartition(":")
    if not colon or not port:
        return None  # no port, or an empty one: the scheme's default
    if not (port.isascii() and port.isdigit()):
        return f"port {port!r} is not a number (ports are 1 to 65535)"
    if len(port) > 5 or not 1 <= int(port) <= 65535:
        return f"port {port.lstrip('0') or '0'} is out of range (ports are 1 to 65535)"
    return None


def normalize_url(url: str, *, keep_fragment: bool = True, keep_scheme: bool = False) -> str:
    """A URL reduced to what identifies the page: scheme, `www.`, default ports, host case
    and a trailing slash are dropped ('https://www.Example.com:443/a/' -> 'example.com/a').

    `keep_scheme` keeps 'https://' in front: a feed at http:// is polled as another URL
    (a permanent move from one to the other is a real move), while a page or comment is
    the same page whichever scheme links to it."""
    raw = url.strip()
    if "://" not in raw and not raw.startswith("//"):
        raw = "//" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw.casefold()
    host = (parts.hostname or "").casefold().rstrip(".")
    host = host.removeprefix("www.")
    scheme = parts.scheme.casefold()
    defaults = {DEFAULT_PORTS[scheme]} if scheme in DEFAULT_PORTS else set(DEFAULT_PORTS.values())
    if port is not None and port not in defaults:
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    text = host + path
    if parts.query:
        text += "?" + parts.query
    if keep_fragment and parts.fragment:
        text += "#" + parts.fragment
    return f"{scheme}://{text}" if keep_scheme and scheme else text


@functools.lru_cache(maxsize=65536)
def host_and_path(url: str) -> tuple[str, str]:
    """('example.com', '/a/b') for 'https://www.example.com/a/b/?q#f'; ('', '') for no host.
    Cached: every link of every post is checked against every identity's sites."""
    normalized = normalize_url(url, keep_fragment=False).split("?", 1)[0]
    host, _, path = normalized.partition("/")
    return host, "/" + path if path else ""


def thread_key(url: str) -> str:
    """The post a URL belongs to, normalised: no fragment and no parameter that only points
    into the thread. A post link and any comment permalink under it give the same key."""
    normalized = normalize_url(url, keep_fragment=False)
    base, _, query = normalized.partition("?")
    kept = [
        part for part in query.split("&") if part and not part.casefold().startswith(COMMENT_PARAMS)
    ]
    return base + ("?" + "&".join(kept) if kept else "")


def strip_comment_marks(url: str) -> str:
    """The post a comment URL belongs to, as a URL (unlike thread_key, which is a key):
    the fragment and the thread-pointing parameters are dropped, the rest kept as written."""
    parts = urlsplit(url)
    query = "&".join(
        p for p in parts.query.split("&") if p and not p.casefold().startswith(COMMENT_PARAMS)
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def site_root(url: str) -> str:
    """'https://example.org' for any URL on that site (no trailing slash); a bare host
    is taken as https."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def same_host(a: str, b: str) -> bool:
    """Whether two URLs are on the same host (and port), case aside."""
    try:
        return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()
    except ValueError:
        return False


def web_link(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL with a host, else None: the only links a
    page or an e-mail of engage's may carry (javascript:, data: and the like never do,
    however they were spelled or encoded on the way in)."""
    if not url:
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ord(ch) < 0x20 or ch.isspace() for ch in text):
        return None
    return text
