"""GET /v1/songs/{songId} and GET /api/v1/soundtracks/{uuid}: one item by id."""

from catalog import operations
from catalog.http import create_resolver, lambda_entrypoint

app = create_resolver()


@app.get("/v1/songs/<songId>")
def get_song(songId: str) -> dict:  # noqa: N803 - the template's path parameter name
    """One song by id, archived or not."""
    return operations.get_song(songId, operations.default_store())


@app.get("/api/v1/soundtracks/<uuid>")
def get_soundtrack(uuid: str) -> dict:
    """One soundtrack by uuid."""
    return operations.get_soundtrack(uuid, operations.default_store())


lambda_handler = lambda_entrypoint(app)
