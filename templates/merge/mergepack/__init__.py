"""Evolutionary model merging at small scale: world, model, merge operators, searches."""
