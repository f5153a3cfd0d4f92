"""The conversation on Mastodon and Bluesky, read from their public APIs.

Profile feeds carry a person's posts but not the conversation: replies and mentions
between me and them live only in the APIs. The pure parts (`handles`, `reading`, `limits`,
`mastodon`, `bluesky`, `detect`, `accounts`) turn what users paste and what the servers
answer into our own values, events and decisions; `client` makes the calls and `poller`
runs one poll of the accounts. The choices (calls, state, schedule, rebuild, manners) are
in docs/design.md, "Social APIs".
"""
