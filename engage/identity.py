"""Who is who over time: a person's history survives a rename, a merge and a new machine.

feeds.yaml is edited by hand and relationships last years, so the store never files a
person's history under their display name of the day. Every person has a key that never
changes once given: the display name under which the store first knew them (so every
record and every id written before keys existed is already filed correctly). The store
keeps, per key, every name and alias ever seen for that person (`KnownIdentity`), and
`resolve` finds, for the watchlist as it is now, each person's key:

1. the identity last seen under their current name;
2. else one that ever had their current name;
3. else one that had one of their aliases (an alias kept across a hand rename is the
   usual link);
4. else a new key: their current name.

Reads never write: a new key is registered by the next write (`remember`). What the user
sees is always the current name (`Keys.display`); an identity with events that nobody
in the watchlist resolves to is an orphan, and is reported, never silently dropped.

Pure: the known identities and the watchlist in, keys out (docs/design.md, "Identity").
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from engage.models import (
    Event,
    EventKind,
    EventSource,
    IntroEvidence,
    Person,
    Watchlist,
    fold_name,
)
from engage.urls import normalize_url


@dataclass(frozen=True)
class KnownIdentity:
    """One person as the store knows them."""

    key: str  # never changes once given: what their stored records say in `person`
    name: str  # the display name they were last seen under
    names: tuple[str, ...] = ()  # every name and alias ever seen for them, folded, oldest first

    @property
    def folded_names(self) -> tuple[str, ...]:
        """Their names with the key's own first (a hand-edited document may lack it)."""
        return tuple(dict.fromkeys((fold_name(self.key), *self.names)))


@dataclass(frozen=True)
class KeyedPerson(Person):
    """A watchlist person whose history is filed under another key than their name: what
    the poll cycle and detection are given, so everything they store carries the key."""

    stored_as: str = ""

    @property
    def key(self) -> str:
        return self.stored_as or self.name


def filed_as(person: Person, key: str) -> Person:
    """`person`, whose history is filed under `key`."""
    if key == person.name and type(person) is Person:
        return person
    fields = {f.name: getattr(person, f.name) for f in dataclasses.fields(Person)}
    return KeyedPerson(**fields, stored_as=key)


def remember(known: KnownIdentity | None, person: Person) -> KnownIdentity:
    """`known` (None: a new identity under the person's key) with the person's current name
    and aliases added: what the next write stores."""
    seen = [fold_name(person.name), *(fold_name(alias) for alias in person.aliases)]
    if known is None:
        names = tuple(dict.fromkeys((fold_name(person.key), *seen)))
        return KnownIdentity(person.key, person.name, tuple(n for n in names if n))
    names = tuple(n for n in dict.fromkeys((*known.folded_names, *seen)) if n)
    return KnownIdentity(known.key, person.name, names)


def combined(kept: KnownIdentity, gone: KnownIdentity, name: str) -> KnownIdentity:
    """Two identities found to be one person: `kept`'s key, every name of both, `name`
    as the one last seen."""
    names = tuple(dict.fromkeys((*kept.folded_names, *gone.folded_names, fold_name(name))))
    return KnownIdentity(kept.key, name, names)


@dataclass(frozen=True)
class Orphan:
    """Stored events for an identity nobody in the watchlist resolves to."""

    identity: KnownIdentity
    events: int
    successor: str | None  # the current person they most likely became, when one stands out


class Keys:
    """The answer of `resolve`: each watchlist person's key, and back from a key to the
    person the user knows today."""

    def __init__(
        self,
        key_by_name: Mapping[str, str],
        person_by_key: Mapping[str, Person],
        known: Mapping[str, KnownIdentity],
    ) -> None:
        self._key_by_name = key_by_name  # folded watchlist name -> key
        self._person_by_key = person_by_key  # folded key -> watchlist person
        self.known = known  # folded key -> identity (stored, or implied by stored records)

    def key(self, name: str) -> str:
        """The key of the watchlist person called `name` (any other name is its own key)."""
        return self._key_by_name.get(fold_name(name), name)

    def person(self, key: str) -> Person | None:
        """The watchlist person whose history is filed under `key`, if any."""
        return self._person_by_key.get(fold_name(key))

    def display(self, key: str) -> str:
        """How a stored `person` reads today: the current name, or for someone no longer in
        the watchlist the name the store last saw them under."""
        person = self.person(key)
        if person is not None:
            return person.name
        known = self.known.get(fold_name(key))
        return known.name if known is not None else key

    def identity_of(self, name: str) -> KnownIdentity | None:
        return find_identity(self.known.values(), name)

    def keyed(self, watchlist: Watchlist) -> Watchlist:
        """The watchlist with each person's key attached: what the poll cycle and detection
        store and hash under."""

        def with_key(person: Person) -> Person:
            return filed_as(person, self.key(person.name))

        return dataclasses.replace(
            watchlist,
            me=with_key(watchlist.me),
            people=tuple(with_key(p) for p in watchlist.people),
            contacts=tuple(with_key(p) for p in watchlist.contacts),
        )

    def orphans(self, events: Mapping[str, int], watchlist: Watchlist) -> list[Orphan]:
        """Identities with stored events (`events`: how many, by folded key) that nobody in
        the watchlist resolves to, the most events first."""
        found = []
        for folded, count in events.items():
            if not count or folded in self._person_by_key:
                continue
            identity = self.known.get(folded) or KnownIdentity(folded, folded, (folded,))
            found.append(Orphan(identity, count, successor(identity, watchlist)))
        found.sort(key=lambda o: (-o.events, fold_name(o.identity.name)))
        return found


def find_identity(known: Iterable[KnownIdentity], name: str) -> KnownIdentity | None:
    """The identity filed under `name`, else the one whose names hold it (one last seen
    under it first, then the first by key)."""
    folded = fold_name(name)
    holders = [i for i in known if folded in i.folded_names]
    holders.sort(
        key=lambda i: (fold_name(i.key) != folded, fold_name(i.name) != folded, fold_name(i.key))
    )
    return holders[0] if holders else None


def resolve(watchlist: Watchlist, known: Iterable[KnownIdentity]) -> Keys:
    """Each watchlist person's key (see the module docstring for the order of the rules).
    An identity goes to one person at most; among several candidates the one filed under
    the person's own name wins, then the first by key, so the answer never depends on the
    order the store lists them in."""
    identities: dict[str, KnownIdentity] = {}
    for identity in known:
        identities.setdefault(fold_name(identity.key), identity)
    by_last: dict[str, list[str]] = {}
    by_any: dict[str, list[str]] = {}
    for folded_key, identity in identities.items():
        by_last.setdefault(fold_name(identity.name), []).append(folded_key)
        for name in identity.folded_names:
            by_any.setdefault(name, []).append(folded_key)

    everyone = watchlist.everyone()
    key_by_name: dict[str, str] = {}
    person_by_key: dict[str, Person] = {}

    def claim(person: Person, index: Mapping[str, list[str]], names: Sequence[str]) -> None:
        for name in names:
            free = [k for k in index.get(name, ()) if k not in person_by_key]
            if free:
                own = fold_name(person.name)
                chosen = min(free, key=lambda k: (k != own, k))
                key_by_name[fold_name(person.name)] = identities[chosen].key
                person_by_key[chosen] = person
                return

    def own_name(person: Person) -> list[str]:
        return [fold_name(person.name)]

    def aliases(person: Person) -> list[str]:
        return [fold_name(alias) for alias in person.aliases]

    rules: list[tuple[Mapping[str, list[str]], Callable[[Person], list[str]]]] = [
        (by_last, own_name),
        (by_any, own_name),
        (by_any, aliases),
    ]
    for index, names_of in rules:
        for person in everyone:
            if fold_name(person.name) not in key_by_name:
                claim(person, index, names_of(person))

    for person in everyone:
        folded = fold_name(person.name)
        if folded in key_by_name:
            continue
        # Their name is another's key (that person was renamed, and this one took the
        # old name): a key is never shared, so the newcomer gets a numbered one.
        key, copy = person.name, 1
        while fold_name(key) in identities or fold_name(key) in person_by_key:
            copy += 1
            key = f"{person.name} ({copy})"
        key_by_name[folded] = key
        person_by_key[fold_name(key)] = person
    return Keys(key_by_name, person_by_key, identities)


def successor(identity: KnownIdentity, watchlist: Watchlist) -> str | None:
    """The current person an orphaned identity most likely became: the one person who has
    one of its names as an alias; else the one person whose name starts with, or reads
    very like, the name it was last seen under."""
    candidates = (*watchlist.people, *watchlist.contacts)
    names = set(identity.folded_names)
    by_alias = [p for p in candidates if names & {fold_name(a) for a in p.aliases}]
    if by_alias:
        return by_alias[0].name if len(by_alias) == 1 else None
    last = fold_name(identity.name)
    starting = [p for p in candidates if fold_name(p.name).startswith(last + " ")]
    if len(starting) == 1:
        return starting[0].name
    if starting:
        return None
    close = difflib.get_close_matches(last, [fold_name(p.name) for p in candidates], n=2)
    if len(close) == 1:
        return next(p.name for p in candidates if fold_name(p.name) == close[0])
    return None


def same_interaction(person: str, kind: str, url: object) -> tuple[str, str, str] | None:
    """What makes two events one interaction whoever recorded them: the same person, kind
    and link, normalised (engage.urls). A comment or a reply has one link, so an event
    logged by hand and the one detection finds for that link are one, and only one of
    them may count (docs/design.md, "Duplicates"). None without a link: then only the
    ids decide."""
    if not isinstance(url, str) or not url.strip():
        return None
    return (fold_name(person), str(kind), normalize_url(url))


def manual_id(person: str, kind: EventKind, when: datetime, url: str | None, note: str = "") -> str:
    """Stable for (person, kind, minute, url, note): logging the same thing twice gives one
    event, but two calls "yesterday" with different notes are two events ('yesterday'
    means 00:00, so the minute alone cannot tell them apart). For `met` the note holds the
    event's name. Without a note the key is what it always was, so old ids still match.
    `person` is the person's key, so a rename keeps the ids."""
    utc_minute = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    parts = [person, kind.value, utc_minute, url or ""]
    if note:
        parts.append(note)
    key = "|".join(parts)
    return "manual:" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


Found = TypeVar("Found")


def carried_ids(
    before: Sequence[Found],
    after: Sequence[Found],
    old: Callable[[Found], Hashable | None],
    new: Callable[[Found], Hashable | None],
    ident: Callable[[Found], str],
) -> dict[str, str]:
    """Old ids -> new ids for the same things detected under the old key (`before`) and
    under the new one (`after`). Auto ids hash the key, so re-keying a history must give
    its detected records the ids the next detection will give them, or the next poll would
    add each one again. `old` and `new` say what a record of the old and of the new key is
    about, the key aside (None: not one of theirs); a signature seen twice is left alone."""

    def by_signature(
        items: Sequence[Found], sign: Callable[[Found], Hashable | None]
    ) -> dict[Hashable, list[str]]:
        found: dict[Hashable, list[str]] = {}
        for item in items:
            sig = sign(item)
            if sig is not None:
                found.setdefault(sig, []).append(ident(item))
        return found

    new_by_sig = by_signature(after, new)
    mapping: dict[str, str] = {}
    for sig, old_ids in by_signature(before, old).items():
        new_ids = new_by_sig.get(sig, [])
        if len(old_ids) == 1 and len(new_ids) == 1 and old_ids[0] != new_ids[0]:
            mapping[old_ids[0]] = new_ids[0]
    return mapping


def event_signature(key: str) -> Callable[[Event], Hashable | None]:
    """What one of `key`'s events is about, the key aside: its kind, link and moment."""
    folded = fold_name(key)

    def signature(event: Event) -> Hashable | None:
        if fold_name(event.person) != folded:
            return None
        return (event.kind, normalize_url(event.url) if event.url else "", event.when)

    return signature


def evidence_signature(key: str) -> Callable[[IntroEvidence], Hashable | None]:
    """What a piece of introduction evidence naming `key` is about, `key` aside: its kind,
    link, moment and who is on the other side."""
    folded = fold_name(key)

    def signature(item: IntroEvidence) -> Hashable | None:
        contact, person = fold_name(item.contact), fold_name(item.person)
        url = normalize_url(item.url) if item.url else ""
        if contact == folded:
            return (item.kind, url, item.when, "contact", person)
        if person == folded:
            return (item.kind, url, item.when, "person", contact)
        return None

    return signature


def manual_ids(events: Iterable[Event], old: str, new: str) -> dict[str, str]:
    """Old ids -> new ids of `old`'s events logged by hand, whose ids hash the key too; a
    copy logged again after an undo keeps its "-N" suffix."""
    mapping: dict[str, str] = {}
    for event in events:
        if event.source != EventSource.MANUAL or fold_name(event.person) != fold_name(old):
            continue
        base = manual_id(event.person, event.kind, event.when, event.url, event.note)
        if event.id == base or event.id.startswith(base + "-"):
            suffix = event.id[len(base) :]
            again = manual_id(new, event.kind, event.when, event.url, event.note)
            mapping[event.id] = again + suffix
    return mapping

