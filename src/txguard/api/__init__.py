"""The HTTP interface: FastAPI routes that translate requests and call the services."""
