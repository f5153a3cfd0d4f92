"""Real headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by
Playwright (never a downloaded browser), with listeners that record every dialog, page
error and console message, so a test checks that no script ran by what the browser saw,
not by searching the HTML for strings.

- `Seen` records what only a running script can cause: dialogs (alert, confirm, prompt;
  dismissed at once so nothing hangs), console messages, uncaught page errors, and
  Content-Security-Policy violations (Chromium reports them on the console as errors).
- `chromium_page()` is a fresh browser and page for one check (a file or a URL);
  the `chromium` fixture launches one browser per session, and `page` gives each test a
  fresh context whose requests to any host but 127.0.0.1 and localhost are aborted and
  recorded, so no test reaches the internet.
- `LiveServer` binds a free port on 127.0.0.1 first, builds the app for that port (the
  Host and Origin checks need it) and serves it in a background thread with the same
  socket and server functions `engage serve` uses.
- `poke` does to every element of a page what a curious reader would: hover, focus and
  click, so a handler or a `javascript:` link that waits for the user gets its chance.

Loaded as a pytest plugin from conftest.py.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    Route,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from starlette.types import ASGIApp

from engage.web.server import local_socket, make_server

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying the network, which this
# machine's closed network refuses; the rest keep a test browser quiet and reproducible.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
START_TIMEOUT = 30.0  # seconds, for a loaded machine
TIMEOUT_MS = 30_000


class LiveServer:
    """`make_app(port)` served on 127.0.0.1:<a free port> until the `with` block ends."""

    def __init__(self, make_app: Callable[[int], ASGIApp]) -> None:
        self._socket = local_socket(0)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = make_app(self.port)
        self._server = make_server(self.app)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT  # a hang guard, not a speed claim
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server.should_exit = True
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(START_TIMEOUT)
        self._socket.close()

    def at(self, path: str) -> str:
        return self.url + path


@dataclass
class Seen:
    """What the browser reported while the page was open."""

    dialogs: list[str] = field(default_factory=list)  # "alert: message", confirm, prompt
    script_errors: list[str] = field(default_factory=list)  # uncaught page errors
    console: list[str] = field(default_factory=list)  # "type: text", messages of any kind
    blocked_requests: list[str] = field(default_factory=list)  # to hosts off this machine
    accept_dialogs: bool = False  # a test of our own confirm() says yes

    @property
    def console_errors(self) -> list[str]:
        return [text for text in self.console if text.startswith("error: ")]

    @property
    def csp_violations(self) -> list[str]:
        return [text for text in self.console_errors if "Content Security Policy" in text]

    def ran_script(self) -> list[str]:
        """What shows that untrusted script ran (or tried to and was blocked)."""
        return self.dialogs + self.script_errors + self.console_errors

    def attach(self, page: Page) -> Seen:
        page.on("dialog", self.on_dialog)
        page.on("pageerror", self.on_error)
        page.on("console", self.on_console)
        return self

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        if self.accept_dialogs:
            dialog.accept()
        else:
            dialog.dismiss()

    def on_error(self, error: PlaywrightError) -> None:
        self.script_errors.append(str(error))

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")


POKE = """(selector) => {
  let poked = 0;
  for (const element of document.querySelectorAll(selector)) {
    for (const type of ["mouseover", "mouseenter", "focus", "toggle"]) {
      element.dispatchEvent(new Event(type));
    }
    if (typeof element.focus === "function") element.focus();
    // Following a real http(s) link would leave the page (and the machine); those links
    // are checked for their scheme instead.
    const leaves = element.href !== undefined && typeof element.href === "string"
      && /^https?:/.test(element.href);
    if (!leaves && typeof element.click === "function") {
      element.click();
      poked += 1;
    }
  }
  return poked;
}"""


def poke(page: Page, selector: str) -> int:
    """Hover, focus and click every element matching `selector`; how many were clicked."""
    clicked = page.evaluate(POKE, selector)
    assert isinstance(clicked, int)
    return clicked


def link_schemes(page: Page, selector: str) -> list[str]:
    """The scheme of every link under `selector`, as the browser resolved its href."""
    return _strings(page, selector, "root.querySelectorAll('a[href], area[href]')", "protocol")


def attribute_names(page: Page, selector: str) -> set[str]:
    """Every attribute name on the elements inside `selector`, as the browser parsed them."""
    return set(_strings(page, selector, "root.querySelectorAll('*')", "getAttributeNames()"))


def _strings(page: Page, selector: str, elements: str, read: str) -> list[str]:
    """`read` of each of `elements` inside each element matching `selector`, flattened."""
    values = page.evaluate(
        f"(selector) => Array.from(document.querySelectorAll(selector), (root) =>"
        f" Array.from({elements}, (el) => el.{read})).flat(2)",
        selector,
    )
    assert isinstance(values, list)
    return [str(value) for value in values]


def launch_chromium(playwright: Playwright) -> Browser:
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: run ./.ci/system-deps (never `playwright install`)"
    )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


@contextmanager
def chromium_page(*, width: int = 900, height: int = 1200) -> Iterator[tuple[Page, Seen]]:
    """A fresh page in a fresh headless Chromium, with its listeners attached."""
    seen = Seen()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page, seen.attach(page)
        finally:
            browser.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def page(chromium: Browser, seen: Seen) -> Iterator[Page]:
    """A page in a fresh context (its own cookies), watched, kept on this machine."""
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)

    def local_only(route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            seen.blocked_requests.append(url)
            route.abort()

    context.route("**/*", local_only)
    page = context.new_page()
    seen.attach(page)
    try:
        yield page
    finally:
        # The browser may have gone away first, when the test has already failed.
        with contextlib.suppress(PlaywrightError):
            context.close()
