"""Rendering only what changed: job keys, digests, the output manifest and staged writes."""
