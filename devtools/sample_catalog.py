"""Generate the sample catalog: deterministic (fixed seed), realistic, every case the API handles.

200 owners (some with a nickname, some with only first and last names), 2,400 songs spread over
2019-2026 with a spread of genres and moods (some songs without moods), every minting status,
about one in ten archived, and optional fields present or absent; and 300 soundtracks by a dozen
composers, with albums, durations and release dates (some absent).

The command line: ``python -m devtools.cli.sample_catalog``.
"""

import random
import uuid
from datetime import datetime, timedelta

from importer.model.song import AudioEncodingStatus, BarcodeType, MarketplaceStatus, MintingStatus

GENRES = [
    "Pop",
    "Rock",
    "Hip Hop",
    "Jazz",
    "Classical",
    "Electronic",
    "Synthwave",
    "Synthpop",
    "Country",
    "Reggae",
    "Blues",
    "Folk",
    "Metal",
    "R&B",
    "Soul",
    "Funk",
    "Latin",
    "Ambient",
    "House",
    "Techno",
]
MOODS = [
    "Calm",
    "Cool",
    "Upbeat",
    "Sentimental",
    "Sophisticated",
    "Energetic",
    "Dark",
    "Happy",
    "Melancholic",
    "Romantic",
    "Dreamy",
    "Epic",
    "Playful",
    "Tense",
]
FIRST = [
    "Ada",
    "Bruno",
    "Chiara",
    "Diego",
    "Elif",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
    "Zoe",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Silva",
    "Novak",
    "Haddad",
    "Kowalski",
    "Reyes",
    "Fischer",
    "Osei",
    "Petrov",
    "Rossi",
    "Nakamura",
    "Walsh",
    "Duarte",
    "Berg",
    "Costa",
    "Ahmed",
    "Quist",
]
NICK_WORDS = [
    "Neon",
    "Velvet",
    "Echo",
    "Lunar",
    "Static",
    "Golden",
    "Midnight",
    "Paper",
    "Crystal",
    "Wild",
    "Fox",
    "Tide",
    "Comet",
    "Harbor",
    "Rider",
    "Garden",
    "Signal",
    "Pulse",
    "Drift",
    "Owl",
]
TITLE_WORDS = [
    "Lights",
    "Tears",
    "Summer",
    "River",
    "Fire",
    "Shadows",
    "Heart",
    "City",
    "Dreams",
    "Ocean",
    "Highway",
    "Stars",
    "Rain",
    "Gold",
    "Silence",
    "Dance",
    "Memory",
    "Storm",
    "Morning",
    "Wires",
    "Paradise",
    "Gravity",
    "Echoes",
    "Horizon",
    "Static",
    "Velvet",
    "Satellite",
    "Bloom",
]
LANGUAGES = ["English", "Spanish", "Portuguese", "French", "German", "Japanese", "Swahili", "Korean"]
START = datetime(2019, 1, 1)
SPAN_SECONDS = int((datetime(2026, 10, 1) - START).total_seconds())


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def owners(rng: random.Random, count: int) -> list[dict]:
    result = []
    for _ in range(count):
        owner = {"kind": "owner", "id": _uuid(rng)}
        style = rng.random()
        if style < 0.4:
            owner["nickname"] = f"{rng.choice(NICK_WORDS)} {rng.choice(NICK_WORDS)}"
        if style < 0.6 or style > 0.7:
            owner["firstName"] = rng.choice(FIRST)
            owner["lastName"] = rng.choice(LAST)
        elif style < 0.65:
            owner["firstName"] = rng.choice(FIRST)
        result.append(owner)
    return result


def song(rng: random.Random, owner: dict, statuses: list[str]) -> dict:
    title = " ".join(rng.sample(TITLE_WORDS, rng.choice([1, 2, 2, 3])))
    created = START + timedelta(seconds=rng.randrange(SPAN_SECONDS), microseconds=rng.randrange(1_000_000))
    record = {
        "kind": "song",
        "id": _uuid(rng),
        "archived": rng.random() < 0.1,
        "ownerId": owner["id"],
        "createdAt": created.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "title": title,
        "genres": rng.sample(GENRES, rng.choice([1, 1, 2, 2, 3])),
        "coverRemixSample": rng.random() < 0.15,
        "audioEncodingStatus": rng.choice(list(AudioEncodingStatus)).value,
        "mintingStatus": statuses.pop() if statuses else rng.choice(list(MintingStatus)).value,
        "marketplaceStatus": rng.choice(list(MarketplaceStatus)).value,
    }
    slug = title.lower().replace(" ", "-")
    artist = owner.get("nickname") or " ".join(filter(None, [owner.get("firstName"), owner.get("lastName")]))
    optional = {
        "moods": lambda: rng.sample(MOODS, rng.choice([1, 2, 2, 3])),
        "coverArtUrl": lambda: f"https://cdn.example.com/{slug}/cover.png",
        "lyricsUrl": lambda: f"https://cdn.example.com/{slug}/lyrics.txt",
        "description": lambda: f"Song by {artist}",
        "album": lambda: f"{rng.choice(TITLE_WORDS)} {rng.choice(['Sessions', 'Tapes', 'EP', 'Vol. 2', 'Nights'])}",
        "track": lambda: rng.randint(1, 14),
        "language": lambda: rng.choice(LANGUAGES),
        "compositionCopyrightOwner": lambda: f"© {artist}",
        "compositionCopyrightYear": lambda: created.year,
        "phonographicCopyrightOwner": lambda: f"℗ {artist}",
        "phonographicCopyrightYear": lambda: created.year,
        "parentalAdvisory": lambda: rng.choice(["Explicit", "NonExplicit"]),
        "barcodeType": lambda: rng.choice(list(BarcodeType)).value,
        "barcodeNumber": lambda: "".join(rng.choices("0123456789", k=12)),
        "isrc": lambda: f"US{rng.choice(['RC1', 'UM7', 'SM1'])}{created.strftime('%y')}{rng.randrange(10**5):05d}",
        "iswc": lambda: f"T-{rng.randrange(10**9):09d}-{rng.randrange(10)}",
        "ipis": lambda: [f"{rng.randrange(10**11):011d}" for _ in range(rng.randint(1, 3))],
        "releaseDate": lambda: (created + timedelta(days=rng.randint(0, 90))).date().isoformat(),
        "publicationDate": lambda: (created + timedelta(days=rng.randint(0, 30))).date().isoformat(),
        "duration": lambda: rng.randint(90_000, 420_000),
        "streamUrl": lambda: f"https://stream.example.com/{slug}.m4a",
        "nftPolicyId": lambda: "".join(rng.choices("0123456789abcdef", k=56)),
        "nftName": lambda: f"{title} NFT",
    }
    for name, make in optional.items():
        if rng.random() < 0.7:
            record[name] = make()
    return record


SHOWS = ["Northern Lights", "The Harbor", "Glass City", "Red Meridian", "Station Eleven", "Low Tide", "Paper Moons"]
COMPOSERS = [
    "Ramin Vega",
    "Hildur Sand",
    "Trent Okoye",
    "Mica Lévi-Strand",
    "Jonny Hale",
    "Ólafur Berg",
    "Clara Ness",
    "Max Richter-Lund",
    "Nainita Das",
    "Kris Bowers-Mae",
    "Tamar Osei",
    "Dario Marianelli-Ruiz",
]


def soundtrack(rng: random.Random) -> dict:
    created = START + timedelta(seconds=rng.randrange(SPAN_SECONDS), microseconds=rng.randrange(1_000_000))
    updated = created + timedelta(days=rng.randint(0, 400), seconds=rng.randrange(86_400))
    name = f"{rng.choice(TITLE_WORDS)} {rng.choice(['Theme', 'Suite', 'Reprise', 'Main Title', 'Waltz', 'Overture'])}"
    record: dict[str, object] = {
        "kind": "soundtrack",
        "uuid": _uuid(rng),
        "name": name,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "updated_at": updated.strftime("%Y-%m-%dT%H:%M:%S.%f"),
    }
    slug = name.lower().replace(" ", "-")
    optional = {
        "duration": lambda: rng.randint(45_000, 480_000),
        "artist": lambda: rng.choice(COMPOSERS),
        "album": lambda: f"{rng.choice(SHOWS)}: Season {rng.randint(1, 4)}",
        "release_date": lambda: (created - timedelta(days=rng.randint(0, 900))).date().isoformat(),
        "urls": lambda: [f"https://music.example.com/{slug}"],
        "thumbnail": lambda: f"https://img.example.com/{slug}.jpg",
        "sources": lambda: rng.sample(["spotify", "apple-music", "youtube", "deezer"], rng.randint(1, 3)),
    }
    for field, make in optional.items():
        if rng.random() < 0.85:
            record[field] = make()
    return record


def generate(song_count: int = 2400, owner_count: int = 200, seed: int = 20260101, soundtrack_count: int = 300) -> list[dict]:
    """Owners first (the first one is the demo user's), then songs, then soundtracks."""
    rng = random.Random(seed)
    people = owners(rng, owner_count)
    statuses = [status.value for status in MintingStatus]
    weights = [8] + [1] * (len(people) - 1)
    songs = [song(rng, rng.choices(people, weights)[0], statuses) for _ in range(song_count)]
    return people + songs + [soundtrack(rng) for _ in range(soundtrack_count)]
