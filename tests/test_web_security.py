"""The local server's defences, over real HTTP to a live server on 127.0.0.1.

What a hostile page can make a browser send is reproduced here header by header (a
foreign Host after DNS rebinding, a cross-site form post with and without a stolen token);
the browser tests show the same refusals with Chromium's own headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from webdemo import TOKEN, Demo, running_demo

from engage.web.security import CONTENT_SECURITY_POLICY, CSRF_FIELD, MAX_FORM_BYTES


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("override")) as demo:
        yield demo


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/static/engage.css", 200), ("/no/such/page", 404), ("/boom", 500)],
)
def test_every_response_carries_the_security_headers(demo: Demo, path: str, status: int) -> None:
    with demo.client() as client:
        response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert "server" not in response.headers


def test_the_policy_allows_nothing_from_elsewhere_and_no_inline_script() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:{port}", "127.0.0.1:{other}", "localhost", "[::1]:{port}", ""],
)
def test_a_foreign_host_is_refused(demo: Demo, host: str) -> None:
    """A rebound DNS name reaches 127.0.0.1 with the attacker's name in Host."""
    host = host.format(port=demo.server.port, other=demo.server.port + 1)
    with demo.client() as client:
        response = client.get("/", headers={"host": host})
    assert response.status_code == 400
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "set-cookie" not in response.headers  # nothing is handed to a foreign name
    assert "not one this server answers to" in response.text
    assert "Ada Lanternfield" not in response.text


def test_a_post_with_a_foreign_host_is_refused_before_it_is_read(demo: Demo) -> None:
    cookie, token = demo.visit()
    before = len(demo.state.logged)
    with demo.client() as client:
        response = client.post(
            "/log",
            data={CSRF_FIELD: token, "note": "x"},
            headers={"host": "evil.example", "cookie": cookie, "origin": "http://evil.example"},
        )
    assert response.status_code == 400
    assert len(demo.state.logged) == before


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_this_server_s_own_names_are_answered(demo: Demo, host: str) -> None:
    with demo.client() as client:
        response = client.get("/", headers={"host": host.format(port=demo.server.port)})
    assert response.status_code == 200
    assert "Ada Lanternfield" in response.text


def test_the_csrf_cookie_is_http_only_strict_and_named_for_the_port(demo: Demo) -> None:
    with demo.client() as client:
        response = client.get("/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"engage_csrf_{demo.server.port}=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"path=/", "httponly", "samesite=strict"} <= attributes


def test_a_returning_browser_keeps_its_cookie_and_token(demo: Demo) -> None:
    cookie, token = demo.visit()
    with demo.client() as client:
        again = client.get("/", headers={"cookie": cookie})
    assert "set-cookie" not in again.headers
    match = TOKEN.search(again.text)
    assert match is not None and match.group(1) == token


@dataclass(frozen=True)
class Post:
    """How a test POST is made. The token and cookie are a real pair from a visit unless
    a field says otherwise; "other" is a second visitor's token. {port} and {other} in a
    header stand for this server's port and another one."""

    origin: str | None = "self"
    token: str | None = "own"
    cookie: bool = True
    referer: str | None = None
    fetch_site: str | None = None
    in_header: bool = False


POST_CASES = [
    ("same origin with its token", Post(), True),
    ("localhost origin", Post(origin="http://localhost:{port}"), True),
    ("no token", Post(token=None), False),
    ("a wrong token", Post(token="0" * 64), False),
    ("another visitor's token", Post(token="other"), False),
    ("no cookie", Post(cookie=False), False),
    ("a foreign origin with a stolen token", Post(origin="http://evil.example"), False),
    ("another port on 127.0.0.1", Post(origin="http://127.0.0.1:{other}"), False),
    ("https origin of this host", Post(origin="https://127.0.0.1:{port}"), False),
    ("Origin null alone", Post(origin="null"), False),
    ("Origin null from a cross-site page", Post(origin="null", fetch_site="cross-site"), False),
    (
        "Origin null from our own page (Referrer-Policy: no-referrer)",
        Post(origin="null", fetch_site="same-origin"),
        True,
    ),
    ("no Origin, our Referer", Post(origin=None, referer="http://127.0.0.1:{port}/p/ada"), True),
    ("no Origin, a foreign Referer", Post(origin=None, referer="http://evil.example/p"), False),
    ("neither Origin nor Referer", Post(origin=None), False),
    ("token in the header", Post(in_header=True), True),
    ("header token, foreign origin", Post(origin="http://evil.example", in_header=True), False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("how", "accepted"), [case[1:] for case in POST_CASES], ids=[case[0] for case in POST_CASES]
)
def test_a_post_needs_its_token_and_this_server_as_origin(
    demo: Demo, how: Post, accepted: bool
) -> None:
    port = demo.server.port
    cookie, token = demo.visit()
    _, other_token = demo.visit()
    sent_token = {"own": token, "other": other_token}.get(how.token or "", how.token)
    headers = {"cookie": cookie} if how.cookie else {}
    if how.origin is not None:
        origin = demo.server.url if how.origin == "self" else how.origin
        headers["origin"] = origin.format(port=port, other=port + 1)
    if how.referer is not None:
        headers["referer"] = how.referer.format(port=port)
    if how.fetch_site is not None:
        headers["sec-fetch-site"] = how.fetch_site
    data = {"note": "commented on the post"}
    if sent_token is not None and how.in_header:
        headers["x-csrf-token"] = sent_token
    elif sent_token is not None:
        data[CSRF_FIELD] = sent_token
    before = len(demo.state.logged)

    with demo.client() as client:
        response = client.post("/log", data=data, headers=headers)

    if accepted:
        assert response.status_code == 303
        assert demo.state.logged[-1] == {"note": "commented on the post"}  # the token is gone
        assert len(demo.state.logged) == before + 1
    else:
        assert response.status_code == 403
        assert "Reload the page and try again" in response.text
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert len(demo.state.logged) == before


def test_a_form_too_large_is_refused_before_it_is_read_whole(demo: Demo) -> None:
    cookie, token = demo.visit()
    headers = {"cookie": cookie, "origin": demo.server.url}
    big = {CSRF_FIELD: token, "note": "x" * (MAX_FORM_BYTES + 1)}
    before = len(demo.state.logged)
    with demo.client() as client:
        response = client.post("/log", data=big, headers=headers)
    assert response.status_code == 413
    assert len(demo.state.logged) == before


def test_a_form_that_is_not_urlencoded_needs_the_header_token(demo: Demo) -> None:
    cookie, token = demo.visit()
    headers = {"cookie": cookie, "origin": demo.server.url}
    with demo.client() as client:
        response = client.post(
            "/log", files={"note": ("n.txt", b"x")}, data={CSRF_FIELD: token}, headers=headers
        )
    assert response.status_code == 415


def test_an_error_page_is_friendly_and_never_a_traceback(demo: Demo) -> None:
    with demo.client() as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in response.text
    assert "internal detail 7f3a" not in response.text
    assert "Traceback" not in response.text and "RuntimeError" not in response.text
    assert '<link rel="stylesheet" href="/static/engage.css">' in response.text  # the layout


def test_a_user_mistake_is_its_one_line(demo: Demo) -> None:
    with demo.client() as client:
        response = client.get("/mistake")
    assert response.status_code == 400
    assert "no one called &lt;Zed&gt; in feeds.yaml" in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "status"),
    [("/nowhere", 404), ("/static/engage.py", 404), ("/static/..%2Fbase.html", 404)],
)
def test_a_missing_page_is_friendly(demo: Demo, path: str, status: int) -> None:
    with demo.client() as client:
        response = client.get(path)
    assert response.status_code == status
    assert "There is no page here" in response.text
    assert "Back to People" in response.text


def test_a_get_only_page_refuses_a_post_kindly(demo: Demo) -> None:
    cookie, token = demo.visit()
    with demo.client() as client:
        headers = {"cookie": cookie, "origin": demo.server.url}
        response = client.post("/chart", data={CSRF_FIELD: token}, headers=headers)
    assert response.status_code == 405
    assert "cannot be used that way" in response.text
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_static_files_come_from_the_override_folder_first(demo: Demo) -> None:
    static = demo.folder / "web" / "static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "extra.css").write_text("body { color: teal; }", encoding="utf-8")
    with demo.client() as client:
        override = client.get("/static/extra.css")
        shipped = client.get("/static/engage.js")
    assert override.status_code == 200
    assert override.text == "body { color: teal; }"
    assert override.headers["content-type"] == "text/css; charset=utf-8"
    assert shipped.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "data-copy-target" in shipped.text
