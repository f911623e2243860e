"""The API in process on a test's table (``devtools.local.in_process``), and following ``Link`` headers."""

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from catalog import operations
from devtools.local import in_process
from devtools.local.in_process import CALLER, Answer

__all__ = ["CALLER", "Answer", "InProcessApi", "follow_links", "next_page"]


class InProcessApi(in_process.InProcessApi):
    """Serving for the rest of the test (or fixture) that ``monkeypatch`` belongs to."""

    def __init__(self, client: Any, table: str, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(client, table)
        monkeypatch.setattr(operations, "default_store", self.new_store)


def next_page(answer: Answer) -> tuple[str, dict[str, str]] | None:
    """Where an answer's ``Link: <...>; rel="next"`` points: (path, query), or None without one."""
    link = answer.headers.get("Link")
    if link is None:
        return None
    target, _, relation = link.partition(";")
    assert relation.strip() == 'rel="next"' and target.startswith("<") and target.endswith(">"), link
    url = urlsplit(target[1:-1])
    return url.path, dict(parse_qsl(url.query, keep_blank_values=True))


def follow_links(api: InProcessApi, path: str, params: dict[str, str]) -> list[Answer]:
    """Every page of a list, from the first, following each answer's ``Link`` to the next."""
    answers = [api.get(path, params)]
    while (after := next_page(answers[-1])) is not None:
        assert answers[-1].status == 200 and answers[-1].body, "a next link follows a full page"
        next_path, next_params = after
        assert next_path == path
        answers.append(api.get(next_path, next_params))
    assert answers[-1].status == 200, answers[-1].body
    return answers
