"""Reading the user's own LinkedIn Connections.csv, in the shape LinkedIn exports it."""

from __future__ import annotations

import pytest

from engage.errors import EngageError
from engage.linkedin import linkedin_key, match_people, parse_connections
from engage.models import Person, Role, Watchlist

# As LinkedIn writes it: a BOM, "Notes:" lines, a blank line, then the header.
EXPORT = (
    "\ufeffNotes:\n"
    '"When exporting your connection data, you may notice that some of the email addresses '
    "are missing. You will only see email addresses for connections who have allowed their "
    'connections to see or download it. You can learn more here: https://www.linkedin.com/help"\n'
    "\n"
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
    "Priya,Raman,https://www.linkedin.com/in/priyaraman,priya@example.org,Acme Corp,"
    "Staff Engineer,12 Mar 2021\n"
    'José,García,https://www.linkedin.com/in/jgarcia,,"Data, Inc.","Head of Data, EMEA",'
    "03 Jan 2024\n"
    ",,https://www.linkedin.com/in/hidden,,,,05 May 2022\n"
    "Sam,Lee,https://www.linkedin.com/in/samlee,,Initech,CTO,1 Feb 2020\n"
    "Will,Cooke,https://www.linkedin.com/in/willcooke,,Canonical,Engineer,20 Jun 2019\n"
)


def test_reads_the_real_export_shape() -> None:
    found = parse_connections(EXPORT)
    names = [p.name for p in found.people]
    assert names == ["Priya Raman", "José García", "Sam Lee", "Will Cooke"]
    assert found.skipped == 1  # the member who hides their name
    priya = found.people[0]
    assert priya.role is Role.CONTACT
    assert priya.company == "Acme Corp"
    assert priya.strength == 0.3
    assert dict(priya.handles) == {
        "linkedin": "https://www.linkedin.com/in/priyaraman",
        "email": "priya@example.org",
    }
    assert "since 2021-03-12" in priya.notes and "Staff Engineer" in priya.notes


def test_quoted_commas_and_missing_email() -> None:
    jose = parse_connections(EXPORT).people[1]
    assert jose.company == "Data, Inc."
    assert "Head of Data, EMEA" in jose.notes
    assert "email" not in jose.handles
    assert "since 2024-01-03" in jose.notes


def test_stated_strength_is_kept_and_checked() -> None:
    assert parse_connections(EXPORT, strength=0.6).people[0].strength == 0.6
    with pytest.raises(EngageError, match="between 0 and 1"):
        parse_connections(EXPORT, strength=2)


def test_a_file_without_the_header_is_refused_clearly() -> None:
    with pytest.raises(EngageError, match="no header row"):
        parse_connections("name,email\nA,b@c\n", label="contacts.csv")


def test_a_header_without_notes_and_crlf_line_ends() -> None:
    text = (
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
        "Ann,Bo,https://www.linkedin.com/in/annbo,,,,\r\n"
    )
    (ann,) = parse_connections(text).people
    assert ann.name == "Ann Bo" and ann.company is None and "since" not in ann.notes


HEADER_ROW = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"

# (situation, rows after the header, (name, company) of the connections kept)
DEDUP = [
    ("two Jo Bloggs with two profiles are two connections",
     ["Jo,Bloggs,https://www.linkedin.com/in/jo1,,Acme,,",
      "Jo,Bloggs,https://www.linkedin.com/in/jo2,,Globex,,"],
     [("Jo Bloggs", "Acme"), ("Jo Bloggs", "Globex")]),
    ("the same profile twice keeps the last row",
     ["Ann,Bo,https://www.linkedin.com/in/a1,,Old Co,,",
      "ann,bo,https://www.linkedin.com/in/a1/,,New Co,,"],
     [("ann bo", "New Co")]),
    ("no URL: the same name at two companies is two",
     ["Sam,Lee,,,Initech,,", "Sam,Lee,,,Globex,,"],
     [("Sam Lee", "Initech"), ("Sam Lee", "Globex")]),
    ("no URL: the same name and company is one",
     ["Sam,Lee,,,Initech,CTO,", "sam,lee,,,INITECH,CEO,"],
     [("sam lee", "INITECH")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "kept"), [pytest.param(*row[1:], id=row[0]) for row in DEDUP]
)
def test_connections_are_told_apart_by_profile_url_else_name_and_company(  # type: ignore[no-untyped-def]
    rows, kept
):
    found = parse_connections(HEADER_ROW + "\n".join(rows) + "\n")
    assert [(p.name, p.company) for p in found.people] == kept


# (situation, name, company, url, same key as "Jo Bloggs", "Acme", linkedin.com/in/jo1)
KEYS = [
    ("the URL decides, not the name", "Joanna Bloggs", "Other", "https://www.linkedin.com/in/jo1",
     True),
    ("scheme, www, case and trailing slash do not matter", "Jo Bloggs", "Acme",
     "http://linkedin.com/in/JO1/", True),
    ("another profile is another person", "Jo Bloggs", "Acme",
     "https://www.linkedin.com/in/jo2", False),
    ("no URL is keyed apart from a URL", "Jo Bloggs", "Acme", None, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "company", "url", "same"), [pytest.param(*row[1:], id=row[0]) for row in KEYS]
)
def test_linkedin_key(name: str, company: str, url: str | None, same: bool) -> None:
    jo = linkedin_key("Jo Bloggs", "Acme", "https://www.linkedin.com/in/jo1")
    assert (linkedin_key(name, company, url) == jo) is same


@pytest.mark.parametrize("bad", [float("nan"), -0.1, 1.5])
def test_a_strength_out_of_range_or_nan_is_refused(bad: float) -> None:
    with pytest.raises(EngageError, match="between 0 and 1"):
        parse_connections(EXPORT, strength=bad)


WATCHLIST = Watchlist(
    me=Person("Marian", role=Role.ME),
    people=(
        Person("Will Cooke", company="Canonical"),
        Person("Sam Lee", company="Globex"),
    ),
    contacts=(Person("Jose Garcia", role=Role.CONTACT),),
)


# (situation, connection name, matched watchlist name or None, role, phrase in note)
MATCHES = [
    ("a person I follow, same company → already connected", "Will Cooke", "Will Cooke",
     Role.PERSON, "already connected on LinkedIn"),
    ("a contact matched by name with accents folded", "José García", "Jose Garcia",
     Role.CONTACT, "your contact"),
    ("same name, different company → kept apart", "Sam Lee", None, None,
     "shares a name"),
    ("nobody in the watchlist", "Priya Raman", None, None, ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("connection", "matched", "role", "phrase"),
    [pytest.param(*row[1:], id=row[0]) for row in MATCHES],
)
def test_match_people(connection, matched, role, phrase):  # type: ignore[no-untyped-def]
    matches = {
        m.connection.name: m for m in match_people(parse_connections(EXPORT).people, WATCHLIST)
    }
    match = matches[connection]
    assert (match.person.name if match.person else None) == matched
    assert match.role is role
    assert phrase in match.note
