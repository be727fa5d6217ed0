"""The scoring services: one pipeline for every entry point, and the rules it runs."""
