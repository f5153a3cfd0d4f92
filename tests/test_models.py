"""Finding someone in the watchlist: every command resolves names the same way."""

from __future__ import annotations

import pytest

from engage.models import Person, Role, Watchlist, fold_name

WATCHLIST = Watchlist(
    me=Person(name="Wren Inkwell", role=Role.ME, aliases=("wren",)),
    people=(Person(name="José García", aliases=("jgarcia",)), Person(name="Will Cooke")),
    contacts=(Person(name="Lee Okafor", role=Role.CONTACT),),
)


@pytest.mark.parametrize(
    ("asked", "found"),
    [
        pytest.param("José García", "José García", id="exact name"),
        pytest.param("jose garcia", "José García", id="accents and case do not matter"),
        pytest.param("  José   GARCÍA ", "José García", id="extra spaces do not matter"),
        pytest.param("JGarcia", "José García", id="an alias finds the person"),
        pytest.param("wren", "Wren Inkwell", id="my own alias finds me"),
        pytest.param("lee okafor", "Lee Okafor", id="contacts are found too"),
        pytest.param("Will Cook", None, id="a misspelling finds nobody"),
    ],
)
def test_find(asked: str, found: str | None) -> None:
    person = WATCHLIST.find(asked)
    assert (person.name if person else None) == found


def test_fold_name_folds_what_never_decides_identity() -> None:
    assert fold_name("  José   GARCÍA ") == "jose garcia" == fold_name("jose garcia")
