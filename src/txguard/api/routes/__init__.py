"""One module per area of the API; each route declares who may call it."""
