"""Every route template.yaml declares, over HTTP through the local gateway, as a client calls it."""

import re

import pytest

from devtools.local.identity import ensure_user, sign_in
from devtools.template.table import api_routes
from tests.e2e.conftest import DEMO_SONGS, OTHER_OWNER, OTHER_SONG, SOUNDTRACK

SONG_PATHS = {
    "/v1/songs": "/v1/songs?limit=2&sortOrder=desc",
    "/v1/songs/count": "/v1/songs/count?genres=Pop",
    "/v1/songs/genres": "/v1/songs/genres?ownerIds=me",
    "/v1/songs/genres/count": "/v1/songs/genres/count?genres=-Rock",
    "/v1/songs/{songId}": f"/v1/songs/{OTHER_SONG}",
    "/v1/songs/random": "/v1/songs/random?ownerIds=-me",
    "/api/v1/soundtracks": "/api/v1/soundtracks?artist=Hildur&sort=duration,desc",
    "/api/v1/soundtracks/count": "/api/v1/soundtracks/count?duration=>200000",
    "/api/v1/soundtracks/{uuid}": f"/api/v1/soundtracks/{SOUNDTRACK}",
    "/api/v1/soundtracks/random": "/api/v1/soundtracks/random",
}


def test_every_declared_route_is_exercised_here() -> None:
    assert {route.path for route in api_routes()} <= set(SONG_PATHS)


@pytest.mark.parametrize("resource", SONG_PATHS)
def test_each_route_answers_json_to_an_authorized_client(local_stack, demo_tokens, catalog, resource: str) -> None:
    reply = local_stack.request(SONG_PATHS[resource], token=demo_tokens.access_token)
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    expected = {
        "/v1/songs": lambda: [song["id"] for song in body] == [OTHER_SONG, DEMO_SONGS[1]],
        "/v1/songs/count": lambda: body == {"count": 3},
        "/v1/songs/genres": lambda: body == ["Pop"],
        "/v1/songs/genres/count": lambda: body == {"count": 1},
        "/v1/songs/{songId}": lambda: body["id"] == OTHER_SONG and body["title"] == "Third",
        "/v1/songs/random": lambda: body["id"] == OTHER_SONG,  # the demo user's own songs are excluded
        "/api/v1/soundtracks": lambda: (
            [item["uuid"] for item in body] == [SOUNDTRACK] and reply.headers["X-Pagination-Item-Total"] == "1"
        ),
        "/api/v1/soundtracks/count": lambda: body == {"count": 1},
        "/api/v1/soundtracks/{uuid}": lambda: body["href"] == f"/api/v1/soundtracks/{SOUNDTRACK}",
        "/api/v1/soundtracks/random": lambda: body["uuid"] == SOUNDTRACK,
    }
    assert expected[resource](), body


@pytest.mark.parametrize("resource", SONG_PATHS)
def test_each_route_refuses_a_missing_token(local_stack, resource: str) -> None:
    reply = local_stack.request(SONG_PATHS[resource])
    assert reply.status == 401
    assert reply.json() == {"code": 401, "description": "Unauthorized", "cause": "Unauthorized"}


def test_owner_ids_me_follows_the_tokens_user(local_stack, catalog) -> None:
    """As `make token USER=<uuid>` does: a pool user whose sub is that owner, signed in for real."""
    other = sign_in(local_stack.pool, ensure_user(local_stack.pool, OTHER_OWNER))
    reply = local_stack.request("/v1/songs?ownerIds=me", token=other.access_token)
    assert reply.status == 200
    assert [song["id"] for song in reply.json()] == [OTHER_SONG]


def test_errors_keep_the_error_shape_over_http(local_stack, demo_tokens, catalog) -> None:
    reply = local_stack.request("/v1/songs?ids=123456789", token=demo_tokens.access_token)
    assert (reply.status, reply.json()) == (
        422,
        {"code": 422, "description": "Unprocessable Entity", "cause": "Invalid UUID string: 123456789"},
    )
    missing = local_stack.request("/v1/songs/00000000-0000-4000-8000-000000000000", token=demo_tokens.access_token)
    assert missing.status == 404 and missing.json()["code"] == 404


STRONG_TAG = re.compile(r'"[0-9a-f]{32}"')


@pytest.mark.parametrize("resource", SONG_PATHS)
def test_each_route_answers_304_to_a_client_holding_its_etag(local_stack, demo_tokens, catalog, resource: str) -> None:
    """Issue 16: a strong ETag and Cache-Control on every 200; If-None-Match with it (a list holding it, its weak
    form, or *) gets 304 with no body and the same validators; another tag gets the 200 again."""
    token = demo_tokens.access_token
    first = local_stack.request(SONG_PATHS[resource], token=token)
    assert first.status == 200, first.body
    tag = first.headers["ETag"]
    assert STRONG_TAG.fullmatch(tag), tag
    assert first.headers["Cache-Control"] == "private, max-age=0, must-revalidate"
    for held in (tag, f'"0", {tag}', f"W/{tag}", "*"):
        again = local_stack.request(SONG_PATHS[resource], token=token, headers={"If-None-Match": held})
        assert (again.status, again.body) == (304, b""), (held, again.body)
        assert again.headers["ETag"] == tag and again.headers["Cache-Control"] == first.headers["Cache-Control"]
        assert again.headers.get("Content-Length") is None and again.handlers, "read and answered by the function"
    changed = local_stack.request(SONG_PATHS[resource], token=token, headers={"If-None-Match": '"0123456789abcdef"'})
    assert (changed.status, changed.body, changed.headers["ETag"]) == (200, first.body, tag)


def test_errors_carry_no_etag_and_ignore_if_none_match(local_stack, demo_tokens, catalog) -> None:
    reply = local_stack.request("/v1/songs/genres?ids=1", token=demo_tokens.access_token, headers={"If-None-Match": "*"})
    assert reply.status == 422 and reply.json()["cause"] == "Invalid UUID string: 1"
    assert reply.headers.get("ETag") is None and reply.headers.get("Cache-Control") is None
    refused = local_stack.request("/v1/songs/genres/count", headers={"If-None-Match": "*"})
    assert refused.status == 401 and refused.headers.get("ETag") is None
