"""GET /v1/songs/count: how many songs match the filters."""

from catalog import operations
from catalog.http import caller, create_resolver, lambda_entrypoint, parameters

app = create_resolver()


@app.get("/v1/songs/count")
def count_songs() -> dict:
    return operations.count_songs(parameters(app), caller(app), operations.default_store())


lambda_handler = lambda_entrypoint(app)
