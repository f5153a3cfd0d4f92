"""Templates and static files: the user's folder first, then the package's; nothing
outside the static folders is ever served; HTML is escaped unless sanitized on purpose."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from engage.web.templating import static_file, template_environment


def folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_first_folder_wins_and_the_second_fills_in(tmp_path: Path) -> None:
    user = folder(tmp_path / "user", {"web/page.html": "user {% include 'web/part.html' %}"})
    shipped = folder(
        tmp_path / "shipped", {"web/page.html": "shipped", "web/part.html": "part from shipped"}
    )
    env = template_environment([user, shipped])
    assert env.get_template("web/page.html").render() == "user part from shipped"


def test_static_files_follow_the_same_order(tmp_path: Path) -> None:
    user = folder(tmp_path / "user", {"web/static/engage.css": "user"})
    shipped = folder(
        tmp_path / "shipped", {"web/static/engage.css": "shipped", "web/static/engage.js": "js"}
    )
    css = static_file([user, shipped], "engage.css")
    js = static_file([user, shipped], "engage.js")
    assert css == (user / "web" / "static" / "engage.css", "text/css; charset=utf-8")
    assert js == (shipped / "web" / "static" / "engage.js", "text/javascript; charset=utf-8")


@pytest.mark.parametrize(
    "name",
    ["../base.html", "..", ".hidden.css", "sub/engage.css", "engage.py", "engage.css/", "", "%2e"],
)
def test_only_plain_static_names_are_served(tmp_path: Path, name: str) -> None:
    root = folder(tmp_path, {"web/base.html": "x", "web/static/engage.css": "x"})
    assert static_file([root], name) is None


def test_html_is_escaped_unless_sanitized(tmp_path: Path) -> None:
    root = folder(
        tmp_path,
        {"t.html": "{{ text }}|{{ html | sanitize }}|{{ url | web }}|{{ html | plain_text }}"},
    )
    out = (
        template_environment([root])
        .get_template("t.html")
        .render(
            text="<b>x</b>", html='<b onclick="x()">y</b><script>z</script>', url="javascript:x"
        )
    )
    assert out == "&lt;b&gt;x&lt;/b&gt;|<b>y</b>|None|y"


def test_a_missing_variable_fails_loudly(tmp_path: Path) -> None:
    root = folder(tmp_path, {"t.html": "{{ nobody }}"})
    with pytest.raises(jinja2.UndefinedError):
        template_environment([root]).get_template("t.html").render()
