"""Synthetic agents (IVR): call flows, validator, executor over ARI. Not built yet."""
