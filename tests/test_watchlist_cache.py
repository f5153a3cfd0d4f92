"""The watchlist cache (engage.watchlist_cache): an unchanged feeds.yaml is read back from the
cache without ruamel or pydantic; any change, and any damage to the cache, is a miss."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engage import config
from engage import watchlist_cache as common
from engage.errors import ConfigError, EngageError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "feeds.yaml"

SMALL = """\
# Comments stay.
me:
  name: Robin Quill
people:
  - name: Dana Vell
    feeds:
      - https://dana.example.org/feed/
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ENGAGE_CACHE", str(folder))
    return folder


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("watchlist-*.json")) if folder.exists() else []


def test_a_hit_returns_an_equal_watchlist_without_ruamel_or_pydantic(
    tmp_path: Path, cache: Path
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(EXAMPLE.read_bytes())
    first = common.load_watchlist(path)  # a miss: validated and written to the cache
    assert first == config.load(path)
    assert len(_cache_files(cache)) == 1
    # A fresh process, as the next command would be: a hit, and the heavy parts stay out.
    probe = (
        "import sys, json, pathlib\n"
        "from engage.watchlist_cache import load_watchlist\n"
        "from engage.codec import to_json\n"
        f"w = load_watchlist(pathlib.Path({str(path)!r}))\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('ruamel', 'pydantic'))\n"
        "print(json.dumps({'heavy': heavy, 'watchlist': to_json(w)}))\n"
    )
    env = {**os.environ, "ENGAGE_CACHE": str(cache)}
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    out = json.loads(result.stdout)
    assert out["heavy"] == []
    from engage.codec import to_json

    assert out["watchlist"] == json.loads(json.dumps(to_json(first)))
    assert common.cached_watchlist(path) == first


def test_an_edit_through_engage_is_seen_at_once(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(SMALL, encoding="utf-8")
    assert [p.name for p in common.load_watchlist(path).people] == ["Dana Vell"]
    config.add_person(path, "Will Cooke", feeds=["https://will.example.org/feed/"])
    assert common.cached_watchlist(path) is None  # stale
    assert [p.name for p in common.load_watchlist(path).people] == ["Dana Vell", "Will Cooke"]
    assert [p.name for p in common.cached_watchlist(path).people] == [  # type: ignore[union-attr]
        "Dana Vell",
        "Will Cooke",
    ]


def test_an_edit_of_the_same_size_and_mtime_is_still_seen(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(SMALL, encoding="utf-8")
    common.load_watchlist(path)
    stat = path.stat()
    path.write_text(SMALL.replace("Dana Vell", "Dana Bell"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # an editor within one tick
    assert path.stat().st_size == stat.st_size
    assert [p.name for p in common.load_watchlist(path).people] == ["Dana Bell"]


@pytest.mark.parametrize(
    "damage",
    [b"", b"\x00\xff not json", b'{"key": {}, "watchlist": {}}', b'["a list"]', b'{"key": 1}'],
    ids=["empty", "garbage", "another key", "not an object", "no watchlist"],
)
def test_a_damaged_cache_is_ignored_and_rewritten(
    tmp_path: Path, cache: Path, damage: bytes
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(SMALL, encoding="utf-8")
    expected = common.load_watchlist(path)
    (cached,) = _cache_files(cache)
    cached.write_bytes(damage)
    assert common.cached_watchlist(path) is None
    assert common.load_watchlist(path) == expected
    assert common.cached_watchlist(path) == expected  # written again


def test_a_cache_that_decodes_to_the_wrong_shape_is_a_miss(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(SMALL, encoding="utf-8")
    common.load_watchlist(path)
    (cached,) = _cache_files(cache)
    data = json.loads(cached.read_text(encoding="utf-8"))
    data["watchlist"]["people"] = "not a list"
    cached.write_text(json.dumps(data), encoding="utf-8")
    assert common.cached_watchlist(path) is None
    assert [p.name for p in common.load_watchlist(path).people] == ["Dana Vell"]


def test_a_broken_file_is_never_cached_and_reports_its_errors_every_time(
    tmp_path: Path, cache: Path
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(SMALL, encoding="utf-8")
    common.load_watchlist(path)
    path.write_text(SMALL.replace("https://dana", "ftp://dana"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError) as caught:
            common.load_watchlist(path)
        assert caught.value.lines[0].startswith(f"{path}:7:")
        assert "not an http(s) URL" in caught.value.lines[0]
    assert common.cached_watchlist(path) is None


def test_the_path_as_given_is_kept_for_messages(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "feeds.yaml").write_text(SMALL, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    relative = common.load_watchlist(Path("feeds.yaml"))
    absolute = common.load_watchlist(tmp_path / "feeds.yaml")
    assert relative.path == "feeds.yaml"
    assert absolute.path == str(tmp_path / "feeds.yaml")
    assert common.load_watchlist(Path("feeds.yaml")).path == "feeds.yaml"


def test_an_unwritable_cache_only_costs_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go", encoding="utf-8")
    monkeypatch.setenv("ENGAGE_CACHE", str(blocker))
    path = tmp_path / "feeds.yaml"
    path.write_text(SMALL, encoding="utf-8")
    assert [p.name for p in common.load_watchlist(path).people] == ["Dana Vell"]
    assert common.cached_watchlist(path) is None


def test_a_missing_watchlist_is_still_a_clear_error(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(EngageError, match="no watchlist here"):
        common.load_watchlist(tmp_path / "nowhere.yaml")
