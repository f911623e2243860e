"""GET /v1/songs/count and GET /api/v1/soundtracks/count: how many items match the filters; GET
/v1/songs/genres/count: how many genres the matching songs carry."""

from catalog import operations
from catalog.http import caller, create_resolver, lambda_entrypoint, parameters

app = create_resolver()


@app.get("/v1/songs/count")
def count_songs() -> dict:
    """How many songs match the filters."""
    return operations.count_songs(parameters(app), caller(app), operations.default_store())


@app.get("/v1/songs/genres/count")
def count_song_genres() -> dict:
    """How many distinct genres the songs matching the filters carry."""
    return operations.count_song_genres(parameters(app), caller(app), operations.default_store())


@app.get("/api/v1/soundtracks/count")
def count_soundtracks() -> dict:
    """How many soundtracks match the filters."""
    return operations.count_soundtracks(parameters(app), operations.default_store())


lambda_handler = lambda_entrypoint(app)
