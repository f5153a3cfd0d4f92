"""A local feed server for benchmarks: N synthetic feeds with ETag/Last-Modified/304.

Runs in its own process so serving does not share a GIL with the poller being timed.
`bump(fraction)` changes that share of the feeds (a new entry at the top), the way a
real watchlist changes between two polls.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection

ENTRIES = 20
HOSTS = 16
PARAGRAPH = (
    "<p>Feeds are how people who write in public keep a conversation going across sites. "
    'A <a href="https://example.org/notes/{i}">note</a> about <em>polling</em>, '
    "<strong>conditional requests</strong> and the manners of a good client, with a "
    '<img src="/images/{i}.png" alt="diagram"> and some <code>code</code>.</p>'
)


def feed_body(index: int, version: int) -> bytes:
    """~47 KB of RSS 2.0 with 20 entries; `version` shifts the entries by one."""
    items = []
    for n in range(version, version + ENTRIES):
        content = "".join(PARAGRAPH.format(i=n * 7 + k) for k in range(7))
        items.append(
            f"""<item>
<title>Post {n} of feed {index}: on conversations &amp; feeds</title>
<link>http://blog{index}.example.org/posts/{n}</link>
<guid isPermaLink="false">feed-{index}-post-{n}</guid>
<pubDate>{formatdate(1_700_000_000 + n * 86_400, usegmt=True)}</pubDate>
<dc:creator>Author {index}</dc:creator>
<description><![CDATA[{content}]]></description>
</item>"""
        )
    items.reverse()
    return (
        f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Blog {index}</title><link>http://blog{index}.example.org/</link>
<description>Synthetic benchmark feed</description>
{"".join(items)}
</channel></rss>"""
    ).encode()


def _serve(conn: Connection, n: int) -> None:
    versions = [0] * n
    cache: dict[tuple[int, int], tuple[bytes, str]] = {}
    lock = threading.Lock()

    def body_for(index: int) -> tuple[bytes, str, str]:
        version = versions[index]
        with lock:
            if (index, version) not in cache:
                body = feed_body(index, version)
                cache[(index, version)] = (body, hashlib.sha1(body).hexdigest())
            body, digest = cache[(index, version)]
        modified = formatdate(1_700_000_000 + version * 3600, usegmt=True)
        return body, f'"{digest}"', modified

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            try:
                index = int(self.path.strip("/").split("/")[1].split(".")[0])
                body, etag, modified = body_for(index)
            except (IndexError, ValueError):
                self.send_error(404)
                return
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    # One server per loopback address, on the same port: a real watchlist spreads its
    # feeds over many sites, and engage's per-host politeness limit (2) applies per host.
    first = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = first.server_address[1]
    servers = [first] + [
        ThreadingHTTPServer((f"127.0.0.{h + 1}", port), Handler) for h in range(1, HOSTS)
    ]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send(port)
    while True:
        message = conn.recv()
        if message == "stop":
            for server in servers:
                server.shutdown()
            return
        kind, fraction = message
        step = max(1, round(1 / fraction)) if fraction else 0
        if kind == "bump" and step:
            for index in range(0, n, step):
                versions[index] += 1
        conn.send("ok")


class FeedServer:
    def __init__(self, n: int) -> None:
        self.n = n
        parent, child = multiprocessing.Pipe()
        self._conn = parent
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(child, n), daemon=True
        )
        self._process.start()
        self.port: int = parent.recv()

    def url(self, index: int) -> str:
        return f"http://127.0.0.{index % HOSTS + 1}:{self.port}/feeds/{index}.xml"

    def bump(self, fraction: float) -> None:
        self._conn.send(("bump", fraction))
        self._conn.recv()

    def stop(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
