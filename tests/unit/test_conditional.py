"""Conditional GETs (``catalog.http.conditional``, issue 16): which answers get an ETag, which requests a 304.

Over HTTP, for every route, in tests/e2e/test_routes.py; here the rules one by one, on proxy events and
answers as API Gateway and the resolver shape them.
"""

import json

import pytest

from catalog.http import CACHE_CONTROL, conditional, entity_tag


def answer(body: object, status: int = 200, **headers: str) -> dict:
    return {"statusCode": status, "body": json.dumps(body, separators=(",", ":")), "isBase64Encoded": False,
            "multiValueHeaders": {"Content-Type": ["application/json"], **{k.replace("_", "-"): [v] for k, v in headers.items()}}}  # fmt: skip


def event(if_none_match: str | None = None, *, name: str = "If-None-Match", method: str = "GET", multi: bool = True) -> dict:
    headers = {"Host": "localhost", **({name: if_none_match} if if_none_match is not None else {})}
    return {"httpMethod": method, "headers": headers,
            "multiValueHeaders": {key: [value] for key, value in headers.items()} if multi else None}  # fmt: skip


def tag_of(response: dict) -> str:
    return response["multiValueHeaders"]["ETag"][0]


def test_a_200_gets_the_hash_of_its_body_and_the_caching_rule() -> None:
    served = conditional(event(), answer({"count": 300}))
    assert served["statusCode"] == 200 and served["body"] == '{"count":300}'
    assert tag_of(served) == entity_tag('{"count":300}') == '"861b7fe488aa118cdd0fd7fa50923b20"'
    assert served["multiValueHeaders"]["Cache-Control"] == [CACHE_CONTROL] == ["private, max-age=0, must-revalidate"]
    assert tag_of(conditional(event(), answer({"count": 301}))) != tag_of(served)


@pytest.mark.parametrize(
    "held",
    ["{tag}", "W/{tag}", '"x", {tag}', ' "x" ,W/{tag} ', "*", " * "],
)
def test_if_none_match_with_the_tag_a_list_holding_it_its_weak_form_or_a_star_is_304(held: str) -> None:
    tag = entity_tag('["Pop"]')
    for name, multi in (("If-None-Match", True), ("if-none-match", True), ("IF-NONE-MATCH", False)):
        served = conditional(event(held.format(tag=tag), name=name, multi=multi), answer(["Pop"]))
        assert served == {"statusCode": 304, "body": "", "isBase64Encoded": False,
                          "multiValueHeaders": {"ETag": [tag], "Cache-Control": [CACHE_CONTROL]}}, (held, name)  # fmt: skip


@pytest.mark.parametrize("held", ['"x"', "", "W/", '"861b7fe488aa118cdd0fd7fa50923b2"', "{bare}", '"{bare}0"', "**"])
def test_any_other_if_none_match_gets_the_200(held: str) -> None:
    bare = entity_tag('["Pop"]').strip('"')
    served = conditional(event(held.format(bare=bare)), answer(["Pop"]))
    assert (served["statusCode"], served["body"]) == (200, '["Pop"]'), held


def test_only_a_200_to_a_get_is_conditional() -> None:
    error = answer({"code": 422, "description": "Unprocessable Entity", "cause": "x"}, status=422)
    assert conditional(event("*"), dict(error)) == error, "an error stays as it is, without ETag"
    assert conditional(event("*", method="HEAD"), answer([])) == answer([])


def test_the_tag_also_says_what_the_paging_headers_say_but_not_the_sealed_cursor() -> None:
    """Same body, but a next page follows now, or the totals moved: another tag. A Link whose cursor was
    sealed anew (a random nonce each answer) for the same page: the same tag, so the page gets 304."""
    last = tag_of(conditional(event(), answer([1, 2])))
    followed = tag_of(conditional(event(), answer([1, 2], Link='<https://h/v1/songs?cursor=AAA>; rel="next"')))
    resealed = tag_of(conditional(event(), answer([1, 2], Link='<https://h/v1/songs?cursor=BBB>; rel="next"')))
    assert last != followed == resealed
    totals = [
        tag_of(conditional(event(), answer([], X_Pagination_Item_Total=str(n), X_Pagination_Page_Total="1"))) for n in (5, 6, 6)
    ]
    assert totals[0] != totals[1] == totals[2]
