"""Shared kernel: cross-cutting infrastructure only (no domain rule lives here)."""
