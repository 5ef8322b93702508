"""The read API: FastAPI app (`app.create_app`), its routes, schemas and a typed
client (`client.ApiClient`) for the CLI. Importing this package imports nothing
heavy: the CLI imports `tracker.api.client` without FastAPI's app machinery."""
