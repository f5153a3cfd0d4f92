"""The URL a poll requests: plain URLs are taken as written, everything else is read by
httpx, and both ways must give the same request (property-tested against httpx)."""

from __future__ import annotations

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from engage.poll.fetch import PLAIN_URL, target_of, target_read_by_httpx

HOSTS = st.sampled_from(
    [
        "example.com",
        "Example.COM",
        "blog.example.org",
        "127.0.0.1",
        "127.0.0.16",
        "999.1.1.1",
        "1.2.3",
        "localhost",
        "123",
        "a-.com",
        "xn--bcher-kva.example",
        "bücher.example",
        "[::1]",
        "user:pw@example.com",
        "exa mple.com",
    ]
)
PORTS = st.sampled_from(["", ":80", ":443", ":8080", ":080", ":0", ":65535", ":65536", ":x"])
PATH_CHARS = "abcXYZ019-._~!$&'()*+,;=:@/%?#[] \"<>\\^`{|}é"
# Mostly what feed URLs are made of, so that most examples take the plain path.
PLAIN_CHARS = "abz09-._~/%2F?=&"


@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "ftp"]),
    host=HOSTS,
    port=PORTS,
    rest=st.text(alphabet=PATH_CHARS, max_size=30) | st.text(alphabet=PLAIN_CHARS, max_size=30),
)
@settings(max_examples=2000, deadline=None)
def test_a_plain_url_is_requested_as_httpx_reads_it(
    scheme: str, host: str, port: str, rest: str
) -> None:
    text = f"{scheme}://{host}{port}{rest}"
    read = target_read_by_httpx(text)
    assert target_of(text) == read
    if PLAIN_URL.fullmatch(text) is not None and not isinstance(read, tuple):
        assert read.text == str(httpx.URL(text))


def test_the_fast_reading_covers_the_usual_feed_urls() -> None:
    for text in [
        "https://example.com/feed/",
        "http://127.0.0.3:8765/feed/12.xml",
        "https://blog.example.org/2021/01/02/post-title/feed/?withoutcomments=1",
        "https://www.youtube.com/feeds/videos.xml?channel_id=UCabc-123_x",
        "https://example.com/comments/feed/atom%20feed",
    ]:
        assert PLAIN_URL.fullmatch(text), text
        assert target_of(text) == target_read_by_httpx(text)
