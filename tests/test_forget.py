"""`engage forget`: the person every other command means (name or alias), everything about
them gone from every file of the data folder (backups and digests too), nothing about
anyone else, and feeds.yaml changed only when asked.

The world is the demo's (a real poll of its local sites, its digest), with what the demo
does not do added by the real commands: an undone event, a note naming the person on
someone else's event, a LinkedIn import, and backups kept on several days.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engage.config import load
from engage.models import fold_name
from engage.store import PRECIOUS, Store, generations

ROOT = Path(__file__).resolve().parents[1]
BRAM = "Bram Quillhaven"  # in the demo's feeds.yaml with `aliases: [bram]`
NOTE = f"Ada asked after {BRAM} and his directory"
LINKEDIN = (
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
    "Bram,Quillhaven,https://www.linkedin.com/in/bq-example,,Quill Co,Writer,1 Feb 2020\n"
    "Hollis,Pennywhistle,https://www.linkedin.com/in/hp-example,,Studio,Engineer,1 Feb 2020\n"
)


def engage(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ENGAGE_CONFIG", "ENGAGE_DATA")}
    env.update(
        ENGAGE_CONFIG=str(work / "feeds.yaml"),
        ENGAGE_DATA=str(work / "data"),
        ENGAGE_CACHE=str(work / "user-cache"),
    )
    return subprocess.run(
        [sys.executable, "-m", "engage", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def on_an_earlier_day(data: Path, days: int) -> None:
    """engage.json as if written `days` ago: the next write keeps it as that day's copy."""
    noon = datetime.combine(date.today() - timedelta(days=days), datetime.min.time())
    stamp = noon.replace(hour=12).timestamp()
    os.utime(data / PRECIOUS, (stamp, stamp))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's world after its run, and more: built once, copied by each test."""
    work = tmp_path_factory.mktemp("forget") / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "demo", "--data", str(work), "--no-serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = work / "data"
    assert list((data / "digests").glob("*.html")), "the demo builds a digest"
    bram_event = next(e for e in Store(data).events() if e.person == BRAM)
    (work / "linkedin.csv").write_text(LINKEDIN)
    steps = [
        ["undo", bram_event.id],
        ["log", "Ada Lanternfield", "email-in", "--note", NOTE],
        ["import-linkedin", str(work / "linkedin.csv")],
    ]
    for days, step in zip((3, 2, 1), steps, strict=True):
        on_an_earlier_day(data, days)
        ran = engage(work, *step)
        assert ran.returncode == 0, ran.stderr
    assert len(generations(data)) == 4  # today's (the demo's own writes) and three days
    return work


@pytest.fixture
def work(world: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "demo"
    shutil.copytree(world, copy, copy_function=shutil.copy2)  # hard links become copies
    yield copy


def every_file(folder: Path) -> dict[Path, str]:
    return {
        path: path.read_bytes().decode("utf-8", errors="replace")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def names_in(document: Any) -> set[str]:
    """Every value of a field that names someone, anywhere in a JSON document."""
    found: set[str] = set()
    if isinstance(document, dict):
        for key, value in document.items():
            if key in ("person", "author", "contact", "name") and isinstance(value, str):
                found.add(fold_name(value))
            found |= names_in(value)
    elif isinstance(document, list):
        for value in document:
            found |= names_in(value)
    return found


def test_forget_by_alias_leaves_nothing_of_them_in_any_file(work: Path) -> None:
    data = work / "data"
    watchlist = load(work / "feeds.yaml")
    bram = watchlist.find("bram")
    assert bram is not None and bram.name == BRAM
    base = bram.feeds[0].url.rsplit("/bram/", 1)[0]
    # His listed feed, and every feed engage found for him (comment feeds, per-post ones).
    telltales = [BRAM, "bram.example.org", f"{base}/bram/"]
    before = every_file(data)
    assert all(any(t in text for text in before.values()) for t in telltales)
    assert len([p for p in before if p.parent.name == "backups"]) == 4
    others = {e.id for e in Store(data).events() if e.person != BRAM}

    done = engage(work, "forget", "bram", "--yes")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Forgot {BRAM} ('bram'): ")
    for kind in ("events", "undo markers", "feeds", "posts", "comments on their feeds",
                 "LinkedIn entries", "texts with their name taken out",
                 "backup copies rewritten", "digest pages removed"):  # fmt: skip
        assert f" {kind}" in done.stdout.splitlines()[0], kind
    assert f"{BRAM} is still listed in " in done.stdout
    assert "--from-watchlist" in done.stdout

    exported = engage(work, "export")
    assert exported.returncode == 0, exported.stderr
    after = every_file(data)
    assert [p for p in after if p.parent.name == "backups"], "the backups are kept, rewritten"
    for where, text in {**after, Path("engage export"): exported.stdout}.items():
        for telltale in telltales:
            assert telltale.casefold() not in text.casefold(), (where, telltale)
        if where.suffix in (".json", "") and text.strip():
            assert "bram" not in names_in(json.loads(text)), where
            assert fold_name(BRAM) not in names_in(json.loads(text)), where
    # Everyone else's data stays: their events (the note that named him, with his name
    # taken out), and the word "bram" is not hunted in others' words, only as a name.
    store = Store(data)
    assert {e.id for e in store.events()} == others
    [note] = [e.note for e in store.events() if e.note.startswith("Ada asked after")]
    assert note == "Ada asked after [forgotten] and his directory"
    assert [p.name for p in store.linkedin_contacts()] == ["Hollis Pennywhistle"]
    assert store.intro_evidence(), "Hollis's comment on Cyra's blog is still evidence"


def test_forget_from_the_watchlist_too_keeps_its_comments(work: Path) -> None:
    before = (work / "feeds.yaml").read_text()
    done = engage(work, "forget", "Bram Quillhaven", "--yes", "--from-watchlist")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        f"Removed {BRAM} from {work / 'feeds.yaml'} (and from every knows: list)."
    )
    after = (work / "feeds.yaml").read_text()
    assert "Bram" not in after and "bram" not in after
    # Only his entry went: with the comment lines right above it, which describe him.
    gone = [line for line in before.splitlines() if line not in after.splitlines()]
    assert gone[0].lstrip().startswith("# A WordPress Atom feed")
    assert all("#" not in line or line.lstrip().startswith("# ") for line in gone)
    kept_comments = [line for line in before.splitlines() if "#" in line and line not in gone]
    assert kept_comments == [line for line in after.splitlines() if "#" in line]
    assert load(work / "feeds.yaml").find("Cyra Moonwhistle") is not None
    # The next poll has nobody to collect them for.
    assert engage(work, "forget", "bram", "--yes").stdout.startswith("Nothing about bram")


def test_someone_no_longer_in_the_watchlist_is_forgotten_by_their_stored_name(
    work: Path,
) -> None:
    data = work / "data"
    # Cyra was taken out of feeds.yaml by hand; her data is still in the folder.
    text = (work / "feeds.yaml").read_text()
    start = text.index("  # Her comment feed is listed by hand")
    end = text.index("  # Only on Mastodon")
    (work / "feeds.yaml").write_text(text[:start] + text[end:])
    assert load(work / "feeds.yaml").find("Cyra Moonwhistle") is None
    assert any(e.person == "Cyra Moonwhistle" for e in Store(data).events())

    done = engage(work, "forget", "cyra moonwhistle", "--yes")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Forgot Cyra Moonwhistle ('cyra moonwhistle'): ")
    assert not any("Cyra Moonwhistle" in text for text in every_file(data).values())


def test_forget_refuses_me(work: Path) -> None:
    done = engage(work, "forget", "wren", "--yes")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"'wren' is you (me: in {work / 'feeds.yaml'}); forget removes what engage keeps "
        "about someone else"
    ]


SAMPLE = """\
me:
  name: Sam
# The people I want to meet.
people:
  # Ada writes about comments.
  - name: Ada
    feeds:
      - https://ada.example/feed
    knows: [Bram, Lee]

  # Bram, in two lines
  # of description.
  - name: Bram
    aliases: [bram b]

  # Cyra
  - name: Cyra
    knows:
      - Bram   # she met him
      - Lee
# People I know.
contacts:
  - name: Lee
    knows: [bram b]
settings:
  poll_interval: 60
"""


def without(text: str, *blocks: str) -> str:
    """`text` without each block of whole lines (each found once, in order)."""
    for block in blocks:
        assert block in text, block
        text = text.replace(block, "", 1)
    return text


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (
            "Ada",  # the first item: its description hangs on `people:`
            without(
                SAMPLE,
                "  # Ada writes about comments.\n  - name: Ada\n    feeds:\n"
                "      - https://ada.example/feed\n    knows: [Bram, Lee]\n\n",
            ),
        ),
        (
            "bram b",  # by alias; out of every knows:, block and flow alike
            without(
                SAMPLE,
                "\n  # Bram, in two lines\n  # of description.\n  - name: Bram\n"
                "    aliases: [bram b]\n",
                "      - Bram   # she met him\n",
                "    knows: [bram b]\n",  # a knows: left empty goes
            ).replace("[Bram, Lee]", "[Lee]"),
        ),
        (
            "Cyra",  # the last person: the comment introducing contacts: stays
            without(
                SAMPLE,
                "\n  # Cyra\n  - name: Cyra\n    knows:\n      - Bram   # she met him\n"
                "      - Lee\n",
            ),
        ),
        (
            "Lee",  # the only contact: `contacts:` goes, its comment stays
            without(
                SAMPLE, "      - Lee\n", "contacts:\n  - name: Lee\n    knows: [bram b]\n"
            ).replace("[Bram, Lee]", "[Bram]"),
        ),
    ],
    ids=["first", "by alias, from knows", "last person", "only contact"],
)
def test_removing_someone_from_the_watchlist_keeps_the_rest_as_written(
    tmp_path: Path, who: str, expected: str
) -> None:
    from engage.config import remove_person

    path = tmp_path / "feeds.yaml"
    path.write_text(SAMPLE)
    remove_person(path, who)
    assert path.read_text() == expected
    load(path)  # still a valid watchlist
