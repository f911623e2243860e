"""GET /v1/songs/random: one song drawn uniformly from those matching the filters."""

from catalog import operations
from catalog.http import caller, create_resolver, lambda_entrypoint, parameters

app = create_resolver()


@app.get("/v1/songs/random")
def random_song() -> dict:
    return operations.random_song(parameters(app), caller(app), operations.default_store())


lambda_handler = lambda_entrypoint(app)
