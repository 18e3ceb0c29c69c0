"""Seeded task generators, one module per family, each with its reference solver."""
