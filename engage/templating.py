"""Jinja2 templates: the user's own first, then engage's.

engage's templates live in the project's top-level `templates/` folder, which an installed
package carries as `engage/templates` (pyproject.toml maps one onto the other). A user
overrides any template by putting one with the same name in `templates/` beside their
watchlist, or in the folder `settings.templates_dir` names.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from engage.models import Watchlist

_HERE = Path(__file__).resolve().parent
# An installed wheel: engage/templates. A source checkout or an editable install: the
# project's own templates/ beside the package.
_BUILT_IN = (_HERE / "templates", _HERE.parent / "templates")


def template_folders(watchlist: Watchlist | None) -> list[Path]:
    """Where templates are looked up, first match wins."""
    folders: list[Path] = []
    if watchlist is not None:
        setting = watchlist.settings.templates_dir
        if setting:
            folder = Path(setting).expanduser()
            if not folder.is_absolute() and watchlist.path:
                folder = Path(watchlist.path).parent / folder
            folders.append(folder)
        elif watchlist.path:
            folders.append(Path(watchlist.path).parent / "templates")
    folders += [folder for folder in _BUILT_IN if folder.is_dir()]
    return list(dict.fromkeys(folders))


def environment(watchlist: Watchlist | None, *, autoescape: bool) -> jinja2.Environment:
    """A Jinja2 environment over template_folders. HTML (`autoescape=True`) escapes every
    value; plain-text drafts and e-mail parts do not (they are never rendered as HTML)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in template_folders(watchlist)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=autoescape,
    )
