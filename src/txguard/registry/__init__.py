"""Model governance: versions stored as verified artifacts, and which one serves."""
