"""The handbook's generative process of card transactions with known fraud (SIMULATOR.md)."""
