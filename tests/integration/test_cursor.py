"""Paging cursors as a client meets them: opaque, bound to their query, refused when altered."""

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from importer.load import import_lines
from importer.writer import CatalogWriter
from tests.support import catalog_data, soundtrack_data
from tests.support.api_client import InProcessApi, next_page
from tests.support.backends import table_on
from tests.support.stream_feed import drain

OWNERS, SONGS = catalog_data.build()
SONGS_PATH, SOUNDTRACKS_PATH = "/v1/songs", "/api/v1/soundtracks"


@pytest.fixture(scope="module")
def catalog_table(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    records = OWNERS + SONGS + soundtrack_data.build()
    with table_on("moto", request) as (client, name):
        import_lines(CatalogWriter(client, name), [json.dumps(record) for record in records], progress=False)
        drain(client, name)
        yield client, name


@pytest.fixture
def api(catalog_table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> InProcessApi:
    return InProcessApi(*catalog_table, monkeypatch)


def cursor_of(api: InProcessApi, path: str, params: dict[str, str]) -> str:
    after = next_page(api.get(path, params))
    assert after is not None, "a full first page links to the next"
    return after[1]["cursor"]


def assert_refused(answer, status: int = 400) -> None:
    assert answer.status == status, answer.body
    assert set(answer.body) == {"code", "description", "cause"} and answer.body["code"] == status
    assert "cursor" in answer.body["cause"]


def test_the_next_link_keeps_the_filters_and_replaces_the_offset(api: InProcessApi) -> None:
    answer = api.get(SONGS_PATH, {"genres": "Pop,-Rock", "limit": "2", "offset": "1"})
    linked = next_page(answer)
    assert linked is not None
    path, params = linked
    assert path == SONGS_PATH
    assert set(params) == {"genres", "limit", "cursor"}
    assert (params["genres"], params["limit"]) == ("Pop,-Rock", "2")
    assert answer.headers["Link"].startswith("<http://localhost/v1/songs?")


def test_the_last_page_has_no_next_link(api: InProcessApi) -> None:
    assert "Link" not in api.get(SONGS_PATH, {"limit": "100"}).headers
    assert "Link" not in api.get(SONGS_PATH, {"limit": "0"}).headers


def test_a_cursor_reveals_nothing_of_the_key_layout(api: InProcessApi) -> None:
    cursor = cursor_of(api, SONGS_PATH, {"limit": "1"})
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    first = api.get(SONGS_PATH, {"limit": "1"}).body[0]
    for secret in (first["id"], first["createdAt"][:10], "songs", "archived"):
        assert secret.encode() not in raw and secret not in cursor


@pytest.mark.parametrize("position", [0, 10, -1])
def test_an_altered_cursor_is_a_400(api: InProcessApi, position: int) -> None:
    cursor = cursor_of(api, SONGS_PATH, {"limit": "2"})
    altered = cursor[:position] + ("A" if cursor[position] != "A" else "B") + cursor[position + 1 :]
    assert_refused(api.get(SONGS_PATH, {"limit": "2", "cursor": altered}))


@pytest.mark.parametrize("garbage", ["x", "not a cursor!", "A" * 400, base64.urlsafe_b64encode(b"\x01" * 40).decode()])
def test_anything_else_given_as_a_cursor_is_a_400(api: InProcessApi, garbage: str) -> None:
    assert_refused(api.get(SONGS_PATH, {"cursor": garbage}))


def test_a_cursor_only_continues_the_query_it_was_issued_for(api: InProcessApi) -> None:
    cursor = cursor_of(api, SONGS_PATH, {"genres": "Pop", "limit": "2"})
    assert api.get(SONGS_PATH, {"genres": "Pop", "limit": "7", "cursor": cursor}).status == 200, "page size may change"
    assert api.get(SONGS_PATH, {"genres": " +Pop", "cursor": cursor}).status == 200, "same query, other spelling"
    assert_refused(api.get(SONGS_PATH, {"genres": "Rock", "cursor": cursor}))
    assert_refused(api.get(SONGS_PATH, {"genres": "Pop", "sortOrder": "desc", "cursor": cursor}))
    assert_refused(api.get(SONGS_PATH, {"cursor": cursor}))
    assert_refused(api.get(SOUNDTRACKS_PATH, {"cursor": cursor}))


def test_a_cursor_of_another_deployment_is_a_400(api: InProcessApi, catalog_table: tuple[Any, str]) -> None:
    cursor = cursor_of(api, SONGS_PATH, {"limit": "2"})
    with pytest.MonkeyPatch.context() as patch:
        other = InProcessApi(*catalog_table, patch)  # the same catalog behind another stack: its own cursor secret
        assert_refused(other.get(SONGS_PATH, {"limit": "2", "cursor": cursor}))
    assert api.get(SONGS_PATH, {"limit": "2", "cursor": cursor}).status == 200


@pytest.mark.parametrize(("path", "positional"), [(SONGS_PATH, "offset"), (SOUNDTRACKS_PATH, "page")])
def test_a_cursor_with_an_offset_or_page_is_a_400(api: InProcessApi, path: str, positional: str) -> None:
    cursor = cursor_of(api, path, {"limit": "2"} if path == SONGS_PATH else {"size": "2"})
    assert_refused(api.get(path, {"cursor": cursor, positional: "2"}))


@pytest.mark.parametrize(("path", "positional", "default"), [(SONGS_PATH, "offset", "0"), (SOUNDTRACKS_PATH, "page", "1")])
def test_a_cursor_continues_with_every_parameter_at_its_documented_default(
    api: InProcessApi, path: str, positional: str, default: str
) -> None:
    # As a generated client sends it: every parameter that has a default in docs/openapi.json, the
    # position at its default included, next to the cursor (found by the schemathesis run, issue 17).
    size, sort = (
        ("limit", {"sortOrder": "asc", "archived": "false"})
        if path == SONGS_PATH
        else ("size", {"order": "asc", "sort": "created_at"})
    )
    first = api.get(path, {size: "2"})
    cursor = cursor_of(api, path, {size: "2"})
    following = api.get(path, {size: "2", positional: default, **sort, "cursor": cursor})
    assert following.status == 200, following.body
    assert following.body == api.get(path, {size: "2", "cursor": cursor}).body
    assert not {item.get("id", item.get("uuid")) for item in first.body} & {
        item.get("id", item.get("uuid")) for item in following.body
    }
    assert api.get(path, {size: "2", positional: f" 0{default} ", "cursor": cursor}).status == 200  # still the default


@pytest.mark.parametrize(("path", "positional"), [(SONGS_PATH, "offset"), (SOUNDTRACKS_PATH, "page")])
def test_an_empty_cursor_is_no_cursor(api: InProcessApi, path: str, positional: str) -> None:
    # `cursor=` next to the defaults is the first page, and next to another position, that position.
    assert api.get(path, {"cursor": ""}).body == api.get(path, {}).body
    assert api.get(path, {"cursor": "", positional: "2"}).body == api.get(path, {positional: "2"}).body
