"""GET /v1/songs: a page of songs matching the filters."""

from catalog import operations
from catalog.http import caller, create_resolver, lambda_entrypoint, parameters

app = create_resolver()


@app.get("/v1/songs")
def list_songs() -> list[dict]:
    return operations.list_songs(parameters(app), caller(app), operations.default_store())


lambda_handler = lambda_entrypoint(app)
