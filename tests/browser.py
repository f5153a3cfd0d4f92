"""Real headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by
Playwright (never a downloaded browser), with listeners that record every dialog, page
error and console message, so a test checks that no script ran by what the browser saw,
not by searching the HTML for strings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage, Dialog, Error, Page, sync_playwright

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


@dataclass
class Seen:
    """What the browser reported while the page was open."""

    dialogs: list[str] = field(default_factory=list)  # alert(), confirm(), prompt()
    script_errors: list[str] = field(default_factory=list)  # uncaught page errors
    console: list[str] = field(default_factory=list)  # console messages of any kind

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_error(self, error: Error) -> None:
        self.script_errors.append(str(error))

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")


@contextmanager
def chromium_page(*, width: int = 900, height: int = 1200) -> Iterator[tuple[Page, Seen]]:
    """A fresh page in a fresh headless Chromium, with its listeners attached."""
    seen = Seen()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("dialog", seen.on_dialog)
            page.on("pageerror", seen.on_error)
            page.on("console", seen.on_console)
            yield page, seen
        finally:
            browser.close()
