"""Transaction files: detect the layout, read and validate in chunks, write by extension."""
