"""engage installed from a wheel, not from this checkout: every module and every template
reaches the wheel, and the installed `engage intro` finds its template (it used to look
beside the source tree, which an installed package does not have)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

WATCHLIST = """\
me:
  name: Wren Inkwell
  interests: [feeds]
people:
  - name: Ada Lanternfield
    tags: [feeds]
contacts:
  - name: Kim Known
    strength: 0.8
    knows: [Ada Lanternfield]
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the project, so the build leaves nothing here."""
    source = tmp_path_factory.mktemp("source")
    for name in ("engage", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         str(source), "-w", str(out)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (built,) = out.glob("engage-*.whl")
    return built


def test_the_wheel_carries_every_module_and_template(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "engage").rglob("*.py")}
    templates = {
        "engage/templates/" + p.relative_to(ROOT / "templates").as_posix()
        for p in (ROOT / "templates").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert templates
    assert modules - names == set()
    assert templates - names == set()


def test_an_installed_engage_drafts_an_intro_from_its_own_template(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    # The dependencies come from this test run's environment (offline): a .pth file puts
    # its site-packages after the new venv's own. Its editable install of engage is not
    # picked up: .pth files in a folder added this way are not processed.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"  # no checkout, no templates/ here
    elsewhere.mkdir()
    (elsewhere / "feeds.yaml").write_text(WATCHLIST, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    env["ENGAGE_CACHE"] = str(tmp_path / "cache")
    env.pop("PYTHONPATH", None)
    where = subprocess.run(
        [str(python), "-c", "import engage; print(engage.__file__)"],
        cwd=elsewhere, env=env, check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(venv)
    done = subprocess.run(
        [str(venv / "bin" / "engage"), "intro", "Ada Lanternfield", "--data", "data"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Who could introduce you to Ada Lanternfield:" in done.stdout
    assert "Draft for Kim Known" in done.stdout
    assert "Subject: Would you be comfortable introducing me to Ada Lanternfield?" in done.stdout
