"""Invariant checks run after (and during) every execution."""
