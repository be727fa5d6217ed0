"""Bringing transaction history (with its labels) into the database in bulk."""
