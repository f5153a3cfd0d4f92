"""The one allowlist for untrusted HTML. Whether anything in the output can run is
proven in Chromium (test_web_browser.py); these cases pin down what is kept. Links kept as
values go through `urls.web_link`, tested with the URL rules."""

from __future__ import annotations

import pytest

from engage.safe_html import LINK_REL, plain_text, sanitize
from engage.urls import web_link

REL = f'rel="{LINK_REL}"'
BASE = "https://dana.example.org/blog/post/"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        pytest.param("<p>Hello <em>there</em></p>", "<p>Hello <em>there</em></p>", id="text tags"),
        pytest.param(
            '<a href="https://ok.example/x?a=1&amp;b=2">ok</a>',
            f'<a href="https://ok.example/x?a=1&amp;b=2" {REL}>ok</a>',
            id="an https link keeps its href and gets rel",
        ),
        pytest.param(
            '<a href="http://ok.example/" target="_blank" onclick="x()">ok</a>',
            f'<a href="http://ok.example/" {REL}>ok</a>',
            id="handlers and target go",
        ),
        pytest.param('<a href="javascript:alert(1)">x</a>', f"<a {REL}>x</a>", id="javascript"),
        pytest.param(
            '<a href="jav&#x61;script:alert(1)">x</a>', f"<a {REL}>x</a>", id="entity-encoded"
        ),
        pytest.param(
            '<a href="java\tscript:alert(1)">x</a>', f"<a {REL}>x</a>", id="a tab in the scheme"
        ),
        pytest.param('<a href="data:text/html,x">x</a>', f"<a {REL}>x</a>", id="data"),
        pytest.param('<a href="mailto:a@b.example">x</a>', f"<a {REL}>x</a>", id="mailto"),
        pytest.param('<a href="/about">x</a>', f"<a {REL}>x</a>", id="relative, no base"),
        pytest.param("<script>alert(1)</script>after", "after", id="script and its text"),
        pytest.param("<style>p{}</style>after", "after", id="style and its text"),
        pytest.param("<iframe src=x>inside</iframe>after", "after", id="iframe and its text"),
        pytest.param("<svg><script>alert(1)</script><text>t</text></svg>", "", id="svg, whole"),
        pytest.param("<form action=x><input name=a><button>b</button></form>", "b", id="form"),
        pytest.param('<img src="https://x.example/i.png" alt="i">', "", id="images never load"),
        pytest.param('<p style="position:fixed">p</p>', "<p>p</p>", id="style attribute"),
        pytest.param("<b>unclosed", "<b>unclosed</b>", id="closed when cut"),
        pytest.param("", "", id="empty"),
    ],
)
def test_sanitize(fragment: str, expected: str) -> None:
    assert sanitize(fragment) == expected


def test_a_relative_link_is_resolved_against_an_http_base() -> None:
    assert sanitize('<a href="../other/">o</a>', base=BASE) == (
        f'<a href="https://dana.example.org/blog/other/" {REL}>o</a>'
    )


@pytest.mark.parametrize("base", ["javascript:alert(1)//", "file:///etc/", "/local/", ""])
def test_a_base_that_is_not_http_drops_relative_links(base: str) -> None:
    assert sanitize('<a href="x">o</a>', base=base) == f"<a {REL}>o</a>"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("<p>Fish &amp; chips</p>", "Fish & chips"),
        ("a<script>alert(1)</script>b", "ab"),
        ("<p>two\n\n  lines</p><p>and more</p>", "two lines and more"),
        ("one<br>two<li>three</li>", "one two three"),
        ("<b>bold</b>er", "bolder"),  # inline tags do not break a word
        ("&lt;script&gt;", "<script>"),  # text, for an escaping template to show as such
        ("", ""),
    ],
)
def test_plain_text(fragment: str, expected: str) -> None:
    assert plain_text(fragment) == expected


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ok.example/p#c-1", "https://ok.example/p#c-1"),
        (" HTTP://ok.example/ ", "HTTP://ok.example/"),
        ("javascript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("\x01javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("//ok.example/", None),  # no scheme: would take the report's own
        ("https://", None),
        ("https://ok.example/a b", None),
        ("", None),
        (None, None),
    ],
)
def test_a_stored_url_is_a_link_only_when_it_is_absolute_http(
    url: str | None, shown: str | None
) -> None:
    assert web_link(url) == shown
