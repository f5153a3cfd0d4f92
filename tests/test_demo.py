"""`python -m demo` end to end: the local server, the real CLI in subprocesses, and the
verdicts a newcomer is promised.

The expected numbers are worked out from demo/site.py, not copied from a run:
- Feeds polled: 11 in feeds.yaml; 3 site-wide comment feeds found on the first poll (Ada,
  Bram, Fenn; Cyra's is listed); 6 per-post comment feeds of live threads I commented in
  (Ada 3, Bram 2, Cyra 1; Fenn's threads are 90+ days quiet) = 20.
- New posts: mine 2 + Ada 3 + Bram 2 + Cyra 2 + Dov 3 toots + Esme 3 episodes + Fenn 3 = 18.
- New comments, one per feed a comment appears in: site-wide 1 + 8 + 3 + 4 + 4 = 20, and
  per-post 3 + 1 + 4 (Ada) + 2 + 1 (Bram) + 3 (Cyra) = 14; 34 in all.
- Interactions: Ada 3 comments, 2 replies, 1 comment on my blog; Bram 2 comments, 1 reply,
  1 share (my post links to his); Cyra 1 comment; Fenn 2 comments, 2 replies = 15, and
  the namesake's: "Wren" (my alias) on Ada's blog, with her own website, is "my" comment
  on a name alone, and Ada's "Thanks, Wren!" a reply to it: 17, two of them unconfirmed.
- Errors: Hollis's feed answers 500; gone: Esme's old blog answers 410; moved: Bram's
  atom.xml (301).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]

EXPECTED_STAGES = {
    "Ada Lanternfield": "ready",  # 3 replies on 3 days, the last 4 days ago; 3 comments
    "Bram Quillhaven": "in_dialogue",  # 1 reply; 2 comments and a share from me
    "Cyra Moonwhistle": "noticed",  # 1 comment from me, nothing back yet
    "Dov Teaselby": "in_dialogue",  # the demo logs `engage met` with him
    "Esme Fernwhistle": "cold",  # I only listen to her podcast
    "Fenn Marrowby": "went_cold",  # last reply 90 days ago
}


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One demo run for the whole module (it is the slow part): its output and its kept
    folder. The subprocess timeout is a hang guard; how fast the demo is, is not a test."""
    work = tmp_path_factory.mktemp("demo") / "kept"
    done = _run("-m", "demo", "--data", str(work), "--no-serve", timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output, work


def test_the_demo_runs_every_command_without_a_traceback(demo: tuple[str, Path]) -> None:
    output, _work = demo
    assert "Traceback" not in output
    for command in ("check", "poll -v", "met", "status", "review", "explain", "intro", "feeds"):
        assert f"$ engage {command}" in output, command
    assert "FAILED" not in output


def test_poll_finds_the_feeds_the_comments_and_the_interactions(
    demo: tuple[str, Path],
) -> None:
    output, _work = demo
    assert (
        "20 feeds polled: 18 new posts, 34 new comments, 0 not modified, 1 errors, 1 gone; "
        "17 new interactions" in output
    )
    # Found by engage, not listed: the site-wide comment feed and a per-post one.
    assert "/ada/comments/feed/ — 0 new posts, 8 new comments" in output
    assert "/ada/what-a-blogroll-is-for/feed/ — 0 new posts, 3 new comments" in output


def test_feed_health_is_reported(demo: tuple[str, Path]) -> None:
    output, _work = demo
    poll_lines = output.splitlines()
    assert any(
        line.startswith("error") and "/hollis/feed/" in line and "HTTP 500" in line
        for line in poll_lines
    )
    assert any(line.startswith("gone") and "/esme/blog/feed/" in line for line in poll_lines)
    assert any(
        line.startswith("moved: ") and line.split()[1].endswith("/bram/atom.xml")
        and "/bram/feed/atom/" in line
        for line in poll_lines
    )
    # and again in `engage feeds`, the error under the feed
    shown = output.split("$ engage feeds", 1)[1]
    assert any(line.startswith("Hollis ") and " error " in line and "/hollis/feed/" in line
               for line in shown.splitlines())  # fmt: skip
    assert "HTTP 500 Internal Server Error" in shown
    assert "never (gone)" in shown


def test_the_meter_gives_each_demo_person_their_stage(demo: tuple[str, Path]) -> None:
    _output, work = demo
    done = _run(
        "-m", "engage", "status", "--json",
        "--config", str(work / "feeds.yaml"), "--data", str(work / "data"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    readings: list[dict[str, Any]] = json.loads(done.stdout)
    assert {r["person"]: r["stage"] for r in readings} == EXPECTED_STAGES
    by_name = {r["person"]: r for r in readings}
    assert readings[0]["person"] == "Ada Lanternfield"  # the one to act on first
    # Ready, but her "Send me yours" is unanswered: the reply comes before the ask.
    ada = by_name["Ada Lanternfield"]
    assert ada["action"] == "reply"
    assert ada["next_step"].startswith("Reply to their reply of ")
    assert '"Ha, same. Send me yours and I will add it to my reading list."' in ada["next_step"]
    assert ada["next_step"].endswith('then ask Ada Lanternfield to connect: engage ask '
                                     '"Ada Lanternfield".')  # fmt: skip
    assert "one more reply" in by_name["Bram Quillhaven"]["reason"]
    assert by_name["Dov Teaselby"]["action"] == "follow_up_meeting"
    failed = [g["name"] for g in by_name["Bram Quillhaven"]["gates"] if not g["passed"]]
    assert "reciprocity" in failed and "gives" not in failed


def test_a_stranger_with_my_first_name_waits_for_review_instead_of_counting(
    demo: tuple[str, Path],
) -> None:
    output, work = demo
    where = ("--config", str(work / "feeds.yaml"), "--data", str(work / "data"))
    done = _run("-m", "engage", "events", "Ada Lanternfield", "--json", *where)
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)
    waiting = {e["url"].rsplit("#", 1)[1]: e["kind"] for e in events if e["confirmed"] is False}
    assert waiting == {"comment-140": "my_comment", "comment-141": "their_reply"}
    # Everything else about Ada carries an author URL (or was logged): confirmed.
    assert all(e["confirmed"] for e in events if e["url"].rsplit("#", 1)[1] not in waiting)
    # They do not count: three replies from Ada, not four; three gives, not four.
    status = json.loads(_run("-m", "engage", "status", "--json", *where).stdout)
    (ada,) = [r for r in status if r["person"] == "Ada Lanternfield"]
    gates = {g["name"]: g["detail"] for g in ada["gates"]}
    assert gates["reciprocity"].startswith("3 replies from them on 3 different days")
    assert gates["gives"] == "3 gives (need 3)"
    # status says they wait; review lists them, and what they rest on.
    assert "2 detections on a name alone wait for your review" in output
    review = output.split("$ engage review", 1)[1].split("$ engage explain", 1)[0]
    assert review.count("rests on the name 'wren' on ada.example.org") == 2
    assert "I run a bakery's blog" in review and "Thanks, Wren!" in review


def test_intro_finds_the_contact_from_public_evidence(demo: tuple[str, Path]) -> None:
    output, _work = demo
    intro = output.split("$ engage intro", 1)[1].split("$ engage feeds", 1)[0]
    assert "Who could introduce you to Cyra Moonwhistle:" in intro
    assert "Hollis Pennywhistle" in intro
    assert "https://cyra.example.org/tape-loops-for-beginners/#comment-5" in intro
    assert "Draft for Hollis Pennywhistle" in intro


def test_a_folder_the_demo_did_not_make_is_left_alone(tmp_path: Path) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("mine", encoding="utf-8")
    done = _run("-m", "demo", "--data", str(tmp_path), "--no-serve", timeout=120)
    assert done.returncode != 0
    assert "not empty" in done.stderr
    assert precious.read_text(encoding="utf-8") == "mine"


def test_the_demo_digest_has_something_in_every_section(demo: tuple[str, Path]) -> None:
    output, work = demo
    digests = work / "data" / "digests"
    assert f"The digest of the demo world: {digests / 'latest.html'}" in output
    (text_part,) = digests.glob("????-??-??.txt")
    text = text_part.read_text(encoding="utf-8")
    for heading in (
        "READY TO ASK (1)",  # Ada
        "FOLLOW-UPS DUE",  # Dov met yesterday; Ada's last reply is unanswered
        "JOIN THE CONVERSATION",
        "WARM INTRODUCTIONS (1)",  # Hollis commented on Cyra's posts
        "GOING COLD (1)",  # Fenn
        "FEEDS THAT NEED ATTENTION (3)",  # Esme's gone blog, Bram's move, Hollis's 500
    ):
        assert heading in text


def test_the_demo_ends_by_serving_its_world_until_ctrl_c() -> None:
    """`make demo` without --no-serve: the report of the demo world on the printed URL,
    until Ctrl-C (sent to the process group, as a terminal does); then the temporary
    folder is gone."""
    demo = subprocess.Popen(
        [sys.executable, "-m", "demo"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    assert demo.stdout is not None
    seen: list[str] = []
    try:
        url = None
        deadline = time.monotonic() + 120  # a hang guard, not a speed claim
        while url is None and time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            seen.append(line)
            found = re.search(r"the report is at (http://127\.0\.0\.1:\d+/)", line)
            url = found.group(1) if found else None
        assert url is not None, "".join(seen)
        with httpx.Client(timeout=60) as client:
            people = client.get(url)
            ada = client.get(url + "people/ada-lanternfield")
        os.killpg(demo.pid, signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=60)
    output = "".join(seen) + rest
    assert people.status_code == 200
    assert "Ada Lanternfield" in people.text and "Follow-ups due" in people.text
    assert ada.status_code == 200 and "score-chart" in ada.text
    assert demo.returncode == 0, output
    assert "Traceback" not in output
    data = re.search(r"ENGAGE_DATA=(\S+)", output)
    assert data is not None and not Path(data.group(1)).exists()
