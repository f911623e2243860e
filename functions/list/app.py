"""GET /v1/songs and GET /api/v1/soundtracks: a page of a collection matching the filters; GET
/v1/songs/genres: the genres of the matching songs."""

from aws_lambda_powertools.event_handler import Response

from catalog import operations
from catalog.http import caller, create_resolver, lambda_entrypoint, next_link, parameters

app = create_resolver()


@app.get("/v1/songs")
def list_songs() -> Response:
    """A page of songs matching the filters."""
    return operations.list_songs(parameters(app), caller(app), operations.default_store(), next_link(app))


@app.get("/v1/songs/genres")
def list_song_genres() -> Response:
    """The genres of the songs matching the filters, by how many of them carry each."""
    return operations.list_song_genres(parameters(app), caller(app), operations.default_store())


@app.get("/api/v1/soundtracks")
def list_soundtracks() -> Response:
    """A page of soundtracks matching the filters."""
    return operations.list_soundtracks(parameters(app), operations.default_store(), next_link(app))


lambda_handler = lambda_entrypoint(app)
