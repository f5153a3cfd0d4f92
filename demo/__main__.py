"""`python -m demo [--data DIR | --keep] [--no-serve]`: run engage's main job on the demo
watchlist, then serve the web report of the demo world until Ctrl-C.

It starts the local server, writes the demo watchlist and an empty data folder, and runs
the real CLI (`python -m engage …`, as a user would, each in its own process) with a
heading per command. Then `engage serve` shows the world the commands built on a printed
URL, until Ctrl-C; `--no-serve` stops before that (tests and scripts). The exit code is 1
when any command failed, so `make demo` doubles as an end-to-end smoke test.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

from demo.server import DemoServer
from demo.site import ADA, CYRA, DOV

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TEMPLATE = HERE / "feeds.yaml.template"
MARKER = ".engage-demo"  # marks a folder this demo made, so a re-run may empty it
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


@dataclass(frozen=True)
class Step:
    args: tuple[str, ...]
    why: str


STEPS: tuple[Step, ...] = (
    Step(("check",), "validate the watchlist"),
    Step(
        ("poll", "-v"),
        "fetch every feed over HTTP; find comment feeds; turn comments into interactions",
    ),
    Step(
        ("met", DOV, "--event", "Small Web meetup", "--when", "yesterday"),
        "log by hand what no feed shows",
    ),
    Step(("status",), "everyone, what needs action first: stage, score, why"),
    Step(("explain", ADA), "the full reading for the person who is ready"),
    Step(("intro", CYRA), "who could introduce me, with the evidence, and a draft"),
    Step(("feeds",), "every feed's health: errors, gone, moved, discovered"),
    Step(("digest",), "the daily digest: whom to ask, whom to answer, where to join in"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="Run engage on a bundled demo watchlist, against a local server, offline.",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="Work in DIR (feeds.yaml and data/ inside) and keep it; implies --keep.",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the watchlist and data folder afterwards."
    )
    parser.add_argument(
        "--no-serve",
        dest="serve",
        action="store_false",
        help="Stop after the commands, without serving the web report.",
    )
    options = parser.parse_args(argv)
    started = time.monotonic()
    work = _work_folder(options.data)
    keep = options.keep or options.data is not None
    try:
        failures, requests = _run(work)
        digest = _digest_page(work, keep)
        seconds = time.monotonic() - started
        print(f"\n== done in {seconds:.1f} s; the demo server answered {requests} requests", end="")
        if failures:
            print(f"; FAILED: {', '.join(failures)}")
        else:
            print()
        if digest is not None:
            print(f"The digest of the demo world: {digest}")
        if keep:
            _explore_hint(work)
        if options.serve and not failures:
            _serve(work)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


def _serve(work: Path) -> None:
    """`engage serve` on the demo world until Ctrl-C (which the terminal sends to both
    processes; a SIGINT to this one alone is passed on)."""
    print("\n== the web report of the demo world: open the address below; Ctrl-C stops it.")
    print("   People shows who is ready and who needs a follow-up; a person's page has the")
    print("   score chart, the timeline and a form to log an interaction.", flush=True)
    report = subprocess.Popen(
        [sys.executable, "-m", "engage", "serve", "--port", "0"], cwd=work, env=_environment(work)
    )
    try:
        report.wait()
    except KeyboardInterrupt:
        if report.poll() is None:
            report.send_signal(signal.SIGINT)
        report.wait(timeout=30)


def _digest_page(work: Path, keep: bool) -> Path | None:
    """The digest the demo built, where it stays readable after the demo: in the kept
    folder, or copied out of the temporary one."""
    page = work / "data" / "digests" / "latest.html"
    if not page.exists():
        return None
    if keep:
        return page
    fd, name = tempfile.mkstemp(prefix="engage-demo-digest-", suffix=".html")
    with os.fdopen(fd, "wb") as out:
        out.write(page.read_bytes())
    return Path(name)


def _work_folder(wanted: Path | None) -> Path:
    """A fresh folder: a new temp one, or DIR (made, or emptied if an earlier demo made it)."""
    if wanted is None:
        folder = Path(tempfile.mkdtemp(prefix="engage-demo-"))
    else:
        folder = wanted.expanduser().resolve()
        if folder.exists() and any(folder.iterdir()):
            if not (folder / MARKER).exists():
                sys.exit(f"python -m demo: {folder} is not empty and not an earlier demo folder")
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by python -m demo; safe to delete\n", encoding="utf-8")
    return folder


def _environment(work: Path) -> dict[str, str]:
    """The CLI's environment: this watchlist and data folder, this checkout's engage, and
    no proxy, so a user's HTTP_PROXY cannot send requests for 127.0.0.1 elsewhere."""
    env = {
        k: v for k, v in os.environ.items() if k.lower() not in (*PROXY_VARIABLES, "no_proxy")
    }
    env["ENGAGE_CONFIG"] = str(work / "feeds.yaml")
    env["ENGAGE_DATA"] = str(work / "data")
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    env.setdefault("COLUMNS", "120")
    return env


def _run(work: Path) -> tuple[list[str], int]:
    """Serve, write the watchlist, run each step: the steps that failed, and how many
    requests the server answered (engage's politeness, counted from the other side)."""
    failures: list[str] = []
    with DemoServer() as server:
        config = work / "feeds.yaml"
        text = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(base=server.base)
        config.write_text(text, encoding="utf-8")
        (work / "data").mkdir(exist_ok=True)
        env = _environment(work)
        print(f"== engage demo: a local server at {server.base}/ plays the websites of six")
        print("   invented people you would like to meet; you are Wren Inkwell. Your comments")
        print("   and their replies are in their blogs' comment feeds; engage finds them.")
        print(f"   ENGAGE_CONFIG={config}")
        print(f"   ENGAGE_DATA={work / 'data'}")
        for number, step in enumerate(STEPS, 1):
            shown = "engage " + shlex.join(step.args)
            print(f"\n── {number}/{len(STEPS)} $ {shown}    # {step.why}", flush=True)
            done = subprocess.run(
                [sys.executable, "-m", "engage", *step.args],
                cwd=work,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=120,
                check=False,
            )
            # Piped, rich pads its tables to 200 columns: trailing blanks only wrap lines.
            print("\n".join(line.rstrip() for line in done.stdout.splitlines()), flush=True)
            if done.returncode != 0:
                print(f"!! `{shown}` exited with {done.returncode}", flush=True)
                failures.append(shown)
    return failures, len(server.requests)


def _explore_hint(work: Path) -> None:
    print(f"\nThe demo watchlist and data are kept in {work}. To look further:")
    print(f"  export ENGAGE_CONFIG={shlex.quote(str(work / 'feeds.yaml'))}")
    print(f"  export ENGAGE_DATA={shlex.quote(str(work / 'data'))}")
    for command in (
        "engage status --json",
        f"engage explain {shlex.quote(ADA)}",
        "engage events",
        "engage posts --limit 10",
        f"engage ask {shlex.quote(CYRA)}      # warns: it would be a cold invitation",
    ):
        print(f"  {command}")
    print("(The demo server has stopped, so `engage poll` now reports connection errors.)")


if __name__ == "__main__":
    sys.exit(main())
