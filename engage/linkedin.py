"""The user's own LinkedIn export, `Connections.csv`: the only LinkedIn data engage uses
(no scraping: docs/design.md, "Privacy").

Pure: the caller reads the file and passes its text. The export starts with a few
"Notes:" lines before the header row, may carry a BOM, leaves Email Address empty for
most people (they must opt in to share it), quotes fields that hold commas, and writes
dates as "12 Mar 2021".

Matching decisions (`match_people`):
- A connection whose name (or an alias) matches someone in feeds.yaml is that person,
  unless both sides name a company and the companies differ: two "Sam Lee"s at two
  companies are more likely two people, so that is reported as a homonym, not merged.
- A matched *contact* is the same node in the introductions graph (the stronger of the
  two strengths wins). A matched *person* I want to meet is reported as "already
  connected on LinkedIn": a fact worth showing, but it does not move the meter, which
  counts only real exchanges — a LinkedIn connection is not a dialogue.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from engage.errors import EngageError
from engage.models import Person, Role, Watchlist, fold_name
from engage.urls import normalize_url

HEADER = ("First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On")
DEFAULT_STRENGTH = 0.3  # a LinkedIn connection is a weak tie until the meter says more
TAG = "linkedin"


@dataclass(frozen=True)
class Connections:
    """What one export holds: the connections, and the rows that had no name (LinkedIn
    blanks the names of members who hide them)."""

    people: tuple[Person, ...]
    skipped: int = 0


@dataclass(frozen=True)
class Match:
    """Who in the watchlist a LinkedIn connection is."""

    connection: Person
    person: Person | None  # the watchlist entry, when it is the same human
    role: Role | None  # Role.PERSON: already connected on LinkedIn; Role.CONTACT: same contact
    note: str  # in words, for the import summary


def linkedin_key(name: str, company: str | None, url: str | None) -> str:
    """Who a connection is, for storing and de-duplicating: the profile URL when there is
    one (two "Jo Bloggs" at two companies are two people), else the name and company.
    The same person in a later export keeps the same key, so a re-import updates."""
    if url:
        cleaned = normalize_url(url.split("?", 1)[0], keep_fragment=False).casefold()
        cleaned = cleaned.removeprefix("m.")  # the mobile site's profile is the same profile
        if cleaned:
            return "url:" + cleaned
    return f"name:{fold_name(name)}|{fold_name(company or '')}"


def connection_key(person: Person) -> str:
    return linkedin_key(person.name, person.company, person.handles.get("linkedin"))


def _connected_on(text: str) -> date | None:
    text = text.strip()
    for form in ("%d %b %Y", "%d %B %Y", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def parse_connections(
    text: str, *, strength: float = DEFAULT_STRENGTH, label: str = "Connections.csv"
) -> Connections:
    """Connections as contacts (role contact, handles linkedin/email, the stated strength).
    Rows are told apart by profile URL (else name and company, `linkedin_key`): two
    "Jo Bloggs" with two profiles are two connections; a row repeated keeps the last."""
    if math.isnan(strength) or not 0.0 <= strength <= 1.0:
        raise EngageError(f"--strength must be between 0 and 1, not {strength}")
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    start = None
    for number, line in enumerate(lines):
        cells = next(csv.reader([line]), [])
        if [c.strip() for c in cells[:3]] == list(HEADER[:3]):
            start = number
            break
    if start is None:
        raise EngageError(
            f"{label}: no header row 'First Name,Last Name,URL,…' found; is this LinkedIn's "
            "Connections.csv (Settings → Data privacy → Get a copy of your data)?"
        )
    reader = csv.DictReader(io.StringIO("".join(lines[start:])))
    by_key: dict[str, Person] = {}
    skipped = 0
    for row in reader:
        cell = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        name = " ".join(f"{cell.get('First Name', '')} {cell.get('Last Name', '')}".split())
        if not name:
            skipped += 1
            continue
        handles = {
            key: value
            for key, value in (
                ("linkedin", cell.get("URL", "")),
                ("email", cell.get("Email Address", "")),
            )
            if value
        }
        since = _connected_on(cell.get("Connected On", ""))
        position = cell.get("Position", "")
        notes = "; ".join(
            part
            for part in (
                position,
                f"connected on LinkedIn since {since.isoformat()}" if since else "",
            )
            if part
        )
        person = Person(
            name=name,
            role=Role.CONTACT,
            handles=handles,
            company=cell.get("Company") or None,
            strength=strength,
            notes=notes,
            tags=(TAG,),
        )
        by_key[connection_key(person)] = person
    return Connections(tuple(by_key.values()), skipped)


def _names(person: Person) -> set[str]:
    return {fold_name(person.name), *(fold_name(a) for a in person.aliases)}


def _same_company(a: str | None, b: str | None) -> bool | None:
    """None when either side does not say."""
    if not a or not b:
        return None
    return fold_name(a) == fold_name(b)


def match_people(connections: Sequence[Person], watchlist: Watchlist) -> list[Match]:
    """For each connection, who in feeds.yaml it is (people first, then contacts)."""
    known = [*watchlist.people, *watchlist.contacts]
    matches: list[Match] = []
    for connection in connections:
        folded = fold_name(connection.name)
        found: Match | None = None
        for person in known:
            if folded not in _names(person):
                continue
            same = _same_company(connection.company, person.company)
            if same is False:
                found = Match(
                    connection,
                    None,
                    None,
                    f"{connection.name} at {connection.company} shares a name with "
                    f"{person.name} at {person.company}; kept apart",
                )
                continue
            if person.role is Role.PERSON:
                note = f"{person.name}: already connected on LinkedIn"
            else:
                note = f"{person.name}: your contact, now with their LinkedIn details"
            found = Match(connection, person, person.role, note)
            break
        matches.append(found or Match(connection, None, None, ""))
    return matches
