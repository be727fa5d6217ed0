"""Relational storage: SQLAlchemy 2 typed rows, engines, bulk writes and shipped migrations.

Rows never leave this package as ORM objects for the layers above; repositories return
domain types or plain values.
"""
