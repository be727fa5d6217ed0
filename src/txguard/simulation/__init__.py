"""The handbook's generative process of card transactions with known fraud (SIMULATOR.md)."""

from txguard.simulation.generator import SimulationParams, simulate

__all__ = ["SimulationParams", "simulate"]
