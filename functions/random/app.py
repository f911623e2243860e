"""GET /v1/songs/random and GET /api/v1/soundtracks/random: one item drawn uniformly from the matches."""

from catalog import operations
from catalog.http import caller, create_resolver, lambda_entrypoint, parameters

app = create_resolver()


@app.get("/v1/songs/random")
def random_song() -> dict:
    """One song drawn uniformly from those matching the filters."""
    return operations.random_song(parameters(app), caller(app), operations.default_store())


@app.get("/api/v1/soundtracks/random")
def random_soundtrack() -> dict:
    """One soundtrack drawn uniformly from those matching the filters."""
    return operations.random_soundtrack(parameters(app), operations.default_store())


lambda_handler = lambda_entrypoint(app)
