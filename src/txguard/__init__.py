"""txguard: real-time card transaction fraud detection.

The package is layered as DESIGN.md draws it: ``domain`` (plain types) at the bottom, then
adapters (``store``, ``files``), core logic (``simulation``), services (``ingest``,
``security``) and interfaces (``cli``) on top. Import direction is checked by import-linter.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
