"""The conversation on Mastodon and Bluesky, read from their public APIs.

Profile feeds carry a person's posts but not the conversation: replies and mentions
between me and them live only in the APIs. The pure parts (`handles`, `mastodon`,
`bluesky`, `detect`, `limits`, `text`) turn what users paste and what the servers answer
into our own values and events; `client` is the only part that touches the network.
"""
