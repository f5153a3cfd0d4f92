"""What keeps a server on 127.0.0.1 safe from every other page the user's browser opens.

A local server is reachable by any web page the user visits: a page can make the browser
post a form to `http://127.0.0.1:PORT/`, and a rebound DNS name can make the browser treat
the server as part of an attacker's site. `LocalOnly` wraps the whole ASGI app, so every
response, including a 500 and its own refusals, goes through it:

- **Host.** Only `127.0.0.1:PORT` and `localhost:PORT` are answered (DNS rebinding sends
  the attacker's name); anything else gets 400.
- **Unsafe methods** (everything but GET and HEAD) need both:
  - a CSRF token that matches the cookie: the cookie holds a random nonce (HttpOnly,
    SameSite=Strict), the token is an HMAC of it under a secret made when the server
    starts, sent in the form field `csrf_token` or the `X-CSRF-Token` header and compared
    in constant time. Another program on 127.0.0.1 can set a cookie for this host
    (cookies ignore ports) but cannot compute the token without the server's secret.
  - a request from this server's own pages: an `Origin` of this server or, where the
    browser sends none (or `null`), a `Referer` of this server or, where there is no
    Referer either, `Sec-Fetch-Site: same-origin`. The last fallback is what makes our own
    forms work: under `Referrer-Policy: no-referrer` Chromium sends `Origin: null` and no
    Referer on a same-origin form post (measured with Chromium 156), as the Fetch standard
    says it must; `Sec-Fetch-Site` is set by the browser and no page can forge it.

  Otherwise 403, with a page that says to reload and try again.
- **Headers on every response:** a Content-Security-Policy that allows scripts, styles and
  images from this server only, with no inline script at all (the one script is a file),
  `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (a person's page URL
  never reaches the sites it links to), `X-Frame-Options: DENY`, a Cross-Origin-Resource-
  Policy that keeps other sites from loading `/api/...` as a script or image, and
  `Cache-Control: no-store` unless the app chose a caching policy itself.

A form body is read here, once, to find the token; the app gets the same bytes and the
parsed fields through `posted_form`, so no multipart library is needed (the forms are
urlencoded; a large body is refused before it is read whole). The choices and what was
rejected: docs/design.md, "Web report".
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import HTTPConnection, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("engage.web")

CSRF_FIELD = "csrf_token"  # the hidden form field
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD"})
MAX_FORM_BYTES = 64 * 1024  # a logged note is a few lines; nothing legitimate comes near this

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-resource-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
)
_OWN_HEADERS = frozenset(name for name, _ in SECURITY_HEADERS)
_ENCODED_HEADERS = [
    (name.encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS
]

# Keys under scope["state"], so `request.state` carries them to the endpoints.
_STATE_TOKEN = "csrf_token"
_STATE_FORM = "posted_form"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)

ErrorRenderer = Callable[[int, str], str]

ERROR_MESSAGES = {  # what each refusal or error page says
    400: "This address is not one this server answers to.",
    403: "This form could not be accepted: it did not come from this page, or the page is "
    "out of date. Reload the page and try again.",
    404: "There is no page here. The person may have been renamed or removed from the watchlist.",
    405: "This page cannot be used that way.",
    413: "That form is too large to accept.",
    415: "That form could not be read: send it as a normal web form.",
    500: "Something went wrong on our side. The details are in the server's log.",
}


def plain_error_page(status: int, message: str) -> str:
    """The error page when no template can be rendered (or before one is plugged in)."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{status}</title></head><body><h1>{status}</h1>"
        f'<p>{html.escape(message)}</p><p><a href="/">Back to People</a></p></body></html>'
    )


def error_page(render: ErrorRenderer, status: int, message: str) -> str:
    """`render`'s page, or the plain one when it fails: a broken override template must
    not turn a 404 into a traceback, nor hide the real answer."""
    try:
        return render(status, message)
    except Exception:
        log.exception("the error page could not be rendered")
        return plain_error_page(status, message)


def csrf_token(request: HTTPConnection) -> str:
    """The token a page puts in its forms (the hidden field named `CSRF_FIELD`)."""
    token = request.scope.get("state", {}).get(_STATE_TOKEN)
    if not isinstance(token, str):
        raise RuntimeError("csrf_token() needs the app to be wrapped in LocalOnly")
    return token


def posted_form(request: HTTPConnection) -> Mapping[str, str]:
    """The fields of an urlencoded form that passed the checks (the last value of a
    repeated name wins). Empty for a request that sent its token in the header."""
    form = request.scope.get("state", {}).get(_STATE_FORM)
    return form if isinstance(form, dict) else {}


def allowed_hosts(port: int) -> frozenset[str]:
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
    if port == 80:  # browsers leave the default port out of Host and Origin
        hosts |= {"127.0.0.1", "localhost"}
    return frozenset(hosts)


class LocalOnly:
    """ASGI middleware for a server bound to 127.0.0.1:`port`; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        port: int,
        render_error: ErrorRenderer = plain_error_page,
        secret: bytes | None = None,
    ) -> None:
        self.app = app
        self.port = port
        self.render_error = render_error
        # A new secret per server start: a page from before a restart needs a reload,
        # which the 403 page says.
        self._secret = secret or secrets.token_bytes(32)
        self.hosts = allowed_hosts(port)
        self.origins = frozenset(f"http://{host}" for host in self.hosts)
        # Cookies are shared by every port of a host, so two servers on different ports
        # must not overwrite each other's nonce.
        self.cookie_name = f"engage_csrf_{port}"

    def token_for(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode("ascii"), hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websockets here: refuse the handshake
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = _headers(scope)
        hosts = headers.get("host", [])
        if len(hosts) != 1 or hosts[0].lower() not in self.hosts:
            await self._refuse(send, 400, set_cookie=None)
            return

        cookies = cookie_parser(_one(headers, "cookie") or "")
        nonce = cookies.get(self.cookie_name, "")
        set_cookie = None
        if not _NONCE.match(nonce):
            nonce = secrets.token_urlsafe(32)
            cookie = f"{self.cookie_name}={nonce}; Path=/; HttpOnly; SameSite=Strict"
            set_cookie = cookie.encode("latin-1")
        token = self.token_for(nonce)
        state: dict[str, Any] = scope.setdefault("state", {})
        state[_STATE_TOKEN] = token

        if scope["method"] not in SAFE_METHODS:
            if not self._from_this_server(headers):
                await self._refuse(send, 403, set_cookie)
                return
            checked = await _check_token(receive, headers, token)
            if isinstance(checked, int):
                await self._refuse(send, checked, set_cookie)
                return
            form, body = checked
            state[_STATE_FORM] = form
            receive = _replay(body, receive)

        await self._run(scope, receive, _with_headers(send, set_cookie))

    def _from_this_server(self, headers: Mapping[str, list[str]]) -> bool:
        origin = _one(headers, "origin")
        if origin and origin != "null":
            return origin.lower() in self.origins
        referer = _one(headers, "referer")
        if referer:
            return _origin_of(referer) in self.origins
        return _one(headers, "sec-fetch-site") == "same-origin"

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:  # the app's own 500 page went out; let the server log the error
                raise
            log.exception("error while answering %s %s", scope["method"], scope["path"])
            await self._page(send, 500)

    async def _refuse(self, send: Send, status: int, set_cookie: bytes | None) -> None:
        await self._page(_with_headers(send, set_cookie), status)

    async def _page(self, send: Send, status: int) -> None:
        body = error_page(self.render_error, status, ERROR_MESSAGES[status]).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in scope["headers"]:
        found.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return found


def _one(headers: Mapping[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _origin_of(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return ""
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


async def _check_token(
    receive: Receive, headers: Mapping[str, list[str]], token: str
) -> tuple[dict[str, str], bytes] | int:
    """(the parsed form, the body) when the request carries `token`, else the status to
    refuse it with."""
    sent_header = _one(headers, CSRF_HEADER)
    length = _one(headers, "content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        return 413
    body = await _read_body(receive)
    if body is None:
        return 413  # or nobody is left to read the answer
    content_type = (_one(headers, "content-type") or "").split(";")[0].strip().lower()
    form: dict[str, str] = {}
    if content_type == "application/x-www-form-urlencoded":
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return 400
    elif sent_header is None:
        return 415 if body else 403
    sent = sent_header if sent_header is not None else form.get(CSRF_FIELD, "")
    if not hmac.compare_digest(sent.encode("utf-8", "replace"), token.encode("ascii")):
        return 403
    form.pop(CSRF_FIELD, None)
    return form, body


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body; None past MAX_FORM_BYTES (a chunked body has no length) or when the
    client left before sending all of it (half a form must not reach an endpoint)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect as usual

    return replay


def _with_headers(send: Send, set_cookie: bytes | None) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, value)
                for name, value in message.get("headers", [])
                if name.lower().decode("latin-1") not in _OWN_HEADERS
            ]
            headers += _ENCODED_HEADERS
            if not any(name.lower() == b"cache-control" for name, _ in headers):
                headers.append((b"cache-control", b"no-store"))
            if set_cookie is not None:
                headers.append((b"set-cookie", set_cookie))
            message = {**message, "headers": headers}
        await send(message)

    return send_with_headers
