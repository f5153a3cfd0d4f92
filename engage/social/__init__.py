"""The conversation on Mastodon and Bluesky, read from their public APIs.

Profile feeds carry a person's posts but not the conversation: replies and mentions
between me and them live only in the APIs. The pure parts (`handles`, `mastodon`,
`bluesky`, `detect`, `limits`, `reading`) turn what users paste and what the servers answer
into our own values and events; `client` is the only part that touches the network.

What the poll cycle keeps per account, between polls (see `client` for why each):
- Mastodon: the account id on its own instance (looked up once), optionally my id on
  their instance and theirs on mine (detection falls back to the addresses in mentions),
  `since_id`, a `wait_until` from the server's rate limit, and a gone / login-required
  status with its one-line message;
- Bluesky: the DID (looked up once from the handle), `seen_until` (the AppView's cursor
  only pages backwards, so it is not what is kept), `wait_until`, and a gone status.
"""
