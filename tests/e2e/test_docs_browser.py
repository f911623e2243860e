"""Swagger UI on the local gateway, used in a real browser (headless Chromium) as a person would.

The page is opened, authorized with a token obtained as ``make token`` obtains it, and "Try it out"
runs ``GET /v1/songs`` (and ``GET /v1/songs/genres``) with a filter against the local API; the test
then reads what the page shows.
The browser is driven by ``swagger_ui_browser.mjs`` (playwright-core from npm, on the system's
Chromium). A screenshot of the page is left in ``.artifacts/`` (git-ignored) to look at.

Chromium comes from the distribution's packages (``make test`` installs it when it can); without
it the test is skipped and says why.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from devtools.local.identity import issue_token
from tests.e2e.conftest import DEMO_SONGS, OTHER_SONG, REPO_ROOT

DRIVER = Path(__file__).with_name("swagger_ui_browser.mjs")
SCREENSHOT = REPO_ROOT / ".artifacts" / "swagger-ui-try-it-out.png"


def _chromium() -> tuple[str | None, str]:
    """The Chromium to drive (``$CHROMIUM`` if set, else the distribution's on ``PATH``), or why there is none."""
    chosen = os.environ.get("CHROMIUM")
    if chosen:
        return shutil.which(chosen), f"CHROMIUM={chosen} is not an executable"
    return shutil.which("chromium") or shutil.which("chromium-browser"), "chromium is not installed"


CHROMIUM, NO_CHROMIUM = _chromium()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.dynamodb_local,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason=f"no browser for the Swagger UI test: {NO_CHROMIUM}. `make test` installs the Debian package chromium "
        "when it runs as root or with password-less sudo; else install it, or set CHROMIUM=/path/to/chromium",
    ),
]


def try_it_out(local_stack, token: str, path: str, query: dict[str, str], screenshot: Path) -> dict:
    """What the page shows after "Authorize" with ``token`` and "Try it out" of ``GET path`` with ``query``."""
    node = shutil.which("node")
    assert node, "Node.js is needed (the project's npm tooling): see README, Requirements"
    screenshot.unlink(missing_ok=True)
    options = {
        "docsUrl": f"{local_stack.base_url}/docs",
        "token": token,
        "method": "get",
        "path": path,
        "query": query,
        "chromium": CHROMIUM,
        "screenshot": str(screenshot),
    }
    run = subprocess.run([node, str(DRIVER), json.dumps(options)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"the browser run failed (screenshot: {screenshot}):\n{run.stderr}"
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_try_it_out_lists_the_filtered_songs_after_authorize(local_stack, catalog) -> None:
    token = issue_token(local_stack.pool, local_stack.demo)  # what `make token` prints, from this stack
    calls_before = len(local_stack.handler_calls.names)
    # three Pop songs; the oldest two come first
    shown = try_it_out(local_stack, token, "/v1/songs", {"genres": "Pop", "limit": "2"}, SCREENSHOT)

    sent = urlsplit(shown["requestUrl"])
    assert f"{sent.scheme}://{sent.netloc}{sent.path}" == f"{local_stack.base_url}/v1/songs"
    assert parse_qs(sent.query) == {"genres": ["Pop"], "limit": ["2"]}
    assert f"Authorization: Bearer {token}" in shown["curl"]
    assert shown["status"] == "200", shown
    songs = json.loads(shown["body"])
    assert [(song["id"], song["title"]) for song in songs] == [(DEMO_SONGS[0], "First"), (DEMO_SONGS[1], "Second")]
    assert OTHER_SONG not in shown["body"]
    assert local_stack.handler_calls.names[calls_before:] == ["ListFunction"]  # one call, through the authorizer
    assert shown["pageErrors"] == []


def test_try_it_out_lists_the_genres_of_the_filtered_songs(local_stack, catalog) -> None:
    token = issue_token(local_stack.pool, local_stack.demo)
    shown = try_it_out(local_stack, token, "/v1/songs/genres", {"ownerIds": "me", "sortOrder": "asc"},
                       SCREENSHOT.with_name("swagger-ui-genres.png"))  # fmt: skip
    assert parse_qs(urlsplit(shown["requestUrl"]).query) == {"ownerIds": ["me"], "sortOrder": ["asc"]}
    assert (shown["status"], json.loads(shown["body"]), shown["pageErrors"]) == ("200", ["Pop"], [])
