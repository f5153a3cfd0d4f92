"""The house's one-way rule, read from the code: every module's imports (at the top, inside
functions, under TYPE_CHECKING) point down the layers of docs/design.md ("Layout"), never
into another surface, and never in a circle.

values <- pure core <- infrastructure <- application <- surfaces. A surface (the CLI, the
digest, the daemon, the web report) may use the application, the pure core and the values,
but not infrastructure (that is the facade's job) and not another surface.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "engage"

VALUES, PURE, INFRA, APP, SURFACE = range(5)
LAYER_NAMES = ("values", "pure core", "infrastructure", "application", "surface")

# Exact modules first, then package prefixes ("engage.cli." covers every CLI module).
LAYERS: dict[str, int] = {
    "engage": VALUES,
    "engage.models": VALUES,
    "engage.errors": VALUES,
    "engage.when": VALUES,
    "engage.codec": VALUES,
    "engage.urls": VALUES,
    "engage.comment_marks": VALUES,
    "engage.safe_html": VALUES,
    "engage.clean": VALUES,
    "engage.meter": PURE,
    "engage.meter.": PURE,
    "engage.detect": PURE,
    "engage.identity": PURE,
    "engage.intro": PURE,
    "engage.linkedin": PURE,
    "engage.agenda": PURE,
    "engage.poll": PURE,
    "engage.poll.schedule": PURE,
    "engage.poll.items": PURE,
    "engage.poll.parse": PURE,
    "engage.poll.jsonfeed": PURE,
    "engage.poll.fields": PURE,
    "engage.poll.pages": PURE,
    "engage.poll.opml": PURE,
    "engage.poll.xmlsafe": PURE,
    "engage.social": PURE,
    "engage.social.handles": PURE,
    "engage.social.reading": PURE,
    "engage.social.limits": PURE,
    "engage.social.mastodon": PURE,
    "engage.social.bluesky": PURE,
    "engage.social.detect": PURE,
    "engage.social.accounts": PURE,
    "engage.config": INFRA,
    "engage.store": INFRA,
    "engage.files": INFRA,
    "engage.places": INFRA,
    "engage.templating": INFRA,
    "engage.watchlist_cache": INFRA,
    "engage.poll.fetch": INFRA,
    "engage.poll.cycle": INFRA,
    "engage.poll.discover": INFRA,
    "engage.social.client": INFRA,
    "engage.social.poller": INFRA,
    "engage.app": APP,
    "engage.views": APP,
    "engage.digest": APP,
    "engage.digest.daily": APP,
    "engage.digest.render": APP,
    "engage.digest.mail": APP,
    "engage.digest.due": PURE,
    "engage.launch": SURFACE,
    "engage.__main__": SURFACE,
    "engage.cli": SURFACE,
    "engage.cli.": SURFACE,
    "engage.web": SURFACE,
    "engage.web.": SURFACE,
    "engage.daemon": SURFACE,
}
# Surfaces are told apart by their top package: one may not import another. engage.launch
# (the --config/--data options every entry point shares) is a surface helper, not a surface.
# The digest (build, render, mail) is an operation the CLI, the daemon and the web report
# all ask for, so it lives in the application layer, behind the facade.
SURFACE_PACKAGES = ("engage.cli", "engage.web", "engage.daemon")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    if module in LAYERS:
        return LAYERS[module]
    prefixes = [p for p in LAYERS if p.endswith(".") and module.startswith(p)]
    return LAYERS[max(prefixes, key=len)] if prefixes else None


def surface_of(module: str) -> str | None:
    for package in SURFACE_PACKAGES:
        if module == package or module.startswith(package + "."):
            return package
    return None


def imports(path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """(engage module imported, line) for every import anywhere in the file. `from a.b
    import c` counts as importing a.b.c when that is a module, else a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "engage" or alias.name.startswith("engage."):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "engage" and not node.module.startswith("engage."):
                continue
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield (full if full in known else node.module), node.lineno


def graph() -> dict[str, list[tuple[str, int]]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(files)
    return {name: sorted(set(imports(path, known))) for name, path in sorted(files.items())}


def problems(edges: dict[str, list[tuple[str, int]]]) -> list[str]:
    found = []
    for module, targets in edges.items():
        mine = layer_of(module)
        if mine is None:
            found.append(f"{module}: no layer (add it to LAYERS in tests/test_layers.py)")
            continue
        for target, line in targets:
            theirs = layer_of(target)
            if theirs is None:
                continue  # reported for the target itself
            where = f"{module}:{line} imports {target}"
            if theirs > mine:
                found.append(
                    f"{where}: a {LAYER_NAMES[mine]} module may not use "
                    f"the {LAYER_NAMES[theirs]} above it"
                )
            if mine == SURFACE and theirs == INFRA:
                found.append(f"{where}: surfaces go through engage.app, not infrastructure")
            a, b = surface_of(module), surface_of(target)
            if a and b and a != b:
                found.append(f"{where}: one surface may not use another ({a} -> {b})")
    return found


def cycles(edges: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Every import cycle, as the modules on it (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target, _ in edges.get(node, ()):
            if target not in edges:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            self_loop = any(t == node for t, _ in edges.get(node, ()))
            if len(component) > 1 or self_loop:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_every_import_points_down_the_layers() -> None:
    assert problems(graph()) == []


def test_no_import_cycles() -> None:
    # A package's __init__ importing its own submodules is how a package is put together,
    # not a cycle of the house.
    edges = {
        module: [
            (t, line) for t, line in targets if not t.startswith(module + ".")
        ]
        for module, targets in graph().items()
    }
    assert cycles(edges) == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        pytest.param(
            {"engage.models": [("engage.store", 3)], "engage.store": []},
            ["engage.models:3 imports engage.store: a values module may not use the "
             "infrastructure above it"],
            id="an arrow pointing up is refused",
        ),
        pytest.param(
            {"engage.cli.polling": [("engage.poll.cycle", 9)], "engage.poll.cycle": []},
            ["engage.cli.polling:9 imports engage.poll.cycle: surfaces go through "
             "engage.app, not infrastructure"],
            id="a surface reaching past the facade is refused",
        ),
        pytest.param(
            {"engage.web.pages": [("engage.cli.common", 4)], "engage.cli.common": []},
            ["engage.web.pages:4 imports engage.cli.common: one surface may not use another "
             "(engage.web -> engage.cli)"],
            id="a surface using another surface is refused",
        ),
        pytest.param(
            {"engage.stray": [("engage.models", 1)], "engage.models": []},
            ["engage.stray: no layer (add it to LAYERS in tests/test_layers.py)"],
            id="a module without a layer is refused",
        ),
    ],
)  # fmt: skip
def test_the_rule_catches(edges: dict[str, list[tuple[str, int]]], expected: list[str]) -> None:
    assert problems(edges) == expected


def test_the_cycle_finder_catches_a_cycle() -> None:
    edges = {
        "engage.poll.parse": [("engage.poll.discover", 1)],
        "engage.poll.discover": [("engage.poll.parse", 2)],
        "engage.models": [],
    }
    assert cycles(edges) == [["engage.poll.discover", "engage.poll.parse"]]
