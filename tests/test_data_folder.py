"""Nothing lost in the data folder: backups kept in generations and never replaced by a
file that does not load; a lost engage.json stops every command with the command that
restores it; a damaged cache.json is set aside and rebuilt; a data folder that is a file,
or read-only, gets one line."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from engage.errors import StoreError
from engage.models import DIRECTION, Event, EventKind, EventSource
from engage.store import BACKUP_SUFFIX, BACKUPS, CACHE, PRECIOUS, Store, generations

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
WATCHLIST = "me:\n  name: Sam Example\npeople:\n  - name: Dana Reyes\n"


def event(event_id: str) -> Event:
    kind = EventKind.MY_COMMENT
    return Event(
        id=event_id,
        person="Dana Reyes",
        kind=kind,
        direction=DIRECTION[kind],
        when=WHEN,
        source=EventSource.MANUAL,
    )


def write_events(folder: Path, *ids: str) -> Store:
    """A store with one write per event: after two, engage.json.bak holds the first."""
    store = Store(folder)
    for event_id in ids:
        with store.transaction() as tx:
            tx.add_events([event(event_id)])
    return store


def event_ids(path: Path) -> list[str]:
    tables = json.loads(path.read_bytes())
    return sorted(doc["id"] for doc in tables.get("events", {}).values())


def engage(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("ENGAGE_CONFIG", "ENGAGE_DATA")}
    clean.update(HOME=str(cwd), ENGAGE_CACHE=str(cwd / "user-cache"), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "engage", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


# ---------------------------------------------------------------------------
# A lost engage.json


COMMANDS = {
    "status": ["status"],
    "events": ["events"],
    "log": ["log", "Dana Reyes", "call"],
    "export": ["export"],
    "forget": ["forget", "Dana Reyes", "--yes"],
    "poll": ["poll", "--all"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("how", ["emptied", "deleted"])
def test_a_lost_engage_json_stops_every_command_with_the_restore_command(
    tmp_path: Path, how: str, command: str
) -> None:
    (tmp_path / "feeds.yaml").write_text(WATCHLIST)
    data = tmp_path / "data"
    write_events(data, "a", "b")
    precious, backup = data / PRECIOUS, data / (PRECIOUS + BACKUP_SUFFIX)
    kept = {p: p.read_bytes() for p in [backup, *generations(data)]}
    if how == "emptied":
        precious.write_bytes(b"")
    else:
        precious.unlink()

    done = engage(tmp_path, *COMMANDS[command], "--data", str(data))

    assert done.returncode == 2, done.stdout + done.stderr
    what = "is empty" if how == "emptied" else "is missing"
    [line] = done.stderr.splitlines()
    assert line.startswith(f"{precious} {what}, though this folder held engage data (")
    assert line.endswith(f"with `cp {backup} {precious}`.")
    # Nothing was written: no new empty store, and every backup is as it was.
    assert precious.exists() == (how == "emptied")
    assert precious.exists() is False or precious.read_bytes() == b""
    assert {p: p.read_bytes() for p in kept} == kept
    # The advice works: the newest good copy holds the store before the last write.
    subprocess.run(shlex.split(line.rsplit("`", 2)[1]), check=True, timeout=60)
    assert [e.id for e in Store(data).events()] == ["a"]


def test_the_restore_command_names_the_newest_copy_that_loads(tmp_path: Path) -> None:
    write_events(tmp_path, "a", "b", "c")
    backup = tmp_path / (PRECIOUS + BACKUP_SUFFIX)
    backup.unlink()  # (not written in place: it is a hard link of the day's copy)
    backup.write_bytes(b'{"events": {"1": ')  # damaged too
    (tmp_path / PRECIOUS).unlink()
    newest = generations(tmp_path)[0]
    with pytest.raises(StoreError) as caught:
        Store(tmp_path)
    message = str(caught.value)
    assert f"{BACKUPS}/{newest.name}, saved " in message
    assert message.endswith(f"with `cp {newest} {tmp_path / PRECIOUS}`.")


def test_a_damaged_engage_json_names_the_newest_good_copy_to_restore(tmp_path: Path) -> None:
    write_events(tmp_path, "a", "b")
    (tmp_path / PRECIOUS).write_bytes(b'{"events": ')
    with pytest.raises(StoreError) as caught:
        Store(tmp_path).events()
    precious, backup = tmp_path / PRECIOUS, tmp_path / (PRECIOUS + BACKUP_SUFFIX)
    assert f"`mv {precious} {precious}.damaged && cp {backup} {precious}`" in str(caught.value)


def test_only_a_lock_file_left_is_a_lost_store_with_no_copy_to_restore(tmp_path: Path) -> None:
    (tmp_path / "engage.lock").touch()  # engage used this folder; nothing else is left
    with pytest.raises(
        StoreError, match=r"no backup of it loads: .*\(`mv .*\.old`\) to start over\.$"
    ):
        Store(tmp_path)


# ---------------------------------------------------------------------------
# Backups


def on_day(path: Path, day: date) -> None:
    """Make `path` look written at noon on `day` (local time): the day its copy is kept as."""
    noon = datetime.combine(day, datetime.min.time()).replace(hour=12).timestamp()
    os.utime(path, (noon, noon))


def test_backups_keep_the_last_write_and_the_last_of_each_of_the_newest_seven_days(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    today = date.today()
    # Days (ago) on which the version about to be replaced was written; two on day 1.
    days_ago = [9, 8, 7, 6, 5, 4, 3, 2, 1, 1, 0]
    for n, ago in enumerate(days_ago):
        on_day(tmp_path / PRECIOUS, today - timedelta(days=ago))
        with store.transaction() as tx:
            tx.add_events([event(f"e{n:02}")])

    kept = generations(tmp_path)
    assert [p.name for p in kept] == [
        f"engage-{(today - timedelta(days=ago)).isoformat()}.json" for ago in range(7)
    ]
    # Each day's copy is the last version written that day: day 1's holds e00..e08 (the
    # second write of that day replaced the one holding e00..e07).
    expected = {0: 10, 1: 9, 2: 7, 3: 6, 4: 5, 5: 4, 6: 3}
    for ago, copy in enumerate(kept):
        assert event_ids(copy) == [f"e{n:02}" for n in range(expected[ago])], copy.name
    backup = tmp_path / (PRECIOUS + BACKUP_SUFFIX)
    assert event_ids(backup) == [f"e{n:02}" for n in range(10)]
    assert os.path.samefile(backup, kept[0])  # hard links: no copy of a large file
    assert not os.path.samefile(backup, tmp_path / PRECIOUS)


@pytest.mark.parametrize(
    "content",
    [b"", b"  \n", b'{"_default":{}}'],
    ids=["empty", "blank", "smaller than an empty store"],
)
def test_a_file_that_is_not_a_store_never_becomes_a_backup(tmp_path: Path, content: bytes) -> None:
    (tmp_path / PRECIOUS).write_bytes(content)  # a folder engage never wrote to
    Store(tmp_path)  # writes a new store (or migrates this one) over it
    assert not (tmp_path / (PRECIOUS + BACKUP_SUFFIX)).exists()
    assert generations(tmp_path) == []


def test_opening_a_current_store_writes_nothing(tmp_path: Path) -> None:
    write_events(tmp_path, "a", "b")
    # Reformatted by hand: the version is no longer in the first bytes.
    tables = json.loads((tmp_path / PRECIOUS).read_bytes())
    (tmp_path / PRECIOUS).write_text(json.dumps(tables, indent=1))
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    (tmp_path / "engage.lock").unlink()
    Store(tmp_path).events()
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == {
        k: v for k, v in before.items() if k != "engage.lock"
    }


# ---------------------------------------------------------------------------
# A damaged cache.json


def post_doc(n: int, **changes: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "person": "Dana Reyes",
        "feed": "https://dana.example/feed",
        "id": f"post-{n}",
        "link": f"https://dana.example/{n}",
        "title": f"Post {n}",
        "published": "2026-11-01T12:00:00+00:00",
    }
    doc.update(changes)
    return doc


DAMAGE = {
    "cut short": b'{"posts": {"1": ',
    "not a store": b'["posts"]',
    "a post without its id": json.dumps(
        {"posts": {"1": {k: v for k, v in post_doc(1).items() if k != "id"}}}
    ).encode(),
    "nested past any parser's depth": b"[" * 200_000,
    "a post whose date is not a date": json.dumps(
        {"posts": {"1": post_doc(1), "2": post_doc(2, published="last tuesday")}}
    ).encode(),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_cache_is_set_aside_and_export_still_works(tmp_path: Path, damage: str) -> None:
    data = tmp_path / "data"
    write_events(data, "a", "b")
    (data / CACHE).write_bytes(DAMAGE[damage])

    done = engage(tmp_path, "export", "--data", str(data))

    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    assert [e["id"] for e in exported["events"]] == ["a", "b"]
    assert exported["posts"] == [] and exported["comments"] == []
    [aside] = data.glob(CACHE + ".damaged-*")
    assert aside.read_bytes() == DAMAGE[damage]  # kept as it was, for a look
    assert not (data / CACHE).exists()
    [warning] = done.stderr.splitlines()
    assert warning.startswith(f"engage: {data / CACHE} was damaged (")
    assert warning.endswith(
        f"set aside as {aside.name}, the next `engage poll` fetches its posts and comments again"
    )
    again = engage(tmp_path, "export", "--data", str(data))
    assert again.returncode == 0 and again.stderr == ""


def test_the_next_poll_rebuilds_a_lost_cache_in_full(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Dana</title>'
        b"<item><title>Hello</title><link>https://dana.example/hello</link>"
        b"<guid>hello</guid></item></channel></rss>"
    )
    conditional: list[bool] = []

    def answer(request: Request) -> Response:
        conditional.append("If-None-Match" in request.headers)
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(feed, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"})

    httpserver.expect_request("/feed").respond_with_handler(answer)
    (tmp_path / "feeds.yaml").write_text(
        f"me:\n  name: Sam Example\npeople:\n  - name: Dana Reyes\n"
        f"    feeds: [{httpserver.url_for('/feed')}]\n"
    )
    data = tmp_path / "data"
    first = engage(tmp_path, "poll", "--data", str(data))
    assert first.returncode == 0, first.stderr
    (data / CACHE).write_bytes(b'{"posts": ')
    assert engage(tmp_path, "posts", "--data", str(data)).stdout.startswith("No posts yet")

    second = engage(tmp_path, "poll", "--data", str(data))  # nothing is due: still polled

    assert second.returncode == 0, second.stderr
    assert conditional == [False, False]  # fetched in full, or a 304 would bring nothing
    titles = [p.title for p in Store(data).posts()]
    assert titles == ["Hello"]
    third = engage(tmp_path, "poll", "--all", "--data", str(data))
    assert third.returncode == 0 and conditional[-1] is True  # polite again


# ---------------------------------------------------------------------------
# The data folder itself: a file, read-only


def test_a_data_folder_that_is_a_file_is_one_line_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(WATCHLIST)
    (tmp_path / "notes.txt").write_text("not a folder")
    expected = ["notes.txt: this is a file, not a folder; give --data or ENGAGE_DATA a folder"]
    for args, env in (
        (["status", "--data", "notes.txt"], {}),
        (["status"], {"ENGAGE_DATA": "notes.txt"}),
        (["log", "Dana Reyes", "call"], {"ENGAGE_DATA": "notes.txt"}),
    ):
        done = engage(tmp_path, *args, env=env)
        assert (done.returncode, done.stderr.splitlines()) == (2, expected), args


def read_only(folder: Path, args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`engage ARGS` with `folder` read-only: a folder without write permission for a
    user, a read-only bind mount for root (whom permissions do not stop)."""
    command = [sys.executable, "-m", "engage", *args]
    if os.geteuid() != 0:
        folder.chmod(0o555)
    else:
        mount = 'mount --bind -o ro "$0" "$0" && exec "$@"'
        command = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mount,
                   str(folder), *command]  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if k not in ("ENGAGE_CONFIG", "ENGAGE_DATA")}
    clean.update(HOME=str(cwd), ENGAGE_CACHE=str(cwd / "user-cache"))
    try:
        return subprocess.run(
            command, cwd=cwd, env=clean, capture_output=True, text=True, timeout=60
        )
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize(
    "as_found",
    ["as engage writes it", "reformatted by hand", "from before schema 1"],
)
def test_a_read_only_data_folder_reads_and_refuses_writes_in_one_line(
    httpserver: HTTPServer, tmp_path: Path, as_found: str
) -> None:
    (tmp_path / "feeds.yaml").write_text(f"{WATCHLIST}    feeds: [{httpserver.url_for('/feed')}]\n")
    data = tmp_path / "data"
    write_events(data, "a", "b")
    tables = json.loads((data / PRECIOUS).read_bytes())
    if as_found == "reformatted by hand":
        (data / PRECIOUS).write_text(json.dumps(tables, indent=1))
    elif as_found == "from before schema 1":
        events = {key: {k: v for k, v in doc.items() if k != "direction"}
                  for key, doc in tables["events"].items()}  # fmt: skip
        (data / PRECIOUS).write_text(json.dumps({"events": events}))
    (data / "engage.lock").unlink()  # a copied folder: no lock file either
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()}

    for reading in (["status"], ["events"], ["export"]):
        done = read_only(data, [*reading, "--data", str(data)], tmp_path)
        assert done.returncode == 0, (reading, done.stderr)
        assert done.stderr == "", reading
    exported = read_only(data, ["export", "--data", str(data)], tmp_path)
    assert [e["id"] for e in json.loads(exported.stdout)["events"]] == ["a", "b"]

    refusal = (
        f"{data}: the data folder is read-only ({{}}): engage can read it but cannot save "
        "anything there"
    )
    for writing in (["log", "Dana Reyes", "call"], ["poll", "--all"]):
        done = read_only(data, [*writing, "--data", str(data)], tmp_path)
        assert done.returncode == 2, (writing, done.stdout)
        [line] = done.stderr.splitlines()
        assert line in {
            refusal.format("Read-only file system"),
            refusal.format("Permission denied"),
        }
    assert httpserver.log == []  # the poll said so before fetching anything
    assert {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()} == before
