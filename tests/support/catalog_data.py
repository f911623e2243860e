"""A small catalog built for the contract tests, and a plain-Python oracle of the contract.

Shaped like the reference server's route tests: 31+ songs with distinct owners, genres, moods,
minting statuses and archived flags, two pairs sharing a ``createdAt`` (tie-breaks), and a phrase
planted in every searchable field and in owner names.
"""

import uuid
from datetime import datetime, timedelta

PHRASE = "Zebra"

NICK = "1a000000-0000-4000-8000-000000000001"  # nickname only
NAMED = "1a000000-0000-4000-8000-000000000002"  # first and last name only
BOTH = "1a000000-0000-4000-8000-000000000003"  # nickname and names: only the nickname is searched
FIRST_ONLY = "1a000000-0000-4000-8000-000000000004"
ZEBRA_NICK = "1a000000-0000-4000-8000-000000000005"  # phrase in the nickname
ZEBRA_FIRST = "1a000000-0000-4000-8000-000000000006"  # phrase in the first name
ZEBRA_LAST = "1a000000-0000-4000-8000-000000000007"  # phrase in the last name
ZEBRA_HIDDEN = "1a000000-0000-4000-8000-000000000008"  # phrase in names, but a nickname is set

OWNERS = [
    {"kind": "owner", "id": NICK, "nickname": "Nightowl"},
    {"kind": "owner", "id": NAMED, "firstName": "Maria", "lastName": "Lopez"},
    {"kind": "owner", "id": BOTH, "nickname": "Velvet", "firstName": "Tom", "lastName": "Hardy"},
    {"kind": "owner", "id": FIRST_ONLY, "firstName": "Ana"},
    {"kind": "owner", "id": ZEBRA_NICK, "nickname": "the zebra crossing"},
    {"kind": "owner", "id": ZEBRA_FIRST, "firstName": "Zebraina", "lastName": "Ortiz"},
    {"kind": "owner", "id": ZEBRA_LAST, "firstName": "Paul", "lastName": "McZEBRA"},
    {"kind": "owner", "id": ZEBRA_HIDDEN, "nickname": "Plain", "firstName": "Zebra", "lastName": "Zebra"},
]
PLAIN_OWNERS = [NICK, NAMED, BOTH, FIRST_ONLY]

GENRES = [["Pop"], ["Rock"], ["Jazz"], ["Pop", "Rock"], ["pop"], ["Jazz", "Pop"]]
MOODS = [None, ["Calm"], ["Upbeat"], ["Calm", "Upbeat"], []]
STATUSES = ["Minted", "Pending", "Distributed", "Released", "Undistributed"]
BASE = datetime(2022, 4, 22, 20, 47, 55, 738918)


def song_id(number: int) -> str:
    return str(uuid.UUID(int=number, version=4))


def _song(number: int, created: datetime, owner: str) -> dict:
    song = {
        "kind": "song",
        "id": song_id(number),
        "archived": number % 7 == 3,
        "ownerId": owner,
        "createdAt": created.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "title": f"Song {number:02d}",
        "genres": GENRES[number % len(GENRES)],
        "coverRemixSample": number % 2 == 0,
        "audioEncodingStatus": "Completed",
        "mintingStatus": STATUSES[number % len(STATUSES)],
        "marketplaceStatus": "Selling" if number % 3 else "NotSelling",
    }
    moods = MOODS[number % len(MOODS)]
    if moods is not None:
        song["moods"] = moods
    if number % 4 == 0:
        song.update(album=f"Album {number}", track=number, duration=180_000 + number, language="English")
    return song


def build(count: int = 36) -> tuple[list[dict], list[dict]]:
    """Owners and ``count`` songs (at least 36: the phrase plants need their own songs)."""
    songs = []
    for number in range(count):
        # songs 10/11 and 20/21 share their createdAt: order falls back to the id
        offset = number - (number in (11, 21))
        owner = PLAIN_OWNERS[number % len(PLAIN_OWNERS)]
        songs.append(_song(number, BASE + timedelta(hours=offset), owner))
    plants = {0: ("title", f"A {PHRASE} Song"), 5: ("description", f"about a {PHRASE.lower()}"),
              9: ("album", f"ZEBRA{PHRASE}"), 13: ("nftName", f"{PHRASE} NFT")}  # fmt: skip
    for number, (field, text) in plants.items():
        songs[number].update({field: text, "archived": False})
    for number, owner in {30: ZEBRA_NICK, 31: ZEBRA_FIRST, 32: ZEBRA_LAST, 33: ZEBRA_HIDDEN}.items():
        songs[number].update(ownerId=owner, archived=False)
    return OWNERS, songs


# -- the oracle: the contract in plain Python ---------------------------------------------------


def _selection(text: str | None) -> tuple[set, set] | None:
    if text is None:
        return None
    items = [item.strip() for item in text.split(",")]
    include = {item[1:] if item[:1] == "+" else item for item in items if not item.startswith("-")}
    exclude = {item[1:] for item in items if item.startswith("-")}
    return include, exclude


def _admits(selection: tuple[set, set] | None, values: list) -> bool:
    if selection is None:
        return True
    include, exclude = selection
    if exclude & set(values):
        return False
    return not include or bool(include & set(values))


def _me(item: str, caller: str | None) -> str:
    sign = item[:1] if item[:1] in "+-" else ""
    return sign + caller if caller and item[len(sign) :] == "me" else item


def owner_search_names(owner: dict) -> list[str]:
    if owner.get("nickname"):
        return [owner["nickname"]]
    names = [owner[key] for key in ("firstName", "lastName") if owner.get(key)]
    return names + ([" ".join(names)] if len(names) == 2 else [])


def expected(owners: list[dict], songs: list[dict], params: dict[str, str], caller: str | None = None) -> list[str]:
    """The ids Get Songs must return for these parameters (no paging), in order."""
    by_id = {owner["id"]: owner for owner in owners}
    owner_ids = params.get("ownerIds")
    if owner_ids is not None:
        owner_ids = ",".join(_me(item.strip(), caller) for item in owner_ids.split(","))
    archived = params.get("archived", "false").lower() == "true"
    chosen = []
    for song in songs:
        if song["archived"] != archived:
            continue
        checks = [
            _admits(_selection(params.get("ids")), [song["id"]]),
            _admits(_selection(owner_ids), [song["ownerId"]]),
            _admits(_selection(params.get("genres")), song["genres"]),
            _admits(_selection(params.get("moods")), song.get("moods") or []),
            _admits(_selection(params.get("mintingStatuses")), [song["mintingStatus"]]),
        ]
        if "olderThan" in params:
            checks.append(song["createdAt"] < params["olderThan"])
        if "newerThan" in params:
            checks.append(song["createdAt"] > params["newerThan"])
        if params.get("phrase"):
            texts = [song.get(key) for key in ("title", "description", "album", "nftName")]
            texts += owner_search_names(by_id.get(song["ownerId"], {}))
            checks.append(any(params["phrase"].lower() in text.lower() for text in texts if text))
        if all(checks):
            chosen.append(song)
    descending = params.get("sortOrder", "asc").lower() == "desc"
    chosen.sort(key=lambda song: (song["createdAt"], song["id"]), reverse=descending)
    return [song["id"] for song in chosen]


def genre_counts(owners: list[dict], songs: list[dict], params: dict[str, str], caller: str | None = None) -> dict[str, int]:
    """Get Song Genres' counts: how many of the songs Get Songs selects carry each genre (once a song)."""
    by_id = {song["id"]: song for song in songs}
    counts: dict[str, int] = {}
    for song_id in expected(owners, songs, params, caller):
        for genre in set(by_id[song_id]["genres"]):
            counts[genre] = counts.get(genre, 0) + 1
    return counts


def expected_genres(owners: list[dict], songs: list[dict], params: dict[str, str], caller: str | None = None) -> list[str]:
    """The genres Get Song Genres must return (no paging), in order: by count, most first unless
    ``sortOrder=asc``, ties by name in code point order."""
    counts = genre_counts(owners, songs, params, caller)
    fewest_first = params.get("sortOrder", "desc").lower() == "asc"
    by_count: dict[int, list[str]] = {}
    for genre, count in counts.items():
        by_count.setdefault(count, []).append(genre)
    ordered = []
    for count in sorted(by_count, reverse=not fewest_first):
        ordered += sorted(by_count[count])  # code point order, whatever the direction
    return ordered
