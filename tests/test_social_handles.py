"""What users paste for their Mastodon and Bluesky handles: every form read into one value,
every mistake a ValueError that says what to write instead."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engage.social.handles import (
    BlueskyHandle,
    MastodonHandle,
    parse_bluesky,
    parse_mastodon,
)

DANA = MastodonHandle("dana", "social.example.org")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("@dana@social.example.org", DANA, id="the address as Mastodon shows it"),
        pytest.param("dana@social.example.org", DANA, id="without the leading @"),
        pytest.param("  @dana@Social.Example.ORG ", DANA, id="spaces around, server in capitals"),
        pytest.param("acct:dana@social.example.org", DANA, id="a WebFinger acct: URI"),
        pytest.param("https://social.example.org/@dana", DANA, id="the profile URL"),
        pytest.param("https://social.example.org/@dana/", DANA, id="the profile URL with a slash"),
        pytest.param(
            "http://social.example.org/@dana", DANA, id="http is read as the same account"
        ),
        pytest.param("social.example.org/@dana", DANA, id="a profile URL without its scheme"),
        pytest.param(
            "https://social.example.org/@dana/110000000000000200", DANA, id="a status link"
        ),
        pytest.param("https://social.example.org/users/dana", DANA, id="the ActivityPub actor URL"),
        pytest.param(
            "https://mastodon.example.net/@dana@social.example.org",
            DANA,
            id="another server's page for the account",
        ),
        pytest.param(
            "@Dana_R@social.example.org",
            MastodonHandle("Dana_R", "social.example.org"),
            id="the user name keeps its case (servers compare it case-blind)",
        ),
        pytest.param(
            "@dana@bücher.example",
            MastodonHandle("dana", "xn--bcher-kva.example"),
            id="an internationalized server name is IDNA-encoded",
        ),
        pytest.param(
            "@dana@social.example.org:8443",
            MastodonHandle("dana", "social.example.org:8443"),
            id="a port is kept",
        ),
    ],
)
def test_mastodon_forms_users_paste(text: str, expected: MastodonHandle) -> None:
    assert parse_mastodon(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param("", "is empty (write it like @name@mastodon.social", id="empty"),
        pytest.param(
            "@dana", "'@dana' has no server (write the whole address, like @dana@", id="no server"
        ),
        pytest.param(
            "dana.bsky.social",
            "looks like a Bluesky handle (put it under bluesky:",
            id="bluesky handle",
        ),
        pytest.param(
            "https://bsky.app/profile/dana.bsky.social",
            "is a Bluesky profile (put it under bluesky:)",
            id="bluesky profile URL",
        ),
        pytest.param("did:plc:danadanadanadanadanadana", "is a Bluesky DID", id="a DID"),
        pytest.param("@dana@localhost", "'localhost' is not a domain name", id="no public server"),
        pytest.param("@dana@10.0.0.1", "'10.0.0.1' is not a domain name", id="an IP address"),
        pytest.param(
            "@da+na@social.example.org", "a user name has letters, digits and _", id="bad user"
        ),
        pytest.param("@dana@social.example.org:0", "has a bad port", id="port zero"),
        pytest.param("@dana @social.example.org", "has a space in it", id="a space inside"),
        pytest.param(
            "https://social.example.org/about",
            "is not a Mastodon profile URL (like https://mastodon.social/@name",
            id="a page that is not a profile",
        ),
        pytest.param("ftp://social.example.org/@dana", "is not an http(s) URL", id="ftp"),
        pytest.param(
            "https://social.example.org:x/@dana", "is not a valid URL", id="bad port in URL"
        ),
    ],
)
def test_mastodon_mistakes_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        parse_mastodon(text)
    assert says in str(caught.value)


def test_mastodon_handle_knows_its_urls_and_mentions() -> None:
    assert str(DANA) == "@dana@social.example.org"
    assert DANA.acct == "dana@social.example.org"
    assert DANA.base_url == "https://social.example.org"
    assert DANA.profile_url == "https://social.example.org/@dana"
    assert DANA.same_account("dana", "social.example.org")  # a local account's mention
    assert DANA.same_account("Dana@SOCIAL.example.org", "elsewhere.example")
    assert not DANA.same_account("dana", "elsewhere.example")  # another server's dana
    assert not DANA.same_account("dana2@social.example.org", "social.example.org")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("dana.bsky.social", "dana.bsky.social", id="a handle"),
        pytest.param("@Dana.Bsky.Social", "dana.bsky.social", id="with @, in capitals"),
        pytest.param("dana.example.org.", "dana.example.org", id="a custom domain, trailing dot"),
        pytest.param(
            "https://bsky.app/profile/dana.example.org", "dana.example.org", id="the profile URL"
        ),
        pytest.param("bsky.app/profile/dana.example.org", "dana.example.org", id="no scheme"),
        pytest.param(
            "https://bsky.app/profile/did:plc:danadanadanadanadanadana/post/3m4dbbbbbbb2a",
            "did:plc:danadanadanadanadanadana",
            id="a post link names its author",
        ),
        pytest.param(
            "did:plc:danadanadanadanadanadana", "did:plc:danadanadanadanadanadana", id="did:plc"
        ),
        pytest.param("did:web:Dana.Example.org", "did:web:dana.example.org", id="did:web"),
        pytest.param(
            "at://did:plc:danadanadanadanadanadana/app.bsky.feed.post/3m4dbbbbbbb2a",
            "did:plc:danadanadanadanadanadana",
            id="an at:// URI names its repository",
        ),
    ],
)
def test_bluesky_forms_users_paste(text: str, expected: str) -> None:
    assert parse_bluesky(text) == BlueskyHandle(expected)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param(" ", "is empty (write it like name.bsky.social", id="blank"),
        pytest.param("dana", "did you mean 'dana.bsky.social'?", id="a bare name"),
        pytest.param("@dana@social.example.org", "looks like a Mastodon address", id="mastodon"),
        pytest.param("dana@example.org", "looks like a Mastodon or e-mail address", id="e-mail"),
        pytest.param(
            "https://social.example.org/@dana", "looks like a Mastodon profile", id="mastodon URL"
        ),
        pytest.param("https://example.org/dana", "is not a Bluesky profile URL", id="other page"),
        pytest.param("did:plc:dana", "24 letters a-z and digits 2-7", id="a cut-off did:plc"),
        pytest.param("did:key:z6Mkabc", "did:plc and did:web DIDs only", id="another method"),
        pytest.param("did:web:localhost%3A8080", "without port or path", id="did:web with port"),
        pytest.param("handle.invalid", ".invalid names are never handles", id="handle.invalid"),
        pytest.param("dana.example", ".example names are never handles", id="reserved TLD"),
        pytest.param("dana.123", "'dana.123' is not a domain name", id="numeric TLD"),
        pytest.param("-dana.bsky.social", "is not a domain name", id="label starts with -"),
    ],
)
def test_bluesky_mistakes_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_bluesky(text)
    assert says in str(caught.value)


def test_bluesky_handle_knows_its_profile() -> None:
    handle = BlueskyHandle("dana.example.org")
    assert str(handle) == "dana.example.org" and not handle.is_did
    assert handle.profile_url == "https://bsky.app/profile/dana.example.org"
    assert BlueskyHandle("did:plc:danadanadanadanadanadana").is_did


# ---------------------------------------------------------------------------
# Properties: any text is a handle or a ValueError; every form of one account reads back
# as that account.

_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
_tld = st.from_regex(r"[a-z][a-z0-9]{1,10}", fullmatch=True).filter(
    lambda t: (
        t not in ("example", "invalid", "local", "localhost", "onion", "internal", "alt", "arpa")
    )
)
_domain = st.builds(
    lambda labels, tld: ".".join([*labels, tld]), st.lists(_label, min_size=1, max_size=3), _tld
)
_user = st.from_regex(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,20}[A-Za-z0-9_])?", fullmatch=True)
_mastodon = st.builds(
    MastodonHandle,
    _user,
    st.one_of(_domain, st.builds(lambda d, p: f"{d}:{p}", _domain, st.integers(1, 65535))),
)
_bluesky = st.one_of(
    st.builds(BlueskyHandle, _domain),
    st.builds(
        lambda s: BlueskyHandle("did:plc:" + s),
        st.from_regex(r"[a-z2-7]{24}", fullmatch=True),
    ),
    st.builds(lambda d: BlueskyHandle("did:web:" + d), _domain),
)
# Text that looks like handles, URLs and DIDs, cut and mixed, as well as any text at all.
_pasted = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"[@a-zA-Z0-9_.:/%-]{0,60}", fullmatch=True),
    st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(["", "@", "https://", "did:plc:", "did:web:", "at://", "acct:", "//"]),
        st.text(max_size=40),
        st.sampled_from(["", "@x.org", "/@a", ".bsky.social", "/profile/", ":99999", "."]),
    ),
)


@settings(deadline=None)  # a slow shared machine is no bug: no time limit
@given(_pasted)
@example("@@")
@example("https://[::1/@a")
@example("@a@xn--.org")
@example("a@" + "x" * 70 + ".org")
@example("did:web:" + "é" * 70)
def test_any_text_is_a_mastodon_handle_or_a_value_error(text: str) -> None:
    try:
        handle = parse_mastodon(text)
    except ValueError as exc:
        assert str(exc)  # a message, never an empty one
    else:
        assert parse_mastodon(str(handle)) == handle


@settings(deadline=None)
@given(_pasted)
@example("https://bsky.app/profile/")
@example("at://")
@example("did:web:")
@example("@" + "a" * 64 + ".com")
def test_any_text_is_a_bluesky_handle_or_a_value_error(text: str) -> None:
    try:
        handle = parse_bluesky(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert parse_bluesky(str(handle)) == handle


@settings(deadline=None)
@given(_mastodon)
def test_every_form_of_a_mastodon_account_reads_back_as_it(handle: MastodonHandle) -> None:
    forms = [str(handle), handle.acct, "acct:" + handle.acct, handle.profile_url]
    forms += [handle.profile_url + "/123", f"https://{handle.host}/users/{handle.user}"]
    forms += [f"https://other.example.net/@{handle.acct}"]
    for form in forms:
        assert parse_mastodon(form) == handle, form


@settings(deadline=None)
@given(_bluesky)
def test_every_form_of_a_bluesky_account_reads_back_as_it(handle: BlueskyHandle) -> None:
    forms = [str(handle), handle.profile_url, handle.profile_url + "/post/3m4dbbbbbbb2a"]
    forms += [f"at://{handle.actor}/app.bsky.feed.post/3m4dbbbbbbb2a"]
    if not handle.is_did:
        forms += ["@" + handle.actor, handle.actor.upper()]
    for form in forms:
        assert parse_bluesky(form) == handle, form
