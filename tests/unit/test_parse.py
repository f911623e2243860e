"""The query-string rules of Get Songs / Get Song Count, at the parser."""

import pytest

from catalog.errors import InvalidArgument, Unauthorized
from catalog.parse.songs import MAX_LIMIT, MAX_OFFSET, MINTING_STATUSES
from catalog.parse.songs import query as songs_query
from catalog.parse.songs import window as songs_window
from catalog.query import Selection
from importer.model.song import MintingStatus

CALLER = "842f5460-76f8-41d8-add9-d043a7a381de"
OTHER = "7bd2862f-8deb-4814-8943-156d9dab80dd"


def query(**params: str):
    return songs_query({name: [value] for name, value in params.items()}, CALLER)


def refusal(**params: str) -> str:
    with pytest.raises(InvalidArgument) as raised:
        query(**params)
        songs_window({name: [value] for name, value in params.items()})
    assert raised.value.status == 422
    return raised.value.cause


def test_defaults() -> None:
    parsed = query()
    assert parsed.scoped is False
    assert parsed.descending is False
    assert parsed.facets == {}
    assert parsed.phrase is None and parsed.newer_than is None and parsed.older_than is None
    window = songs_window({})
    assert (window.offset, window.limit) == (0, 25)


def test_list_items_are_trimmed_and_prefixed() -> None:
    parsed = query(genres=" Pop , +Rock,-Jazz ,  -Blues", moods="Calm")
    assert parsed.facets["genre"] == Selection(frozenset({"Pop", "Rock"}), frozenset({"Jazz", "Blues"}))
    assert parsed.facets["mood"] == Selection(frozenset({"Calm"}))


def test_a_decoded_plus_is_a_space_the_trim_removes() -> None:
    assert query(genres=" Pop").facets["genre"].include == {"Pop"}


def test_repeated_list_parameters_are_joined() -> None:
    parsed = songs_query({"genres": ["Pop", "-Rock"]}, CALLER)
    assert parsed.facets["genre"] == Selection(frozenset({"Pop"}), frozenset({"Rock"}))


def test_genres_are_case_sensitive_and_an_empty_item_matches_nothing() -> None:
    assert query(genres="pop,POP").facets["genre"].include == {"pop", "POP"}
    assert query(genres="").facets["genre"].include == {""}


def test_me_is_the_caller_also_excluded() -> None:
    assert query(ownerIds="me").facets["owner"].include == {CALLER}
    assert query(ownerIds=f"-me,{OTHER.upper()}").facets["owner"] == Selection(frozenset({OTHER}), frozenset({CALLER}))
    with pytest.raises(Unauthorized):
        songs_query({"ownerIds": ["me"]}, None)


@pytest.mark.parametrize(
    ("params", "value"),
    [({"ids": "123456789"}, "123456789"), ({"ids": ""}, ""), ({"ownerIds": "ME"}, "ME"),
     ({"ids": f"{OTHER},-nope"}, "nope"), ({"ownerIds": f"{OTHER}x"}, f"{OTHER}x")],
)  # fmt: skip
def test_malformed_uuids_are_named(params: dict, value: str) -> None:
    assert refusal(**params) == f"Invalid UUID string: {value}"


@pytest.mark.parametrize(
    ("name", "value"),
    [("offset", "-1"), ("offset", "x"), ("offset", "1.5"), ("offset", str(MAX_OFFSET + 1)),
     ("limit", "-5"), ("limit", "ten"), ("limit", str(MAX_LIMIT + 1)), ("limit", ""), ("sortOrder", ""),
     ("limit", "５"), ("offset", "２"), ("limit", "1٠"), ("offset", "-" + "9" * 30), ("limit", "0x10"), ("limit", "1e2"),
     ("sortOrder", "up"), ("archived", "yes"), ("archived", "1"),
     ("olderThan", "yesterday"), ("newerThan", "2022-13-01"), ("newerThan", "2022-04-22T25:00"),
     ("mintingStatuses", "Minted,Bogus"), ("mintingStatuses", "minted")],
)  # fmt: skip
def test_bad_values_are_refused_naming_the_parameter(name: str, value: str) -> None:
    assert f"'{name}'" in refusal(**{name: value})


def test_the_parser_knows_the_models_minting_statuses() -> None:
    assert MINTING_STATUSES == {status.value for status in MintingStatus}


def test_every_minting_status_is_accepted() -> None:
    statuses = ",".join(status.value for status in MintingStatus)
    assert len(MintingStatus) == 22
    assert len(query(mintingStatuses=statuses).facets["status"].include) == 22


def test_sort_order_and_archived_ignore_case() -> None:
    assert query(sortOrder="DESC").descending is True
    assert query(archived="TRUE").scoped is True


@pytest.mark.parametrize(
    ("text", "stored"),
    [("2022-04-22T20:47:55.738918", "2022-04-22T20:47:55.738918"),
     ("2022-04-22T20:47:55", "2022-04-22T20:47:55.000000"),
     ("2022-04-22T20:47:55Z", "2022-04-22T20:47:55.000000"),
     ("2022-04-22T22:47:55.5+02:00", "2022-04-22T20:47:55.500000"),
     ("2022-04-22", "2022-04-22T00:00:00.000000")],
)  # fmt: skip
def test_time_bounds_accept_iso_8601_forms_zone_less_as_utc(text: str, stored: str) -> None:
    parsed = query(olderThan=text, newerThan=text)
    assert parsed.older_than == stored and parsed.newer_than == stored


def test_sub_microsecond_bounds_keep_their_exclusive_meaning() -> None:
    parsed = query(olderThan="2022-04-22T20:47:55.0000001", newerThan="2022-04-22T20:47:55.0000009")
    assert parsed.older_than == "2022-04-22T20:47:55.000001"  # created < bound  <=>  created < ceil(bound)
    assert parsed.newer_than == "2022-04-22T20:47:55.000000"  # created > bound  <=>  created > floor(bound)


def test_phrase_is_lower_cased_and_an_empty_one_is_no_filter() -> None:
    assert query(phrase="Blinding LIGHTS").phrase == "blinding lights"
    assert query(phrase="").phrase is None


def test_a_scalar_given_twice_with_different_values_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="'limit'"):
        songs_window({"limit": ["5", "6"]})


@pytest.mark.parametrize("digits", [3, 18, 19, 40, 5000])
def test_every_integer_above_the_maximum_gets_the_same_answer(digits: int) -> None:
    # A 19-digit limit was "not an integer", an 18-digit one "above the maximum" (issue 17).
    assert refusal(limit="9" * digits) == f"Invalid value for parameter 'limit': {'9' * digits} is above the maximum of 100"


def test_integers_are_ascii_digits_with_a_sign_and_surrounding_spaces() -> None:
    assert songs_window({"offset": [" +0012 "], "limit": ["-0"]}) == songs_window({"offset": ["12"], "limit": ["0"]})


@pytest.mark.parametrize(
    ("params", "newer", "older"),
    [({"newerThan": "0001-01-01T00:00:00+05:00"}, None, None),  # before every song: no bound
     ({"olderThan": "9999-12-31T23:59:59.9999999"}, None, None),  # after every song: no bound
     ({"olderThan": "0001-01-01T03:00:00+05:00"}, None, "0001-01-01T00:00:00.000000"),  # nothing is older
     ({"newerThan": "9999-12-31T23:00:00-05:00"}, "9999-12-31T23:59:59.999999", None)],  # nothing is newer
)  # fmt: skip
def test_valid_date_times_beyond_the_years_of_a_song_bound_all_or_nothing(params: dict, newer, older) -> None:
    # A valid RFC 3339 date-time that falls outside years 1 to 9999 once in UTC was a 422 (issue 17).
    parsed = query(**params)
    assert (parsed.newer_than, parsed.older_than) == (newer, older)
