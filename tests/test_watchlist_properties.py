"""Properties of the watchlist loader, the parser users type into most: whatever the text
(a mangled copy of the example, or any YAML at all), loading it gives a Watchlist or a
ConfigError whose every line is `FILE:LINE:COL: message`, never a traceback."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from engage import config
from engage.errors import ConfigError
from engage.models import Watchlist

EXAMPLE = (Path(__file__).resolve().parents[1] / "feeds.yaml").read_text(encoding="utf-8")
LOCATED = re.compile(r"feeds\.yaml:[1-9]\d*:[1-9]\d*: \S[^\n]*")

# What a hurried edit leaves behind: YAML's punctuation, indentation, anchors and aliases,
# tabs, quotes, a stray key or list item, and text that is not ASCII.
DEBRIS = st.sampled_from(
    [" ", "  ", "-", "- ", ":", ": ", "[", "]", "{", "}", ",", "'", '"', "#", "\t", "\n",
     "&a ", "*a", "? ", "!", "!!binary ", "|", ">", "%", "@", "`", "---\n", "...\n", "<<: ",
     "name: x\n", "  - name: Dana Vellacott\n", "feeds: [ftp://x]\n", "é", "\u2028", "\x00",
     "http://127.0.0.1:99999/", "99999999999999999999", "1e999", "null", "~", "yes"]
)


@st.composite
def mangled_example(draw: st.DrawFn) -> str:
    text = EXAMPLE
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate line", "indent"]))
        if action == "insert":
            text = text[:at] + draw(DEBRIS) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        else:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            end = len(text) if end < 0 else end + 1
            line = text[start:end]
            changed = line + line if action == "duplicate line" else "  " + line
            text = text[:start] + changed + text[end:]
    return text


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
    st.sampled_from(["https://dana.example.org/feed/", "Dana Vellacott", "blog", "07:30"]),
)
KEYS = st.one_of(
    st.sampled_from(["me", "people", "contacts", "settings", "name", "feeds", "url", "kind",
                     "aliases", "sites", "knows", "strength", "meter", "digest", "handles"]),
    st.text(max_size=8),
)
DATA: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=30,
)


def dumped(data: Any) -> str:
    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, out)
    return out.getvalue()


def check(text: str) -> None:
    try:
        result = config.load_text(text, "feeds.yaml")
    except ConfigError as exc:
        assert exc.lines, "an error without a line"
        for line in exc.lines:
            assert LOCATED.fullmatch(line), line
        return
    assert isinstance(result, Watchlist)


@settings(max_examples=150)
@given(mangled_example())
def test_a_mangled_example_loads_or_says_where(text: str) -> None:
    check(text)


@given(DATA.map(dumped))
def test_any_yaml_loads_or_says_where(text: str) -> None:
    check(text)


@given(st.dictionaries(st.sampled_from(["me", "people", "contacts", "settings"]), DATA,
                       min_size=1).map(dumped))  # fmt: skip
def test_any_values_under_the_real_sections_load_or_say_where(text: str) -> None:
    check(text)


@given(st.text(max_size=200))
def test_any_text_loads_or_says_where(text: str) -> None:
    check(text)
