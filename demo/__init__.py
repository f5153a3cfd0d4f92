"""`python -m demo` (and `make demo`): engage's main job on a bundled, fictional watchlist.

A newcomer should see in half a minute, offline, what engage does: a local HTTP server
plays the websites of six invented people (blogs, comment feeds, a podcast, a
Mastodon-style feed, a broken and a closed feed, a moved one), a demo watchlist points at
it, and the real `engage` commands poll it, find the conversation in the comment feeds
and print the meter's verdicts.

- `demo.site`: the fictional websites, described compactly and rendered to feed XML with
  dates relative to the moment the server starts, so the verdicts are the same every day.
- `demo.server`: the local server (stdlib ThreadingHTTPServer on 127.0.0.1, port 0).
- `demo.__main__`: writes the watchlist and a fresh data folder, runs the CLI, prints it.
"""
