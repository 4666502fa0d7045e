"""Remembered results: what a result depends on (inputs), where it is kept (store), full-check's steps (steps)."""
